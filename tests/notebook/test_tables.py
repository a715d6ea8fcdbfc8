"""DynamoDB items and CloudWatch log events as DataFrames, read from a private cloud."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import websocket

from workshop import cloud as lifecycle
from workshop.notebook import checks, tables

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"


@pytest.fixture
def scores(cloud: dict) -> Iterator[str]:
    name = f"scores-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "player", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "player", "KeyType": "HASH"}])
    yield name
    client.delete_table(TableName=name)


def test_plain_values() -> None:
    assert tables.plain({"n": Decimal("3"), "f": Decimal("1.5"), "s": {"b", "a"},
                         "l": [Decimal("2")]}) == {"n": 3, "f": 1.5, "s": ["a", "b"], "l": [2]}


def test_items_frame_puts_the_key_first_and_sorts_by_it(scores: str) -> None:
    table = boto3.resource("dynamodb").Table(scores)
    empty = tables.items_frame(scores)
    assert list(empty.columns) == ["player"] and empty.empty
    for player, score in [("bob", 3), ("alice", 5)]:
        table.put_item(Item={"player": player, "score": score, "room": "r1"})
    frame = tables.items_frame(scores)
    assert list(frame.columns) == ["player", "room", "score"]
    assert frame.to_dict("records") == [{"player": "alice", "room": "r1", "score": 5},
                                        {"player": "bob", "room": "r1", "score": 3}]
    assert tables.empty_table(scores) == 2
    assert tables.items(scores) == []


def test_rows_check_waits_for_present_and_absent_rows(scores: str) -> None:
    boto3.resource("dynamodb").Table(scores).put_item(Item={"player": "alice"})
    assert checks.rows(scores, "player", present=["alice"], absent=["bob"], timeout=0.1)
    wrong = checks.rows(scores, "player", present=["bob"], absent=["alice"], timeout=0.1)
    assert not wrong
    assert "no row with player bob" in wrong.message
    assert "still a row with player alice" in wrong.message


def test_log_frame_gives_each_line_its_request_id(cloud: dict) -> None:
    outputs = lifecycle.deploy(ECHO, stack_name="tables-echo")["outputs"]
    function = outputs["EchoFunctionName"]
    assert list(tables.log_frame("no-such-function").columns) == tables.LOG_COLUMNS
    websocket.create_connection(outputs["WebSocketURL"] + "?user_id=zoe", timeout=10).close()
    assert checks.logged(function, "route $connect")
    frame = tables.log_frame(function)
    connect = frame[frame["message"].str.startswith("route $connect")].iloc[0]
    same_request = frame[frame["request_id"] == connect["request_id"]]["message"]
    assert [m.split()[0] for m in same_request] == ["START", "route", "END", "REPORT"]
    printed = tables.log_frame(function, platform_lines=False)
    assert all(m.startswith("route ") for m in printed["message"])
    assert not checks.logged(function, "never printed", timeout=0.1)


def test_items_without_an_attribute_show_a_blank(scores: str) -> None:
    table = boto3.resource("dynamodb").Table(scores)
    table.put_item(Item={"player": "alice", "score": 5})
    table.put_item(Item={"player": "lobby", "waiting": ["r1"]})
    assert tables.items_frame(scores).to_dict("records") == [
        {"player": "alice", "score": 5, "waiting": ""},
        {"player": "lobby", "score": "", "waiting": ["r1"]}]
