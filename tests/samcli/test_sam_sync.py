"""`sam sync` as the original lab runs it, with the SAM CLI's default options: the
infrastructure sync deploys the stack with SAM's dependency layer nested stack
(AwsSamAutoDependencyLayerNestedStack), then `sam sync --code` puts a changed handler live.

The tests run in file order (sync, then sync --code) on one private cloud.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import TEST_TIME_SCALE
from workshop import cloud as local_cloud
from workshop import sam_cli

STACK = "synced"
NESTED = "AwsSamAutoDependencyLayerNestedStack"
TEMPLATE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: hello/
Outputs:
  HelloName:
    Value: !Ref Hello
"""
HANDLER = "def handler(event, context):\n    return {text!r}\n"


@pytest.fixture(scope="module")
def project(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A one-function SAM project (no requirements.txt, as the labs' handlers), and a
    private cloud for the module."""
    folder = tmp_path_factory.mktemp("syncproject")
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "hello").mkdir()
    (folder / "hello" / "app.py").write_text(HANDLER.format(text="first"))
    with local_cloud.private_cloud(time_scale=TEST_TIME_SCALE):
        os.environ["SAM_CLI_POLL_DELAY"] = "0.1"
        os.environ["__SAM_CLI_APP_DIR"] = str(tmp_path_factory.mktemp("samconfig"))
        yield folder


def sync(project: Path, *options: str) -> sam_cli.SamRun:
    try:
        return sam_cli.run(["sync", "--stack-name", STACK, "--region",
                            os.environ["AWS_DEFAULT_REGION"], *options], cwd=project,
                           echo=False, timeout=300, answers="y\n")
    except sam_cli.SamCliError as error:   # the SAM CLI's own words, to see why
        pytest.fail(f"{error}\n--- what sam printed (the end) ---\n{error.output[-6000:]}")


def invoke() -> object:
    cfn = boto3.client("cloudformation")
    [output] = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    reply = boto3.client("lambda").invoke(FunctionName=output["OutputValue"])
    return json.loads(reply["Payload"].read())


def test_sam_sync_with_the_default_dependency_layer_deploys_the_stack(project: Path) -> None:
    run = sync(project)
    assert "Sync infra completed" in run.output
    cfn = boto3.client("cloudformation")
    parent = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert parent["StackStatus"] == "CREATE_COMPLETE"
    [row] = cfn.describe_stack_resources(StackName=STACK, LogicalResourceId=NESTED)[
        "StackResources"]
    child = cfn.describe_stacks(StackName=row["PhysicalResourceId"])["Stacks"][0]
    assert re.fullmatch(rf"{STACK}-{NESTED}-[A-Z0-9]{{13}}", child["StackName"])
    assert (child["StackStatus"], child["ParentId"]) == ("CREATE_COMPLETE", parent["StackId"])
    assert invoke() == "first"


def test_sam_sync_code_puts_a_changed_handler_live(project: Path) -> None:
    (project / "hello" / "app.py").write_text(HANDLER.format(text="second"))
    sync(project, "--code")
    assert invoke() == "second"


def test_an_infrastructure_sync_after_a_code_sync_succeeds(project: Path) -> None:
    """What `sam sync --watch` does after a code sync when the template changes: the code
    sync replaced the dependency layer version the nested stack made; the update keeps
    the function's layer and the synced code."""
    template = project / "template.yaml"
    template.write_text(TEMPLATE.replace("CodeUri: hello/", "CodeUri: hello/\n      Timeout: 7"))
    run = sync(project)
    assert "Sync infra completed" in run.output
    cfn = boto3.client("cloudformation")
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    [output] = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    configuration = boto3.client("lambda").get_function_configuration(
        FunctionName=output["OutputValue"])
    assert configuration["Timeout"] == 7
    assert invoke() == "second"
