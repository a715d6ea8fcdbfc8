"""Stack resources, the local gateway's log, and hand-made API Gateway events."""

from __future__ import annotations

import json

import boto3
import pytest
import websocket

from workshop import lab
from workshop.notebook import events, tables

STACK = "notebook-stack"


@pytest.fixture(scope="module")
def denied(cloud: dict) -> dict[str, str]:
    """Lab 1 without the invoke permission: every handshake answers 500."""
    return lab.deploy(1, without=["MainServerPermission"], stack_name=STACK)["outputs"]


def test_stack_frame_and_physical_ids(denied: dict[str, str]) -> None:
    frame = tables.stack_frame(STACK)
    assert list(frame.columns) == tables.STACK_COLUMNS
    assert "MainServerPermission" not in set(frame["logical_id"])
    api_id = tables.physical_id("MainEntry", stack_name=STACK)
    assert f"/{api_id}/" in denied["WebSocketURL"]
    with pytest.raises(KeyError, match="MainServerPermission is not deployed"):
        tables.physical_id("MainServerPermission", stack_name=STACK)


def test_the_gateway_log_says_why_a_handshake_failed(denied: dict[str, str]) -> None:
    api_id = tables.physical_id("MainEntry", stack_name=STACK)
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(denied["WebSocketURL"], timeout=5)
    frame = tables.gateway_log_frame(api_id)
    assert list(frame.columns) == ["time", "message"] and len(frame) >= 1
    assert "Invalid permissions on Lambda function" in frame["message"].iloc[-1]
    assert tables.gateway_log_frame("no-such-api").empty


def test_a_hand_made_message_event_reaches_the_function(denied: dict[str, str]) -> None:
    api_id = tables.physical_id("MainEntry", stack_name=STACK)
    event = events.websocket_event("message", api_id=api_id, stage="dev", region="us-east-1",
                                   connection_id="gone", route_key="$default",
                                   body={"action": "hello"})
    context = event["requestContext"]
    assert (context["routeKey"], context["connectionId"]) == ("$default", "gone")
    assert context["domainName"] == f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert json.loads(event["body"]) == {"action": "hello"}
    answer = boto3.client("lambda").invoke(FunctionName=denied["MainServerFunctionName"],
                                           Payload=json.dumps(event))
    assert json.load(answer["Payload"]) == {"statusCode": 200}
    assert any("connection gone is gone" in line for line in
               tables.log_frame(denied["MainServerFunctionName"])["message"])


def test_an_unknown_kind_of_event_is_refused() -> None:
    with pytest.raises(ValueError, match="connect, disconnect, message"):
        events.websocket_event("authorize", api_id="a", stage="dev", region="r",
                               connection_id="c")


def test_an_event_in_china_names_the_china_host() -> None:
    """cn-northwest-1's APIs live under amazonaws.com.cn: a reply goes there."""
    event = events.websocket_event("connect", api_id="abc", stage="dev",
                                   region="cn-northwest-1", connection_id="c")
    assert event["requestContext"]["domainName"] == \
        "abc.execute-api.cn-northwest-1.amazonaws.com.cn"


def test_the_gateway_log_since_a_moment(denied: dict[str, str]) -> None:
    api_id = tables.physical_id("MainEntry", stack_name=STACK)
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(denied["WebSocketURL"], timeout=5)
    assert len(tables.gateway_log_frame(api_id, since_ms=tables.now_ms() - 60_000)) >= 1
    assert tables.gateway_log_frame(api_id, since_ms=tables.now_ms() + 60_000).empty
