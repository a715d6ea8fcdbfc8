"""A WebSocket API deployed from a SAM template and used by a plain websocket-client."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import websocket
from boto3.dynamodb.conditions import Key
from polling import eventually

from workshop import cloud as lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

ECHO = FIXTURES / "e2e" / "echo.yaml"


@pytest.fixture(scope="module")
def echo(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(ECHO, stack_name="echo")["outputs"]


def connect(url: str) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=10)


def receive_json(ws: websocket.WebSocket) -> dict:
    return json.loads(ws.recv())


def connection_ids_of(table_name: str, user_id: str) -> list[str]:
    table = boto3.resource("dynamodb").Table(table_name)
    found = table.query(IndexName="byUser", KeyConditionExpression=Key("userId").eq(user_id))
    return [item["connectionId"] for item in found["Items"]]


def test_outputs_point_at_the_local_cloud(echo: dict[str, str], cloud: dict) -> None:
    assert echo["WebSocketURL"].startswith(f"ws://127.0.0.1:{cloud['port']}/")
    assert echo["WebSocketURL"].endswith("/dev")
    assert echo["ConnectionsURL"].startswith(f"http://127.0.0.1:{cloud['port']}/")


def test_message_round_trip_through_post_to_connection(echo: dict[str, str]) -> None:
    ws = connect(echo["WebSocketURL"] + "?user_id=alice")
    try:
        ws.send(json.dumps({"action": "echo", "data": "hello"}))
        assert receive_json(ws) == {
            "action": "echo", "data": "hello", "function": echo["EchoFunctionName"]}
    finally:
        ws.close()


def test_management_endpoint_from_an_environment_variable(echo: dict[str, str]) -> None:
    ws = connect(echo["WebSocketURL"])
    try:
        ws.send(json.dumps({"action": "shout", "data": "hello"}))
        assert receive_json(ws) == {"action": "shout", "data": "HELLO"}
    finally:
        ws.close()


def test_unknown_action_and_non_json_go_to_default(echo: dict[str, str]) -> None:
    ws = connect(echo["WebSocketURL"])
    try:
        ws.send(json.dumps({"action": "dance"}))
        assert receive_json(ws) == {"action": "error", "data": "unknown action"}
        ws.send("this is not JSON")
        assert receive_json(ws) == {"action": "error", "data": "unknown action"}
    finally:
        ws.close()


def test_connect_and_disconnect_maintain_the_connection_table(echo: dict[str, str]) -> None:
    table = echo["ConnectionsTableName"]
    ws = connect(echo["WebSocketURL"] + "?user_id=bob")
    assert len(connection_ids_of(table, "bob")) == 1
    ws.close()
    assert eventually(lambda: connection_ids_of(table, "bob") == [])


def test_connect_refused_when_the_function_answers_401(echo: dict[str, str]) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(echo["WebSocketURL"] + "?reject=1")
    assert refused.value.status_code == 401


def test_post_to_a_closed_connection_is_gone(echo: dict[str, str]) -> None:
    ws = connect(echo["WebSocketURL"] + "?user_id=carol")
    (connection_id,) = connection_ids_of(echo["ConnectionsTableName"], "carol")
    management = boto3.client("apigatewaymanagementapi", endpoint_url=echo["ConnectionsURL"])
    management.post_to_connection(ConnectionId=connection_id, Data=b'{"ping": 1}')
    assert receive_json(ws) == {"ping": 1}
    ws.close()
    assert eventually(lambda: connection_ids_of(echo["ConnectionsTableName"], "carol") == [])
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")


@pytest.mark.parametrize(("parameter", "status"), [
    ("AutoDeploy", 403),      # the stage was never deployed
    ("GrantInvoke", 500),     # API Gateway may not invoke the function
])
def test_lab_failure_until_the_template_is_fixed(parameter: str, status: int,
                                                 cloud: dict) -> None:
    stack = f"lab{status}"
    outputs = lifecycle.deploy(ECHO, stack_name=stack, parameters={parameter: "false"})["outputs"]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(outputs["WebSocketURL"])
    assert refused.value.status_code == status
    outputs = lifecycle.deploy(ECHO, stack_name=stack, parameters={parameter: "true"})["outputs"]
    connect(outputs["WebSocketURL"]).close()


def test_function_logs_are_readable_with_boto3(echo: dict[str, str]) -> None:
    ws = connect(echo["WebSocketURL"])
    ws.send(json.dumps({"action": "echo", "data": "log me"}))
    receive_json(ws)
    ws.close()
    logs = boto3.client("logs")
    group = f"/aws/lambda/{echo['EchoFunctionName']}"

    def messages() -> list[str]:
        events = logs.filter_log_events(logGroupName=group)["events"]
        return [event["message"] for event in events]

    assert eventually(lambda: any(m.startswith("route echo") for m in messages()))
    text = "\n".join(messages())
    for marker in ("START RequestId:", "END RequestId:", "REPORT RequestId:", "Duration:"):
        assert marker in text
