"""Lab 2's exercises: the connections table, the index that finds a player, stale rows.

The checks connect players to the learner's API and read the connections table, as the
notebook does; 2.2 also runs the learner's ``connection_of`` against the deployed table
(no function of lab 2 calls it yet: matchmaking, in lab 3, is its first user) and counts
the items it reads; 2.3 plays API Gateway and invokes the function with a message from
a connection that has closed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import websocket

from ..notebook import events, tables
from ..notebook.checks import Check, eventually, verdict
from .catalog import Exercise
from .runner import Deployment

__all__ = ["EXERCISES", "api_of"]

INDEX = "user_id-index"
CONNECTIONS_FILE = "shared/python/connections.py"


def api_of(url: str) -> tuple[str, str]:
    """The API id and stage of a WebSocket URL, on AWS (``wss://ID.execute-api...``) or
    in the local cloud (``ws://127.0.0.1:PORT/ID/STAGE``)."""
    parts = urlsplit(url)
    path = [segment for segment in parts.path.split("/") if segment]
    if (parts.hostname or "").endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return parts.hostname.split(".", 1)[0], path[-1]
    return path[-2], path[-1]


def _rows_of(table_name: str, user_id: str) -> list[dict[str, Any]]:
    return [row for row in tables.items(table_name) if row.get("user_id") == user_id]


def _connect(deployment: Deployment, user_id: str) -> websocket.WebSocket | Check:
    """An open connection as ``user_id``, or a failing verdict saying why there is none."""
    try:
        return websocket.create_connection(f"{deployment.url}?user_id={user_id}", timeout=10)
    except websocket.WebSocketBadStatusException as refused:
        return verdict(False, "", f"connecting as {user_id} answered {refused.status_code}: "
                                  "lab 1's exercises have to pass first (check 1)")


def _recorded(deployment: Deployment, user_id: str, *, timeout: float = 3.0) -> list[dict]:
    table_name = deployment.output("ConnectionsTableName")
    return eventually(lambda: _rows_of(table_name, user_id), timeout=timeout)


def remember_and_forget(deployment: Deployment) -> Check:
    table_name = deployment.output("ConnectionsTableName")
    user_id = f"check-2-1-{secrets.token_hex(3)}"
    socket = _connect(deployment, user_id)
    if isinstance(socket, Check):
        return socket
    try:
        rows = _recorded(deployment, user_id)
    finally:
        socket.close()
    if not rows:
        return verdict(False, "", f"{user_id} connected, but {table_name} has no row for "
                                  "that user: remember() must put_item the row "
                                  "{connection_id, user_id, connected_at}")
    missing = [name for name in ("connection_id", "user_id", "connected_at")
               if name not in rows[0]]
    if missing:
        return verdict(False, "", f"the row remember() wrote for {user_id} has no "
                                  f"{', '.join(missing)}: write all three attributes")
    if not eventually(lambda: not _rows_of(table_name, user_id), timeout=5.0):
        return verdict(False, "", f"{user_id} disconnected 5 s ago and its row is still in "
                                  f"{table_name}: forget() must delete_item it by its key, "
                                  "connection_id ($disconnect calls forget)")
    return verdict(True, f"$connect wrote {user_id}'s row (connection_id, user_id, "
                         "connected_at) and $disconnect deleted it", "")


def _index(table_name: str) -> dict[str, Any] | None:
    described = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]
    found = [index for index in described.get("GlobalSecondaryIndexes", [])
             if index["IndexName"] == INDEX]
    return found[0] if found else None


@contextlib.contextmanager
def learner_connections(deployment: Deployment) -> Iterator[ModuleType]:
    """The learner's connections.py, loaded here and pointed at the deployed table."""
    path: Path = deployment.workspace.path(CONNECTIONS_FILE)
    name = f"learner_connections_{secrets.token_hex(4)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = os.environ.get("CONNECTIONS_TABLE")
    os.environ["CONNECTIONS_TABLE"] = deployment.output("ConnectionsTableName")
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        if saved is None:
            os.environ.pop("CONNECTIONS_TABLE", None)
        else:
            os.environ["CONNECTIONS_TABLE"] = saved


class _Reads:
    """Counts the items DynamoDB reads for the Scan and Query calls of one client."""

    def __init__(self, client: Any) -> None:
        self.items = 0
        self.calls: list[str] = []
        client.meta.events.register("after-call.dynamodb", self._count)

    def _count(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name in ("Scan", "Query"):
            self.calls.append(model.name)
            self.items += int(parsed.get("ScannedCount", 0))


def find_by_user(deployment: Deployment) -> Check:
    table_name = deployment.output("ConnectionsTableName")
    index = _index(table_name)
    if index is None:
        return verdict(False, "", f"{table_name} has no index {INDEX}: add it under "
                                  "GlobalSecondaryIndexes of ConnectionsTable in your "
                                  "template.yaml")
    keys = [key["AttributeName"] for key in index["KeySchema"] if key["KeyType"] == "HASH"]
    if keys != ["user_id"]:
        return verdict(False, "", f"{INDEX} is keyed by {', '.join(keys)}: key it by user_id")
    user_id = f"check-2-2-{secrets.token_hex(3)}"
    sockets: list[Any] = []
    try:
        for n in range(10):       # other players online, and two connections of user_id
            who = user_id if n in (3, 8) else f"check-2-2-other-{secrets.token_hex(3)}"
            socket = _connect(deployment, who)
            if isinstance(socket, Check):
                return socket
            sockets.append(socket)
            time.sleep(0.01)      # so that connectedAt tells the two connections apart
        rows = _recorded(deployment, user_id)
        if len(rows) < 2:
            return verdict(False, "", f"{user_id} opened two connections but {table_name} "
                                      f"has {len(rows)} row(s) for it: do exercise 2.1 first")
        newest = max(rows, key=lambda row: row["connected_at"])["connection_id"]
        return _judge_connection_of(deployment, user_id, newest, len(rows))
    finally:
        for socket in sockets:
            socket.close()


def _judge_connection_of(deployment: Deployment, user_id: str, newest: str,
                         own_rows: int) -> Check:
    try:
        with learner_connections(deployment) as learner:
            reads = _Reads(learner.table.meta.client)
            # An index is updated a moment after its table (eventually consistent).
            found = eventually(lambda: learner.connection_of(user_id) == newest, timeout=3.0)
            answer = learner.connection_of(user_id) if not found else newest
    except Exception as error:  # noqa: BLE001 — the learner's code, reported as it failed
        return verdict(False, "", f"connection_of({user_id!r}) raised "
                                  f"{type(error).__name__}: {error}")
    if answer != newest:
        said = "None (nobody)" if answer is None else repr(answer)
        return verdict(False, "", f"connection_of({user_id!r}) returned {said}; the "
                                  f"player's newest connection is {newest!r}")
    if not reads.calls:
        return verdict(False, "", "connection_of read the table without the module's "
                                  "`table`: Query the index with table.query(...)")
    per_call = reads.items / len(reads.calls)
    if "Scan" in reads.calls or per_call > own_rows:
        return verdict(False, "", f"connection_of read {per_call:.0f} items to find "
                                  f"{own_rows} rows of {user_id}: that is a Scan of the whole "
                                  f"table. Query {INDEX} instead")
    return verdict(True, f"connection_of found {user_id}'s newest connection with a Query "
                         f"that read only its {own_rows} rows", "")


def _gone(deployment: Deployment, user_id: str) -> dict[str, Any] | Check:
    """The row of a connection that has closed, left behind as if $disconnect had not run."""
    table_name = deployment.output("ConnectionsTableName")
    socket = _connect(deployment, user_id)
    if isinstance(socket, Check):
        return socket
    try:
        rows = _recorded(deployment, user_id)
    finally:
        socket.close()
    if not rows:
        return verdict(False, "", f"{user_id} connected but got no row in {table_name}: "
                                  "do exercise 2.1 first")
    eventually(lambda: not _rows_of(table_name, user_id), timeout=5.0)
    boto3.resource("dynamodb").Table(table_name).put_item(Item=rows[0])
    return rows[0]


def stale_cleanup(deployment: Deployment) -> Check:
    table_name = deployment.output("ConnectionsTableName")
    function = deployment.output("MainServerFunctionName")
    user_id = f"check-2-3-{secrets.token_hex(3)}"
    row = _gone(deployment, user_id)
    if isinstance(row, Check):
        return row
    api_id, stage = api_of(deployment.url)
    event = events.websocket_event(
        "message", route_key="$default", body={"action": "check-2-3"},
        connection_id=row["connection_id"], api_id=api_id, stage=stage,
        region=boto3.session.Session().region_name or "us-east-1")
    answer = boto3.client("lambda").invoke(FunctionName=function,
                                           Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read() or b"null")
    if "FunctionError" in answer:
        error = payload.get("errorType") if isinstance(payload, dict) else payload
        return verdict(False, "", f"{function} crashed with {error} answering a connection "
                                  "that has closed: send() must catch "
                                  "client.exceptions.GoneException")
    if _rows_of(table_name, user_id):
        return verdict(False, "", f"send() got GoneException for {user_id}'s closed "
                                  f"connection but its row is still in {table_name}: forget "
                                  "it there")
    return verdict(True, "a message to a closed connection got GoneException: send() deleted "
                         f"the stale row and {function} answered {payload}", "")


EXERCISES = [
    Exercise(
        "2.1", "Remember and forget a connection",
        "In `shared/python/connections.py`, `remember` must write the row `{connection_id, "
        "user_id, connected_at}` to the connections table (`$connect` calls it) and "
        "`forget` must delete a connection's row (`$disconnect` calls it).",
        "`table` is the connections table (a boto3 `Table`): `table.put_item(Item={...})` "
        "writes a row, `table.delete_item(Key={'connection_id': connection_id})` deletes one.",
        remember_and_forget),
    Exercise(
        "2.2", "Find a player with a Query",
        "Give `ConnectionsTable` a global secondary index `user_id-index` keyed by "
        "`user_id` (in `template.yaml`), and make `connection_of` in "
        "`shared/python/connections.py` Query it instead of scanning the whole table.",
        "In the template: `- {AttributeName: user_id, AttributeType: S}` under "
        "`AttributeDefinitions`, and `GlobalSecondaryIndexes:` with one index: `IndexName: "
        "user_id-index`, `KeySchema: [{AttributeName: user_id, KeyType: HASH}]`, "
        "`Projection: {ProjectionType: ALL}`. In the code: `table.query(IndexName=USER_INDEX, "
        "KeyConditionExpression=Key('user_id').eq(user_id))['Items']`.",
        find_by_user),
    Exercise(
        "2.3", "Clean up a stale connection",
        "When `send` posts to a connection that has closed, API Gateway answers 410 "
        "`GoneException`. In `shared/python/connections.py`, catch it, delete the stale "
        "row and return `False`, so the function carries on.",
        "Wrap `client.post_to_connection(...)` in `try:` … `except "
        "client.exceptions.GoneException:`, and in the except branch call "
        "`forget(connection_id)` and `return False`.",
        stale_cleanup),
]
