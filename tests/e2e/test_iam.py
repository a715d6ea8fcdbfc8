"""Functions and state machines act as their IAM roles, as on AWS.

One template (tests/fixtures/e2e/iam.yaml): a function whose role names one table, topic,
queue and state machine of two, with an explicit Deny and a wildcard; a state machine
whose role may invoke one function of two. Its caller function reports the error code and
message boto3 saw, so each refusal is checked as a handler sees it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import websocket

from workshop import cloud as lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEMPLATE = FIXTURES / "e2e" / "iam.yaml"
STACK = "iam"


def deploy(grant_other: str = "no") -> dict[str, str]:
    return lifecycle.deploy(TEMPLATE, stack_name=STACK,
                            parameters={"GrantOther": grant_other})["outputs"]


@pytest.fixture(scope="module")
def app(cloud: dict) -> dict[str, str]:
    return deploy()


def call(app: dict[str, str], **event: str) -> dict:
    reply = boto3.client("lambda").invoke(FunctionName=app["CallerFunctionName"],
                                          Payload=json.dumps(event).encode())
    return json.loads(reply["Payload"].read())


def role_session_of(app: dict[str, str]) -> str:
    """The caller's identity as AWS names it: assumed-role/<role>/<function name>."""
    role = boto3.client("lambda").get_function_configuration(
        FunctionName=app["CallerFunctionName"])["Role"].rsplit("/", 1)[1]
    return f"arn:aws:sts::123456789012:assumed-role/{role}/{app['CallerFunctionName']}"


