"""MainServer: the routes every WebSocket API has — $connect, $disconnect and $default.

$connect records which player is on the new connection (``?user_id=alice``; a guest id
when there is none), $disconnect deletes that row, and $default answers any message no
other route took (not JSON, or an unknown action) with ``{"action": "error", ...}``.
"""

import json
import secrets

import connections

MAX_USER_ID_LENGTH = 64


def handler(event: dict, context: object) -> dict:
    request = event["requestContext"]
    route, connection_id = request["routeKey"], request["connectionId"]
    if route == "$connect":
        return connect(event, connection_id)
    if route == "$disconnect":
        # Best effort on AWS too: a row it misses is deleted on the first GoneException.
        connections.forget(connection_id)
        print(f"disconnect connection_id={connection_id}")
        return {"statusCode": 200}
    return unknown_message(event)


def connect(event: dict, connection_id: str) -> dict:
    """Accept the connection and record its user; a non-2xx answer refuses the handshake."""
    query = event.get("queryStringParameters") or {}
    # This trusts the client: anyone can connect as any user_id. A real game checks a
    # signed token instead, in a REQUEST authorizer on $connect (Cognito, or a JWT).
    # BEGIN SOLUTION 1.4
    user_id = query.get("user_id") or f"guest-{secrets.token_hex(6)}"
    if len(user_id) > MAX_USER_ID_LENGTH:
        return {"statusCode": 400, "body": f"user_id is longer than {MAX_USER_ID_LENGTH}"}
    # STARTER
    # # Exercise 1.4: take the player's id from ?user_id=, make up a guest id when there is
    # # none, and refuse (status 400) an id longer than MAX_USER_ID_LENGTH.
    # user_id = "nobody"
    # END SOLUTION
    connections.remember(connection_id, user_id, event["requestContext"]["connectedAt"])
    print(f"connect user_id={user_id} connection_id={connection_id}")
    return {"statusCode": 200}


def unknown_message(event: dict) -> dict:
    """Tell the sender why no route took its message; the connection stays open."""
    try:
        action = connections.read_message(event).get("action")
    except connections.Rejected as error:
        reason = str(error)
    else:
        reason = ('the message has no "action"' if action is None
                  else f"unknown action {json.dumps(action)}")
    message = connections.refusal(reason)
    print(f"$default: {message['data']}")
    connections.reply(event, message)
    return {"statusCode": 200}
