"""The WebSocket side of every function: who is on which connection, and talking to them.

A row of the connections table is ``{"connection_id", "user_id", "connected_at"}``; the
global secondary index ``user_id-index`` finds a player's connection with a Query, where
the original lab scanned the whole table (and saw only its first page).

Every function of the game needs this code, and SAM zips each function's CodeUri folder
on its own. So it is published once, as a Lambda layer (``SharedCodeLayer`` in
template.yaml, built from solutions/shared/): Lambda unpacks the layer's python/ folder
onto each function's import path, and ``import connections`` works in all of them.
"""

import base64
import binascii
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

__all__ = [
    "Rejected",
    "connection_of",
    "dispatch",
    "forget",
    "read_message",
    "remember",
    "refusal",
    "reply",
    "send",
    "send_to_user",
    "user_of",
]

USER_INDEX = "user_id-index"
# An error's reason quotes what the player sent; this much is plenty to recognise it.
MAX_REASON_LENGTH = 200
# What dispatch() calls: route(event, user_id, message).
Route = Callable[[dict, str, dict], None]

table = boto3.resource("dynamodb").Table(os.environ["CONNECTIONS_TABLE"])
# Creating a boto3 client costs milliseconds: keep one per endpoint while the worker is warm.
_management_clients: dict[str, Any] = {}


class Rejected(Exception):
    """A request the server will not serve; the message is the reason the player reads."""


# BEGIN SOLUTION 2.1
def remember(connection_id: str, user_id: str, connected_at: int) -> None:
    """Record that ``user_id`` is on ``connection_id``."""
    table.put_item(Item={"connection_id": connection_id, "user_id": user_id,
                         "connected_at": connected_at})


def forget(connection_id: str) -> None:
    """Delete a connection's row (it closed, or API Gateway says it is gone)."""
    table.delete_item(Key={"connection_id": connection_id})
# STARTER
# def remember(connection_id: str, user_id: str, connected_at: int) -> None:
#     """Record that ``user_id`` is on ``connection_id``."""
#     # Exercise 2.1: write the row {"connection_id", "user_id", "connected_at"} to
#     # the connections table ($connect calls this).
#     print(f"remember: not written yet, {user_id} is not recorded")
#
#
# def forget(connection_id: str) -> None:
#     """Delete a connection's row (it closed, or API Gateway says it is gone)."""
#     # Exercise 2.1: delete the row of connection_id ($disconnect calls this).
#     print(f"forget: not written yet, the row of {connection_id} stays")
# END SOLUTION


def user_of(connection_id: str) -> str | None:
    """The user on ``connection_id``, or None if the connection is unknown."""
    # A consistent read: the row was written by $connect a moment ago.
    row = table.get_item(Key={"connection_id": connection_id}, ConsistentRead=True).get("Item")
    return row["user_id"] if row else None


def connection_of(user_id: str) -> str | None:
    """The newest connection of ``user_id`` (a player may reconnect), or None if offline."""
    # BEGIN SOLUTION 2.2
    rows = table.query(IndexName=USER_INDEX,
                       KeyConditionExpression=Key("user_id").eq(user_id))["Items"]
    # STARTER
    # # Exercise 2.2: this is how the original lab did it: read the whole table and keep
    # # this player's rows (and only the first 1 MB page at that). Query the index instead.
    # rows = table.scan(FilterExpression="user_id = :user",
    #                   ExpressionAttributeValues={":user": user_id})["Items"]
    # END SOLUTION
    if not rows:
        return None
    return max(rows, key=lambda row: row.get("connected_at", 0))["connection_id"]


def _management_client(event: dict) -> Any:
    # The @connections API of the very API and stage the event came through.
    request = event["requestContext"]
    endpoint = f"https://{request['domainName']}/{request['stage']}"
    if endpoint not in _management_clients:
        _management_clients[endpoint] = boto3.client("apigatewaymanagementapi",
                                                     endpoint_url=endpoint)
    return _management_clients[endpoint]


def send(event: dict, connection_id: str, message: dict) -> bool:
    """Send ``message`` (a dict, as JSON) to a connection; False if it has gone.

    A connection can close at any moment, and $disconnect is only best effort, so a
    GoneException is normal: the stale row is deleted and the caller carries on.
    """
    client = _management_client(event)
    # BEGIN SOLUTION 2.3
    try:
        client.post_to_connection(ConnectionId=connection_id,
                                  Data=json.dumps(message).encode())
    except client.exceptions.GoneException:
        print(f"connection {connection_id} is gone: forgetting it")
        forget(connection_id)
        return False
    # STARTER
    # # Exercise 2.3: a connection that has closed answers 410 GoneException. Catch it,
    # # delete the stale row, and return False instead of crashing.
    # client.post_to_connection(ConnectionId=connection_id,
    #                           Data=json.dumps(message).encode())
    # END SOLUTION
    return True


def reply(event: dict, message: dict) -> bool:
    """Send ``message`` back to the connection the event came from."""
    return send(event, event["requestContext"]["connectionId"], message)


def send_to_user(event: dict, user_id: str, message: dict) -> bool:
    """Send ``message`` to a player's connection; False if the player is offline."""
    connection_id = connection_of(user_id)
    return connection_id is not None and send(event, connection_id, message)


def read_message(event: dict) -> dict:
    """The message of a MESSAGE event as a dict; Rejected if it is not a JSON object."""
    body = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):  # an integration set to CONVERT_TO_BINARY
            body = base64.b64decode(body, validate=True)
        message = json.loads(body)
    except (binascii.Error, ValueError):
        raise Rejected("the message is not JSON") from None
    except RecursionError:  # [[[[...]]]] thousands deep: more than Python's parser takes
        raise Rejected("the message is nested too deeply") from None
    if not isinstance(message, dict):
        raise Rejected('the message must be a JSON object like {"action": "joinroom"}')
    try:
        # JSON may spell half a surrogate pair ("\ud800"), which is no character at all:
        # DynamoDB, print() and the players' pages could not store or show it.
        json.dumps(message, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected("the message is not valid Unicode text (a lone surrogate)") from None
    except RecursionError:
        raise Rejected("the message is nested too deeply") from None
    return message


def refusal(reason: str) -> dict:
    """The error message a player gets; a long reason (it may quote what the player sent)
    is cut, so the reply stays far below API Gateway's 128 KB message quota."""
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[:MAX_REASON_LENGTH - 1] + "…"
    return {"action": "error", "data": reason}


def dispatch(event: dict, routes: Mapping[str, Route], *,
             errors: tuple[type[Exception], ...] = ()) -> dict:
    """Serve a message with ``routes[routeKey](event, user_id, message)``.

    A request the server cannot serve raises Rejected or one of ``errors``: the sender
    gets ``{"action": "error", "data": reason}``, the connection stays open, and nothing
    was written. Any other exception is a bug: Lambda logs it and API Gateway sends the
    client ``{"message": "Internal server error", ...}``.
    """
    request = event["requestContext"]
    try:
        message = read_message(event)
        user_id = user_of(request["connectionId"])
        if user_id is None:
            raise Rejected("this connection is unknown: reconnect")
        routes[request["routeKey"]](event, user_id, message)
    except (Rejected, *errors) as error:
        message = refusal(str(error))
        print(f"rejected {request['routeKey']} from {request['connectionId']}: "
              f"{message['data']}")
        reply(event, message)
    return {"statusCode": 200}