def test_status_says_iam_is_on(app: dict[str, str]) -> None:
    assert lifecycle.status()["iam"] == "on"
    shown = subprocess.run([sys.executable, "-m", "workshop", "status"], capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert "IAM: on: functions and state machines may do only what their roles allow" in shown


def test_what_the_role_names_is_allowed(app: dict[str, str]) -> None:
    assert call(app, call="put_item", table=app["GrantedTableName"]) == {"ok": True}
    assert call(app, call="get_item", table=app["GrantedTableName"]) == {"ok": True}
    assert call(app, call="publish", topic=app["GrantedTopicArn"]) == {"ok": True}
    assert call(app, call="send_message", queue=app["GrantedQueueUrl"]) == {"ok": True}
    assert call(app, call="start_execution", machine=app["GrantedMachineArn"]) == {"ok": True}


@pytest.mark.parametrize("kind, event, code, status, action, resource", [
    ("table", {"call": "put_item", "table": "OtherTableName"}, "AccessDeniedException", 400,
     "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/{OtherTableName}"),
    ("topic", {"call": "publish", "topic": "OtherTopicArn"}, "AuthorizationError", 403,
     "SNS:Publish", "{OtherTopicArn}"),
    ("queue", {"call": "send_message", "queue": "OtherQueueUrl"}, "AccessDenied", 403,
     "sqs:sendmessage", "arn:aws:sqs:us-east-1:123456789012:{OtherQueueName}"),
    ("state machine", {"call": "start_execution", "machine": "OtherMachineArn"},
     "AccessDeniedException", 400, "states:StartExecution", "{OtherMachineArn}"),
])
def test_what_the_role_does_not_name_is_refused_in_the_services_words(
        app: dict[str, str], kind: str, event: dict[str, str], code: str, status: int,
        action: str, resource: str) -> None:
    names = {**app, "OtherQueueName": app["OtherQueueUrl"].rsplit("/", 1)[1]}
    answer = call(app, **{k: (app[v] if k != "call" else v) for k, v in event.items()})
    expected = resource.format(**names)
    assert answer["error"] == code and answer["status"] == status, kind
    assert answer["message"] == (
        f"User: {role_session_of(app)} is not authorized to perform: {action} on resource: "
        f"{expected} because no identity-based policy allows the {action} action")


def test_an_explicit_deny_wins_over_an_allow(app: dict[str, str]) -> None:
    answer = call(app, call="delete_item", table=app["GrantedTableName"])
    assert answer["error"] == "AccessDeniedException"
    assert answer["message"].endswith("with an explicit deny in an identity-based policy")


def test_a_wildcard_action_covers_the_actions_it_names_only(app: dict[str, str]) -> None:
    assert call(app, call="describe_table", table=app["OtherTableName"]) == {"ok": True}
    assert call(app, call="get_item", table=app["OtherTableName"])["error"] == \
        "AccessDeniedException"


def test_a_call_the_local_cloud_cannot_describe_is_refused_never_let_through(
        app: dict[str, str]) -> None:
    answer = call(app, call="list_roles")  # IAM's API: not described, so never allowed
    assert (answer["error"], answer["status"]) == ("AccessDenied", 403)
    assert answer["message"].startswith(f"User: {role_session_of(app)} is not authorized to "
                                        "perform this call (iam ListRoles): the local cloud "
                                        "does not know which IAM action it is")
    # The learner's own credentials have full access.
    assert boto3.client("iam").list_roles()["Roles"]


def test_a_role_calling_cloudformation_is_refused_as_an_undescribed_call(
        app: dict[str, str]) -> None:
    answer = call(app, call="describe_stacks")  # served by the local cloud, not moto
    assert (answer["error"], answer["status"]) == ("AccessDenied", 403)
    assert "(cloudformation DescribeStacks)" in answer["message"]
    assert boto3.client("cloudformation").describe_stacks()["Stacks"]


def test_a_state_machine_may_invoke_only_the_functions_its_role_names(
        app: dict[str, str]) -> None:
    sfn = boto3.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=app["InvokerMachineArn"],
                                  name=f"run-{uuid.uuid4().hex[:8]}", input="{}")
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=started["executionArn"])
           )["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert execution["status"] == "SUCCEEDED"  # the Catch took the refusal
    output = json.loads(execution["output"])
    assert output["allowed"]["statusCode"] == 200
    assert output["error"]["Error"] == "Lambda.AWSLambdaException"
    assert "is not authorized to perform: lambda:InvokeFunction on resource: " \
           "arn:aws:lambda:us-east-1:123456789012:function:iam-UninvitedFunction" \
           in output["error"]["Cause"]
    assert "Error Code: AccessDeniedException" in output["error"]["Cause"]
    assert ":assumed-role/iam-InvokerMachineRole" in output["error"]["Cause"]


def test_connections_without_manage_connections_are_refused(app: dict[str, str]) -> None:
    ws = websocket.create_connection(app["WebSocketURL"], timeout=10)
    try:
        ws.send(json.dumps({"action": "hello"}))  # $default prints the connection id
        connection_id = _sender_connection_id()
        # GET is granted (…/GET/@connections/*), POST is not.
        got = call(app, call="get_connection", endpoint=app["ConnectionsURL"],
                   connection=connection_id)
        posted = call(app, call="post_to_connection", endpoint=app["ConnectionsURL"],
                      connection=connection_id)
    finally:
        ws.close()
    assert got == {"ok": True}
    assert posted["error"] == "AccessDeniedException" and posted["status"] == 403
    api_id = app["WebSocketURL"].split("/")[3]
    assert posted["message"] == (
        f"User: {role_session_of(app)} is not authorized to perform: "
        f"execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:"
        f"123456789012:{api_id}/dev/POST/@connections/{connection_id}")


def _sender_connection_id() -> str:
    """The connection id the $default function printed to its log."""
    logs = boto3.client("logs")
    group = "/aws/lambda/" + _target_function_name()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in logs.filter_log_events(logGroupName=group).get("events", []):
            if event["message"].startswith('{"connectionId"'):
                return json.loads(event["message"])["connectionId"]
        time.sleep(0.05)
    raise AssertionError("the $default function never logged its connection id")


def _target_function_name() -> str:
    functions = boto3.client("lambda").list_functions()["Functions"]
    return next(f["FunctionName"] for f in functions
                if f["FunctionName"].startswith(f"{STACK}-TargetFunction"))


def test_a_redeploy_is_decided_afresh(app: dict[str, str]) -> None:
    refused = {"call": "put_item", "table": app["OtherTableName"]}
    assert call(app, **refused)["error"] == "AccessDeniedException"
    try:
        granted = deploy("yes")
        assert call(granted, **refused) == {"ok": True}
        assert call(granted, call="publish", topic=granted["OtherTopicArn"]) == {"ok": True}
    finally:
        taken_back = deploy("no")
    assert call(taken_back, **refused)["error"] == "AccessDeniedException"


def test_iam_off_lets_a_role_call_anything() -> None:
    try:
        with lifecycle.private_cloud(time_scale=0.01, iam=False) as state:
            assert state["iam"] == "off"
            app = deploy()
            assert call(app, call="put_item", table=app["OtherTableName"]) == {"ok": True}
            assert call(app, call="delete_item", table=app["GrantedTableName"]) == {"ok": True}
    finally:
        lifecycle.use_local_cloud()  # back to the session's cloud


def test_up_takes_on_or_off_only() -> None:
    refused = subprocess.run([sys.executable, "-m", "workshop", "up", "--iam", "maybe"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "argument --iam: invalid choice: 'maybe' (choose from" in refused.stderr
