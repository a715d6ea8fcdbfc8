"""Nested stacks (AWS::CloudFormation::Stack) through the local CloudFormation API: the
child template from the local S3, a child stack of its own, its outputs used by the
parent (a function's Layers, as ``sam sync``'s dependency layer does), updates, deletion
with the parent, and rollback."""

from __future__ import annotations

import io
import json
import re
import zipfile

import boto3
import pytest
from botocore.exceptions import WaiterError
from cloudformation_helpers import FAILING_API, FAILING_API_RESOURCES, FAST, unique, wait

CHILD = """Description: a layer for the parent's function
Parameters:
  LayerName: {{Type: String}}
Resources:
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      LayerName: !Ref LayerName
      Content: {{S3Bucket: {bucket}, S3Key: {key}}}
Outputs:
  LayerArn:
    Value: !Ref Layer
"""
PARENT = """Transform: AWS::Serverless-2016-10-31
Resources:
  Deps:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: {url}
      Parameters: {{LayerName: {layer}}}
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Layers: [!GetAtt Deps.Outputs.LayerArn]
      InlineCode: "import greeting\\ndef handler(event, context):\\n    return greeting.TEXT\\n"
Outputs:
  Child:
    Value: !Ref Deps
  Function:
    Value: !Ref Hello
"""
QUEUE_THEN_CHILD = """Resources:
  Queue:
    Type: AWS::SQS::Queue
  Child:
    Type: AWS::CloudFormation::Stack
    DependsOn: Queue
    Properties: {{TemplateURL: {url}}}
"""
# The child is made, then a resource after it fails: the parent's rollback deletes it.
LATE_FAILURE_PARENT = """Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties: {{TemplateURL: {url}}}
  Api:
    Type: AWS::ApiGatewayV2::Api
    DependsOn: Child
    Properties: {{Name: ws, ProtocolType: WEBSOCKET,
                  RouteSelectionExpression: $request.body.action}}
  Nothing:
    Type: AWS::ApiGatewayV2::Deployment
    Properties: {{ApiId: !Ref Api}}
"""
QUEUE_CHILD = """Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Url: {Value: !Ref Queue}
"""


@pytest.fixture
def bucket(cloud: dict) -> str:
    name = unique("nested")
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def put(bucket: str, key: str, body: bytes) -> str:
    """Upload to the local S3; the object's URL, as ``sam package`` writes TemplateURL."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"{s3.meta.endpoint_url}/{bucket}/{key}"


def layer_zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/greeting.py", f"TEXT = {text!r}\n")
    return buffer.getvalue()


def child_template(bucket: str, text: str) -> str:
    """A child template whose layer says ``text``, uploaded; its URL."""
    key = unique("layer") + ".zip"
    put(bucket, key, layer_zip(text))
    return put(bucket, unique("child") + ".yaml",
               CHILD.format(bucket=bucket, key=key).encode())


def outputs(cfn, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def invoke(name: str) -> object:
    reply = boto3.client("lambda").invoke(FunctionName=name)
    return json.loads(reply["Payload"].read())


def create_with_child(cfn, bucket: str, stack: str, child: str, *,
                      parent: str = QUEUE_THEN_CHILD) -> str:
    """Upload template ``child``, start creating ``stack`` from ``parent`` that nests it;
    the stack's id (the caller waits: some of these creates fail)."""
    url = put(bucket, unique("child") + ".yaml", child.encode())
    return cfn.create_stack(StackName=stack, TemplateBody=parent.format(url=url))["StackId"]


def child_id_of(cfn, stack: str) -> str:
    """The stack id of ``stack``'s nested stack Child."""
    [row] = cfn.describe_stack_resources(StackName=stack, LogicalResourceId="Child")[
        "StackResources"]
    return row["PhysicalResourceId"]


def children(cfn, parent_id: str) -> list[dict]:
    """The summaries of the stacks nested in stack ``parent_id``, deleted ones too."""
    return [s for s in cfn.list_stacks()["StackSummaries"] if s.get("ParentId") == parent_id]


def statuses(cfn, stack: str) -> list[tuple[str, str, str]]:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
            for e in reversed(events)]


