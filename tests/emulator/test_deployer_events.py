"""The deployer's resource events (CloudFormation's statuses) and its rollback of a failed
create or update, against the same in-process moto server as test_deployer.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_deployer
from cloudformation_helpers import FAILING_API_RESOURCES, INLINE_FUNCTION_RESOURCE
from test_deployer import Cloud, physical, write

from workshop.emulator.deployer import ProvisionError, ResourceEvent

# test_deployer's fixtures: a moto server for this module and a fresh deployer per test.
moto_port, aws, cloud = test_deployer.moto_port, test_deployer.aws, test_deployer.cloud

QUEUE_AND_TOPIC = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: {name}, VisibilityTimeout: {timeout}}}
  Topic:
    Type: AWS::SNS::Topic
  Keep:
    Type: AWS::SQS::Queue
    DeletionPolicy: Retain
"""

# An API with no route cannot be deployed: API Gateway refuses the Deployment.
FAILING = "\n" + FAILING_API_RESOURCES


class Events(list):
    def __call__(self, event: ResourceEvent) -> None:
        self.append(event)

    def statuses(self) -> list[tuple[str, str]]:
        return [(event.logical_id, event.status) for event in self]


def queue_timeout(cloud: Cloud, url: str) -> str:
    reply = cloud.client("sqs").get_queue_attributes(QueueUrl=url,
                                                     AttributeNames=["VisibilityTimeout"])
    return reply["Attributes"]["VisibilityTimeout"]


def test_create_update_replace_and_delete_are_announced(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, QUEUE_AND_TOPIC.format(name="a", timeout=30))
    events = Events()
    cloud.deployer.deploy(path, on_event=events)
    assert events.statuses() == [
        ("Queue", "CREATE_IN_PROGRESS"), ("Queue", "CREATE_COMPLETE"),
        ("Topic", "CREATE_IN_PROGRESS"), ("Topic", "CREATE_COMPLETE"),
        ("Keep", "CREATE_IN_PROGRESS"), ("Keep", "CREATE_COMPLETE")]
    assert events[0].physical_id == "" and events[1].physical_id.endswith("/a")
    assert events[3].resource_type == "AWS::SNS::Topic"

    events.clear()
    cloud.deployer.execute(cloud.deployer.plan(path), on_event=events)
    assert events == []  # unchanged: nothing happens, nothing is said

    write(tmp_path, QUEUE_AND_TOPIC.format(name="b", timeout=30))
    cloud.deployer.deploy(path, on_event=events)
    assert events.statuses() == [("Queue", "UPDATE_IN_PROGRESS"), ("Queue", "UPDATE_COMPLETE"),
                                 ("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE")]
    assert events[0].reason.startswith("Requested update requires the creation of a new")
    assert events[1].physical_id.endswith("/b") and events[3].physical_id.endswith("/a")

    events.clear()
    cloud.deployer.delete(on_event=events)
    assert events.statuses() == [
        ("Keep", "DELETE_SKIPPED"),
        ("Topic", "DELETE_IN_PROGRESS"), ("Topic", "DELETE_COMPLETE"),
        ("Queue", "DELETE_IN_PROGRESS"), ("Queue", "DELETE_COMPLETE")]


