"""Lab 2: the connections table, its user_id index, and stale connections."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from labtools import connection_rows, eventually

from workshop.player import Player

MESSAGE_EVENT = Path(__file__).resolve().parents[2] / "data" / "events" / "websocket-message.json"


def test_connect_records_the_user_and_disconnect_forgets_it(game: dict[str, str],
                                                            connections_table: Any) -> None:
    player = Player(game["WebSocketURL"], user_id="lab2-carol")
    (row,) = connection_rows(connections_table, "lab2-carol")
    assert set(row) == {"connection_id", "user_id", "connected_at"}
    assert row["connected_at"] > 0
    player.close()
    assert eventually(lambda: connection_rows(connections_table, "lab2-carol") == [])


def test_a_guest_gets_a_generated_user_id(game: dict[str, str], connections_table: Any) -> None:
    before = {row["connection_id"] for row in connections_table.scan()["Items"]}
    with Player(game["WebSocketURL"]):
        rows = [row for row in connections_table.scan()["Items"]
                if row["connection_id"] not in before]
    assert len(rows) == 1
    assert rows[0]["user_id"].startswith("guest-")


def test_each_connection_of_a_user_has_its_row(game: dict[str, str],
                                               connections_table: Any) -> None:
    with Player(game["WebSocketURL"], user_id="lab2-twice"), \
            Player(game["WebSocketURL"], user_id="lab2-twice"):
        assert len(connection_rows(connections_table, "lab2-twice")) == 2


def test_a_connection_without_a_row_is_told_to_reconnect(game: dict[str, str],
                                                         connections_table: Any) -> None:
    with Player(game["WebSocketURL"], user_id="lab2-lost") as lost:
        (row,) = connection_rows(connections_table, "lab2-lost")
        connections_table.delete_item(Key={"connection_id": row["connection_id"]})
        lost.send("joinroom")
        assert lost.wait_for("error")["data"] == "this connection is unknown: reconnect"
        assert lost.connected


def message_event(game: dict[str, str], connection_id: str) -> dict:
    """A $default MESSAGE event, as API Gateway would send it, for ``connection_id``."""
    event = copy.deepcopy(json.loads(MESSAGE_EVENT.read_text()))
    api_id, stage = urlsplit(game["WebSocketURL"]).path.strip("/").split("/")
    region = boto3.session.Session().region_name
    event["requestContext"].update(
        routeKey="$default", connectionId=connection_id, apiId=api_id, stage=stage,
        domainName=f"{api_id}.execute-api.{region}.amazonaws.com")
    event["body"] = json.dumps({"action": "dance"})
    return event


def test_a_stale_connection_is_gone_and_its_row_deleted(game: dict[str, str],
                                                        connections_table: Any) -> None:
    player = Player(game["WebSocketURL"], user_id="lab2-stale")
    (row,) = connection_rows(connections_table, "lab2-stale")
    player.close()
    assert eventually(lambda: connection_rows(connections_table, "lab2-stale") == [])
    # $disconnect is best effort: put the row back, as if it had not run.
    connections_table.put_item(Item=row)

    reply = boto3.client("lambda").invoke(
        FunctionName=game["MainServerFunctionName"],
        Payload=json.dumps(message_event(game, row["connection_id"])).encode())

    assert "FunctionError" not in reply
    assert json.loads(reply["Payload"].read()) == {"statusCode": 200}
    assert connection_rows(connections_table, "lab2-stale") == []