def test_a_nested_stacks_outputs_feed_the_parent_and_it_updates_and_goes_with_it(
        cfn, bucket: str) -> None:
    stack, layer = unique("parent"), unique("deps")
    url = child_template(bucket, "hello")
    reply = cfn.create_stack(StackName=stack, TemplateBody=PARENT.format(url=url, layer=layer),
                             Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    wait(cfn, "stack_create_complete", stack)
    parent_id = reply["StackId"]

    values = outputs(cfn, stack)
    child_id = values["Child"]
    child = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert re.fullmatch(rf"{stack}-Deps-[A-Z0-9]{{13}}", child["StackName"])
    assert re.fullmatch(rf"arn:aws[-a-z]*:cloudformation:[-a-z0-9]+:\d{{12}}:stack/"
                        rf"{child['StackName']}/[-0-9a-f]+", child_id)
    assert (child["ParentId"], child["RootId"]) == (parent_id, parent_id)
    assert child["StackStatus"] == "CREATE_COMPLETE"
    assert child["Parameters"] == [{"ParameterKey": "LayerName", "ParameterValue": layer}]
    [child_output] = child["Outputs"]
    assert child_output["OutputKey"] == "LayerArn"
    assert f":layer:{layer}:" in child_output["OutputValue"]
    summaries = {s["StackName"]: s for s in cfn.list_stacks()["StackSummaries"]}
    assert summaries[child["StackName"]]["ParentId"] == parent_id
    [row] = cfn.describe_stack_resources(StackName=stack, LogicalResourceId="Deps")[
        "StackResources"]
    assert (row["ResourceType"], row["PhysicalResourceId"]) == (
        "AWS::CloudFormation::Stack", child_id)
    assert [r["LogicalResourceId"] for r in cfn.list_stack_resources(
        StackName=child["StackName"])["StackResourceSummaries"]] == ["Layer"]
    assert ("Layer", "CREATE_COMPLETE", "") in statuses(cfn, child_id)
    assert invoke(values["Function"]) == "hello"

    # A new child template (new layer content) updates the child, then the function.
    cfn.update_stack(StackName=stack, TemplateBody=PARENT.format(
        url=child_template(bucket, "bonjour"), layer=layer),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    wait(cfn, "stack_update_complete", stack)
    updated = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(cfn, stack)["Child"] == child_id  # the same child stack
    assert invoke(values["Function"]) == "bonjour"

    cfn.delete_stack(StackName=stack)
    wait(cfn, "stack_delete_complete", parent_id)
    gone = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    assert boto3.client("lambda").list_layer_versions(LayerName=layer)["LayerVersions"] == []


def test_a_failing_child_rolls_the_parent_back(cfn, bucket: str) -> None:
    stack = unique("rollback")
    stack_id = create_with_child(cfn, bucket, stack, FAILING_API)
    with pytest.raises(WaiterError):
        wait(cfn, "stack_create_complete", stack)
    parent = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert parent["StackStatus"] == "ROLLBACK_COMPLETE"
    [(reason)] = [r for logical, status, r in statuses(cfn, stack)
                  if (logical, status) == ("Child", "CREATE_FAILED")]
    assert re.fullmatch(
        rf"Embedded stack arn:aws[-a-z]*:cloudformation:[^ ]+:stack/{stack}-Child-[A-Z0-9]{{13}}/"
        r"[-0-9a-f]+ was not successfully created: The following resource\(s\) failed to "
        r"create: \[Nothing\]\.", reason)
    assert ("Queue", "DELETE_COMPLETE", "") in statuses(cfn, stack)
    assert [s["StackStatus"] for s in children(cfn, stack_id)] == ["DELETE_COMPLETE"]


def test_the_parents_rollback_deletes_a_child_it_created(cfn, bucket: str) -> None:
    stack = unique("late")
    stack_id = create_with_child(cfn, bucket, stack, QUEUE_CHILD, parent=LATE_FAILURE_PARENT)
    with pytest.raises(WaiterError):
        wait(cfn, "stack_create_complete", stack)
    events = statuses(cfn, stack)
    assert ("Child", "CREATE_COMPLETE", "") in events
    assert ("Child", "DELETE_COMPLETE", "") in events
    [child] = children(cfn, stack_id)
    assert child["StackStatus"] == "DELETE_COMPLETE"
    queue_events = statuses(cfn, child["StackId"])
    assert ("Queue", "DELETE_COMPLETE", "") in queue_events


def test_a_broken_child_template_fails_the_change_set(cfn, bucket: str) -> None:
    stack = unique("broken")
    url = put(bucket, unique("broken") + ".yaml",
              b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {Bad: !Ref Nope}\n")
    reply = cfn.create_change_set(StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE",
                                  TemplateBody=QUEUE_THEN_CHILD.format(url=url))
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=reply["Id"],
                                                           WaiterConfig=FAST)
    described = cfn.describe_change_set(ChangeSetName=reply["Id"])
    assert described["Status"] == "FAILED"
    assert "Nope" in described["StatusReason"]


def test_a_code_update_keeps_a_layer_version_deleted_through_the_lambda_api(
        cfn, bucket: str) -> None:
    """`sam sync --code` publishes a new dependency layer version and deletes the one the
    nested stack made; the next infrastructure sync changes only the function's code, so
    CloudFormation leaves its Layers alone (and Lambda keeps a deleted version for the
    functions that have it): the update succeeds."""
    stack, layer = unique("drift"), unique("deps")
    url = child_template(bucket, "hello")
    cfn.create_stack(StackName=stack, TemplateBody=PARENT.format(url=url, layer=layer),
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    wait(cfn, "stack_create_complete", stack)
    lam = boto3.client("lambda")
    [version] = lam.list_layer_versions(LayerName=layer)["LayerVersions"]
    lam.delete_layer_version(LayerName=layer, VersionNumber=version["Version"])

    changed = PARENT.format(url=url, layer=layer).replace(
        "return greeting.TEXT", "return greeting.TEXT + '!'")
    cfn.update_stack(StackName=stack, TemplateBody=changed,
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    wait(cfn, "stack_update_complete", stack)
    assert invoke(outputs(cfn, stack)["Function"]) == "hello!"


def test_a_child_deleted_directly_is_gone_and_the_parent_still_deletes(cfn, bucket: str
                                                                       ) -> None:
    """CloudFormation lets DeleteStack delete a nested stack (only a root stack's
    termination protection would stop it); the parent's delete then counts it deleted."""
    stack = unique("direct")
    stack_id = create_with_child(cfn, bucket, stack, QUEUE_CHILD)
    wait(cfn, "stack_create_complete", stack)
    child_id = child_id_of(cfn, stack)
    cfn.delete_stack(StackName=child_id)
    wait(cfn, "stack_delete_complete", child_id)

    cfn.delete_stack(StackName=stack)
    wait(cfn, "stack_delete_complete", stack_id)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == \
        "DELETE_COMPLETE"
    assert ("Child", "DELETE_COMPLETE", "") in statuses(cfn, stack_id)


def test_a_child_whose_update_fails_rolls_back_with_its_parent(cfn, bucket: str) -> None:
    stack = unique("update-fails")
    create_with_child(cfn, bucket, stack, QUEUE_CHILD)
    wait(cfn, "stack_create_complete", stack)
    child_id = child_id_of(cfn, stack)
    queue_url = outputs(cfn, child_id)["Url"]

    broken = QUEUE_CHILD.replace("Outputs:", FAILING_API_RESOURCES + "Outputs:")
    failing_url = put(bucket, unique("failing") + ".yaml", broken.encode())
    cfn.update_stack(StackName=stack, TemplateBody=QUEUE_THEN_CHILD.format(url=failing_url))
    with pytest.raises(WaiterError):
        wait(cfn, "stack_update_complete", stack)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == \
        "UPDATE_ROLLBACK_COMPLETE"
    child = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert child["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert [r["LogicalResourceId"] for r in cfn.list_stack_resources(
        StackName=child_id)["StackResourceSummaries"]] == ["Queue"]
    boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url)  # still there
    [reason] = [r for logical, status, r in statuses(cfn, stack)
                if (logical, status) == ("Child", "UPDATE_FAILED")]
    assert reason.endswith("was not successfully updated: The following resource(s) failed "
                           "to update: [Nothing].")