def test_a_failed_create_rolls_everything_back(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:" + FAILING)
    events = Events()
    with pytest.raises(ProvisionError, match="At least one route is required") as failure:
        cloud.deployer.deploy(path, on_event=events)
    assert failure.value.rolled_back and failure.value.logical_id == "Nothing"
    assert events.statuses() == [
        ("Api", "CREATE_IN_PROGRESS"), ("Api", "CREATE_COMPLETE"),
        ("Nothing", "CREATE_IN_PROGRESS"), ("Nothing", "CREATE_FAILED"),
        ("Api", "DELETE_IN_PROGRESS"), ("Api", "DELETE_COMPLETE")]
    assert "At least one route is required" in events[3].reason
    assert cloud.apis.real.api_ids() == [] and cloud.deployer.stacks() == []


def test_a_failed_update_puts_the_stack_back(cloud: Cloud, tmp_path: Path) -> None:
    first = write(tmp_path, QUEUE_AND_TOPIC.format(name="a", timeout=30), "first.yaml")
    cloud.deployer.deploy(first)
    before = cloud.deployer.describe()["resources"]
    url = physical(cloud, "workshop", "Queue")
    second = write(tmp_path, QUEUE_AND_TOPIC.format(name="a", timeout=60).replace(
        "  Topic:\n    Type: AWS::SNS::Topic\n", "") + FAILING, "second.yaml")
    events = Events()
    with pytest.raises(ProvisionError) as failure:
        cloud.deployer.deploy(second, on_event=events)
    assert failure.value.rolled_back
    assert events.statuses() == [
        ("Queue", "UPDATE_IN_PROGRESS"), ("Queue", "UPDATE_COMPLETE"),
        ("Api", "CREATE_IN_PROGRESS"), ("Api", "CREATE_COMPLETE"),
        ("Nothing", "CREATE_IN_PROGRESS"), ("Nothing", "CREATE_FAILED"),
        ("Api", "DELETE_IN_PROGRESS"), ("Api", "DELETE_COMPLETE"),
        ("Queue", "UPDATE_IN_PROGRESS"), ("Queue", "UPDATE_COMPLETE")]
    # The topic the new template dropped was never deleted: clean-up comes last.
    assert len(cloud.client("sns").list_topics()["Topics"]) == 1
    assert queue_timeout(cloud, url) == "30" and cloud.apis.real.api_ids() == []
    assert cloud.deployer.describe()["resources"] == before
    cloud.aws.calls.clear()
    again = cloud.deployer.deploy(first)  # the stack is exactly as the first template says
    assert again.unchanged == ["Queue", "Topic", "Keep"] and cloud.aws.calls == []


def test_a_rollback_that_fails_says_so_and_keeps_what_is_left(cloud: Cloud,
                                                              tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n" + INLINE_FUNCTION_RESOURCE + FAILING)

    def refuse(name: str) -> None:
        raise RuntimeError(f"cannot delete {name} now")

    cloud.runtime.delete_function = refuse  # type: ignore[method-assign]
    events = Events()
    with pytest.raises(ProvisionError) as failure:
        cloud.deployer.deploy(path, on_event=events)
    assert not failure.value.rolled_back
    assert ("Fn", "DELETE_FAILED") in events.statuses()
    assert ("Api", "DELETE_COMPLETE") in events.statuses()
    assert [r["logical_id"] for r in cloud.deployer.describe()["resources"]] == ["Fn"]


INLINE = "Resources:\n" + INLINE_FUNCTION_RESOURCE + """  Queue:
    Type: AWS::SQS::Queue
"""


def test_a_delete_that_fails_keeps_the_rest_to_delete_again(cloud: Cloud,
                                                            tmp_path: Path) -> None:
    cloud.deployer.deploy(write(tmp_path, INLINE))
    real_delete = cloud.runtime.delete_function

    def refuse(name: str) -> None:
        raise RuntimeError("busy")

    cloud.runtime.delete_function = refuse  # type: ignore[method-assign]
    events = Events()
    with pytest.raises(ProvisionError, match="Fn: could not delete AWS::Lambda::Function: "
                       "busy") as failure:
        cloud.deployer.delete(on_event=events)
    assert not failure.value.rolled_back
    assert events.statuses()[-2:] == [("Fn", "DELETE_IN_PROGRESS"), ("Fn", "DELETE_FAILED")]
    assert [r["logical_id"] for r in cloud.deployer.describe()["resources"]] == ["Fn"]
    cloud.runtime.delete_function = real_delete  # type: ignore[method-assign]
    assert cloud.deployer.delete().deleted == ["Fn"] and cloud.deployer.stacks() == []


def test_a_failed_clean_up_is_a_warning_as_on_aws(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, INLINE)
    cloud.deployer.deploy(path)
    cloud.runtime.delete_function = lambda name: 1 / 0  # type: ignore[method-assign]
    write(tmp_path, "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")
    events = Events()
    report = cloud.deployer.deploy(path, on_event=events)
    assert report.deleted == ["Fn"] and events.statuses() == [
        ("Fn", "DELETE_IN_PROGRESS"), ("Fn", "DELETE_FAILED")]
    assert report.warnings == ["Fn: could not be deleted, so it was left in place: "
                               "division by zero"]
    assert [r["logical_id"] for r in cloud.deployer.describe()["resources"]] == ["Queue"]
