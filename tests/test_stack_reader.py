"""Stacks read with plain boto3 CloudFormation: the same outputs and resources on both
targets (the aws target pointed at the local cloud: only the endpoint differs), and a
missing stack or a stopped cloud said in one line with the next step."""

from __future__ import annotations

import socket

import pytest

from workshop import aws_target, stack_reader
from workshop import cloud as lifecycle
from workshop.notebook import tables

STACK = "reader-stack"
TEMPLATE = """\
Resources:
  Work:
    Type: AWS::SQS::Queue
  News:
    Type: AWS::SNS::Topic
Outputs:
  WorkUrl:
    Value: !Ref Work
  NewsArn:
    Value: !Ref News
"""


@pytest.fixture(scope="module")
def deployed(cloud: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    template = tmp_path_factory.mktemp("reader") / "template.yaml"
    template.write_text(TEMPLATE)
    return lifecycle.deploy(template, stack_name=STACK)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_outputs_and_resources_are_cloudformations_on_both_targets(
        deployed: dict, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(aws_target.LEARNER_VARIABLE, raising=False)
    assert stack_reader.outputs(STACK, target=target) == deployed["outputs"] == \
        lifecycle.outputs(stack_name=STACK)
    listed = {(r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
              for r in stack_reader.resources(STACK, target=target)}
    admin = {(r["logical_id"], r["type"], r["physical_id"])
             for r in lifecycle.stack(stack_name=STACK)["resources"]}
    assert listed == admin and {row[0] for row in listed} == {"Work", "News"}


def test_aws_targets_reads_go_through_the_reader(deployed: dict) -> None:
    assert aws_target.outputs(STACK) == deployed["outputs"]
    assert aws_target.describe_stack(STACK)["StackStatus"] in ("CREATE_COMPLETE",
                                                                "UPDATE_COMPLETE")


def test_the_notebooks_stack_table_is_list_stack_resources(
        deployed: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_TARGET", "local")
    frame = tables.stack_frame(STACK)
    assert sorted(frame["logical_id"]) == ["News", "Work"]
    assert set(frame["status"]) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert tables.physical_id("Work", stack_name=STACK) == deployed["outputs"]["WorkUrl"]


@pytest.mark.parametrize(("target", "command"), [
    ("local", "`python -m workshop deploy`"),
    ("aws", "`python -m workshop deploy --target aws`")])
def test_a_missing_stack_says_how_to_deploy_it(
        cloud: dict, target: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(aws_target.LEARNER_VARIABLE, raising=False)
    assert stack_reader.describe("never-made", target=target) is None
    for read in (stack_reader.outputs, stack_reader.resources):
        with pytest.raises(stack_reader.StackMissing) as missing:
            read("never-made", target=target)
        message = str(missing.value)
        assert message.startswith("stack never-made does not exist") and command in message
        assert "\n" not in message and missing.value.reason == "missing"
        assert isinstance(missing.value, lifecycle.CloudError)   # callers catch CloudError


def test_on_aws_the_learners_stack_is_read(deployed: dict,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(aws_target.LEARNER_VARIABLE, "ada")
    assert stack_reader.deployed_name(STACK, target="aws") == f"{STACK}-ada"
    assert stack_reader.deployed_name(STACK, target="local") == STACK
    with pytest.raises(stack_reader.StackMissing, match=f"stack {STACK}-ada does not exist"):
        stack_reader.outputs(STACK, target="aws")


def test_a_stopped_local_cloud_says_how_to_start_it(
        cloud: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")   # a refused connection, not retried
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]             # nothing listens there once closed
    with pytest.raises(stack_reader.StackReadError) as down:
        stack_reader.outputs(STACK, target="local", port=port)
    assert down.value.reason == "down" and f"port {port}" in str(down.value)
    assert "python -m workshop up" in str(down.value) and "\n" not in str(down.value)


def test_workshop_outputs_is_the_reader() -> None:
    import workshop

    assert workshop.outputs is stack_reader.outputs
