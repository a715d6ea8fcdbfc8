"""The local cloud's CloudFormation API, through boto3's cloudformation client and its
waiters, as the SAM CLI and the AWS CLI use it."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, WaiterError
from cloudformation_helpers import FAILING_API, FAST, LAMBDA_ROLE_RESOURCE, unique, wait

from workshop import cloud as lifecycle
from workshop.emulator.cloudformation_stacks import NO_CHANGES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation"

QUEUES = """
Description: two queues and a topic
Parameters:
  Timeout: {{Type: Number, Default: 30}}
Resources:
  Work:
    Type: AWS::SQS::Queue
    Properties: {{VisibilityTimeout: !Ref Timeout}}
  Named:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: {name}}}
{extra}
Outputs:
  WorkUrl:
    Description: where work goes
    Value: !Ref Work
    Export: {{Name: !Sub "${{AWS::StackName}}-work"}}
"""
TOPIC = """  Topic:
    Type: AWS::SNS::Topic
"""
ROLE = "Resources:\n" + LAMBDA_ROLE_RESOURCE
SAM_FUNCTION = """Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return 'hi'\\n"
"""


def queues(name: str, *, extra: str = TOPIC) -> str:
    return QUEUES.format(name=name, extra=extra)


def change_set(cfn, stack: str, body: str, *, kind: str = "UPDATE", **options) -> dict:
    """Create a change set and wait for it to be ready (or to fail)."""
    reply = cfn.create_change_set(StackName=stack, ChangeSetName=unique("cs"),
                                  TemplateBody=body, ChangeSetType=kind, **options)
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=reply["Id"], WaiterConfig=FAST)
    except WaiterError:
        pass  # FAILED: the caller looks at the reason
    return cfn.describe_change_set(ChangeSetName=reply["Id"])


def deploy(cfn, stack: str, body: str, *, kind: str = "UPDATE", **options) -> dict:
    described = change_set(cfn, stack, body, kind=kind, **options)
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    wait(cfn, waiter, stack)
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]


def resource_changes(described: dict) -> dict[str, tuple[str, str | None]]:
    return {c["ResourceChange"]["LogicalResourceId"]: (c["ResourceChange"]["Action"],
                                                      c["ResourceChange"].get("Replacement"))
            for c in described["Changes"]}


def test_a_change_set_creates_a_stack_that_reads_like_cloudformations(cfn) -> None:
    stack = unique("cs-create")
    described = change_set(cfn, stack, queues(unique("q")), kind="CREATE",
                           Tags=[{"Key": "team", "Value": "games"}],
                           Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "45"}])
    assert described["ExecutionStatus"] == "AVAILABLE"
    assert resource_changes(described) == {"Work": ("Add", None), "Named": ("Add", None),
                                           "Topic": ("Add", None)}
    # A stack made by a change set waits for review until the change set runs.
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == \
        "REVIEW_IN_PROGRESS"

    cfn.execute_change_set(ChangeSetName=described["ChangeSetName"], StackName=stack)
    wait(cfn, "stack_create_complete", stack)
    described_stack = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described_stack["StackStatus"] == "CREATE_COMPLETE"
    assert described_stack["Description"] == "two queues and a topic"
    assert described_stack["Tags"] == [{"Key": "team", "Value": "games"}]
    assert described_stack["Parameters"] == [{"ParameterKey": "Timeout",
                                              "ParameterValue": "45"}]
    [output] = described_stack["Outputs"]
    assert output["OutputKey"] == "WorkUrl" and output["Description"] == "where work goes"
    assert output["ExportName"] == f"{stack}-work"
    assert output["OutputValue"] == lifecycle.outputs(stack_name=stack)["WorkUrl"]

    listed = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    workshop = lifecycle.stack(stack_name=stack)["resources"]
    assert {(r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
            for r in listed} == {(r["logical_id"], r["type"], r["physical_id"])
                                 for r in workshop}
    assert {r["ResourceStatus"] for r in listed} == {"CREATE_COMPLETE"}
    detail = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Work")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == output["OutputValue"]
    [topic] = cfn.describe_stack_resources(StackName=stack,
                                           LogicalResourceId="Topic")["StackResources"]
    assert topic["ResourceType"] == "AWS::SNS::Topic" and topic["StackName"] == stack

    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == \
        (stack, "CREATE_COMPLETE")  # newest first
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == stack] == [
        "CREATE_COMPLETE", "CREATE_IN_PROGRESS", "REVIEW_IN_PROGRESS"]


def test_an_update_shows_adds_modifies_and_removes(cfn) -> None:
    stack = unique("cs-update")
    deploy(cfn, stack, queues(unique("q")), kind="CREATE")
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}
    added = "  Extra:\n    Type: AWS::SNS::Topic\n"
    described = change_set(cfn, stack, queues(unique("renamed"), extra=added),
                           Parameters=[{"ParameterKey": "Timeout", "ParameterValue": "90"}])
    assert resource_changes(described) == {
        "Work": ("Modify", "False"), "Named": ("Modify", "True"),
        "Extra": ("Add", None), "Topic": ("Remove", None)}
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
               for c in described["Changes"]}
    assert changes["Topic"]["PhysicalResourceId"] == before["Topic"]
    assert [d["Target"]["Name"] for d in changes["Work"]["Details"]] == ["VisibilityTimeout"]
    assert changes["Work"]["Scope"] == ["Properties"]

    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    wait(cfn, "stack_update_complete", stack)
    after = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert after["StackStatus"] == "UPDATE_COMPLETE" and "LastUpdatedTime" in after
    assert after["Parameters"] == [{"ParameterKey": "Timeout", "ParameterValue": "90"}]
    statuses = [e["ResourceStatus"] for e in cfn.describe_stack_events(
        StackName=stack)["StackEvents"] if e["LogicalResourceId"] == stack]
    assert statuses[:3] == ["UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                            "UPDATE_IN_PROGRESS"]
    listed = {r["LogicalResourceId"] for r in
              cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}
    assert listed == {"Work", "Named", "Extra"}


def test_a_change_set_without_changes_fails_with_cloudformations_words(cfn) -> None:
    stack = unique("cs-same")
    body = queues(unique("q"))
    deploy(cfn, stack, body, kind="CREATE")
    described = change_set(cfn, stack, body)
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == NO_CHANGES  # the SAM CLI: "No changes to deploy"
    with pytest.raises(ClientError) as refused:
        cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert refused.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    # Previous values are reused as asked.
    again = change_set(cfn, stack, body, Parameters=[{"ParameterKey": "Timeout",
                                                      "UsePreviousValue": True}])
    assert again["StatusReason"] == NO_CHANGES
    # The executed change set is no longer listed; the two failed ones are, until deleted.
    listed = cfn.list_change_sets(StackName=stack)["Summaries"]
    assert {c["ChangeSetId"] for c in listed} == {described["ChangeSetId"], again["ChangeSetId"]}
    cfn.delete_change_set(ChangeSetName=again["ChangeSetId"])
    assert [c["ChangeSetId"] for c in cfn.list_change_sets(StackName=stack)["Summaries"]] == [
        described["ChangeSetId"]]


def test_a_failed_create_rolls_back_and_then_only_delete_is_allowed(cfn) -> None:
    stack = unique("cs-fail")
    described = change_set(cfn, stack, FAILING_API, kind="CREATE")
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    with pytest.raises(WaiterError):
        wait(cfn, "stack_create_complete", stack)
    failed = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    failure = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failure["LogicalResourceId"] == "Nothing"
    assert "At least one route is required" in failure["ResourceStatusReason"]
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == stack][:2] == [
        "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS"]

    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(StackName=stack, ChangeSetName="again", TemplateBody=FAILING_API)
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert refused.value.response["Error"]["Message"] == (
        f"Stack:{failed['StackId']} is in ROLLBACK_COMPLETE state and can not be updated.")

    cfn.delete_stack(StackName=stack)
    wait(cfn, "stack_delete_complete", stack)
    summaries = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert failed["StackId"] in {s["StackId"] for s in summaries}
    # By id a deleted stack is still described; by name it no longer exists.
    assert cfn.describe_stacks(StackName=failed["StackId"])["Stacks"][0]["StackStatus"] == \
        "DELETE_COMPLETE"


def test_iam_resources_need_the_capability(cfn) -> None:
    stack = unique("cs-iam")
    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(StackName=stack, ChangeSetName="c", TemplateBody=ROLE,
                              ChangeSetType="CREATE")
    error = refused.value.response["Error"]
    assert error["Code"] == "InsufficientCapabilitiesException"
    assert error["Message"] == "Requires capabilities : [CAPABILITY_IAM]"
    # With a transform, the check comes after processing: the change set fails.
    described = change_set(cfn, stack, SAM_FUNCTION, kind="CREATE")
    assert described["Status"] == "FAILED"
    assert described["StatusReason"] == "Requires capabilities : [CAPABILITY_IAM]"
    done = deploy(cfn, unique("cs-sam"), SAM_FUNCTION, kind="CREATE",
                  Capabilities=["CAPABILITY_IAM"])
    assert done["StackStatus"] == "CREATE_COMPLETE"
    assert done["Capabilities"] == ["CAPABILITY_IAM"]
    original = cfn.get_template(StackName=done["StackId"])["TemplateBody"]
    processed = cfn.get_template(StackName=done["StackId"], TemplateStage="Processed")
    assert original == SAM_FUNCTION
    # JSON, as CloudFormation answers it (botocore decodes a JSON TemplateBody).
    assert processed["TemplateBody"]["Resources"]["Hello"]["Type"] == "AWS::Lambda::Function"


def test_an_unknown_stack_is_refused_in_cloudformations_words(cfn) -> None:
    for call, message in (
            (lambda: cfn.describe_stacks(StackName="nowhere"),
             "Stack with id nowhere does not exist"),
            (lambda: cfn.list_stack_resources(StackName="nowhere"),
             "Stack with id nowhere does not exist"),
            (lambda: cfn.describe_stack_events(StackName="nowhere"),
             "Stack [nowhere] does not exist"),
            (lambda: cfn.create_change_set(StackName="nowhere", ChangeSetName="c",
                                           TemplateBody=ROLE),
             "Stack [nowhere] does not exist")):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"] == {
            "Type": "Sender", "Code": "ValidationError", "Message": message}
    cfn.delete_stack(StackName="nowhere")  # CloudFormation answers success


def test_a_workshop_deploy_is_a_stack_too(cfn, tmp_path: Path) -> None:
    stack = unique("ws")
    template = tmp_path / "template.yaml"
    template.write_text(queues(unique("q")))
    lifecycle.deploy(template, stack_name=stack)
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]} == \
        lifecycle.outputs(stack_name=stack)
    assert cfn.get_template(StackName=stack)["TemplateBody"] == template.read_text()
    template.write_text(queues(unique("q2")))
    lifecycle.deploy(template, stack_name=stack)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == \
        "UPDATE_COMPLETE"
    lifecycle.delete(stack_name=stack)
    assert cfn.describe_stacks(StackName=described["StackId"])["Stacks"][0]["StackStatus"] \
        == "DELETE_COMPLETE"


def test_templates_from_the_local_s3_and_their_summaries(cfn) -> None:
    s3 = boto3.client("s3")
    bucket = unique("templates")
    s3.create_bucket(Bucket=bucket)
    body = queues(unique("q"))
    s3.put_object(Bucket=bucket, Key="t/template.yaml", Body=body.encode())
    url = f"{s3.meta.endpoint_url}/{bucket}/t/template.yaml"

    validated = cfn.validate_template(TemplateURL=url)
    assert validated["Description"] == "two queues and a topic"
    assert validated["Parameters"] == [{"ParameterKey": "Timeout", "DefaultValue": "30",
                                        "NoEcho": False, "Description": ""}]
    summary = cfn.get_template_summary(TemplateBody=SAM_FUNCTION)
    assert summary["DeclaredTransforms"] == ["AWS::Serverless-2016-10-31"]
    assert summary["ResourceTypes"] == ["AWS::Serverless::Function"]

    stack = unique("url")
    reply = cfn.create_stack(StackName=stack, TemplateURL=url)
    wait(cfn, "stack_create_complete", reply["StackId"])
    assert cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"] == body
    with pytest.raises(ClientError) as refused:
        cfn.update_stack(StackName=stack, TemplateURL=url)
    assert refused.value.response["Error"]["Message"] == "No updates are to be performed."
    with pytest.raises(ClientError) as missing:
        cfn.validate_template(TemplateURL=f"{s3.meta.endpoint_url}/{bucket}/absent.yaml")
    assert missing.value.response["Error"]["Message"].startswith("S3 error: ")


def test_the_sam_cli_managed_stack_is_created_and_its_bucket_takes_uploads(cfn) -> None:
    """What ``sam deploy --resolve-s3`` does first, call for call (samcli's
    managed_cloudformation_stack._create_stack), then its upload of the code."""
    stack = unique("aws-sam-cli-managed")
    reply = cfn.create_change_set(
        StackName=stack, TemplateBody=(FIXTURES / "sam-cli-managed-stack.json").read_text(),
        Tags=[{"Key": "ManagedStackSource", "Value": "AwsSamCli"}], ChangeSetType="CREATE",
        ChangeSetName="InitialCreation", Capabilities=["CAPABILITY_IAM"], Parameters=[])
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName="InitialCreation", StackName=stack, WaiterConfig=FAST)
    cfn.execute_change_set(ChangeSetName="InitialCreation", StackName=stack)
    wait(cfn, "stack_create_complete", reply["StackId"])
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["Tags"] == [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}]
    [output] = described["Outputs"]
    assert output["OutputKey"] == "SourceBucket"
    # The bucket policy denies s3:* when aws:SecureTransport is false: the local endpoint
    # stands in for S3's HTTPS one, so the SAM CLI's uploads are allowed.
    s3 = boto3.client("s3")
    s3.put_object(Bucket=output["OutputValue"], Key="code.zip", Body=b"zip")
    assert s3.get_object(Bucket=output["OutputValue"], Key="code.zip")["Body"].read() == b"zip"


def test_a_template_the_deployer_refuses_fails_its_change_set_with_the_reason(cfn) -> None:
    body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Ref Nope}\n"
    described = change_set(cfn, unique("cs-bad"), body, kind="CREATE")
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "Ref to 'Nope'" in described["StatusReason"]
    assert "cloudformation/" not in described["StatusReason"]  # not our file's path
    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(StackName=unique("cs-bad"), ChangeSetName="c",
                              TemplateBody="Resources: {}", ChangeSetType="CREATE")
    assert refused.value.response["Error"]["Message"] == (
        "Template format error: At least one Resources member must be defined.")


def test_a_quick_operation_is_finished_when_its_call_answers(cfn) -> None:
    """The SAM CLI's waiters poll once at once and then every 15-30 s: a change set, an
    execution and a deletion the local cloud finishes in a moment are already done when the
    call that started them answers, so their first poll sees the end."""
    name = unique("settled")
    created = cfn.create_change_set(StackName=name, ChangeSetName="first",
                                    ChangeSetType="CREATE", TemplateBody=queues(unique("q")))
    change_set = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert change_set["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(ChangeSetName=created["Id"])
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)
