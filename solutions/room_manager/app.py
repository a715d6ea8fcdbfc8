"""RoomManager: 1v1 matchmaking, safe when many players join at the same moment.

What players send and get back:

* ``{"action": "joinroom"}`` → ``{"action": "joinroom", "data": "<room_name>"}``; once two
  players are in the room, each gets ``{"action": "peer_player_id", "data": "<the other>"}``;
* ``{"action": "exitroom"}`` → ``{"action": "exitroom", "data": "<room_name>"}``: you left
  your waiting room, and the empty room is removed;
* ``{"action": "destroyroom"}`` → ``{"action": "destroyroom", "data": "<room_name>"}``: the
  same (a waiting room holds only the player who opened it);
* a request the rules refuse → ``{"action": "error", "data": "<reason>"}``.

Each change is ONE DynamoDB transaction of three writes: the lobby, only if it is still
the version this invocation read; the room, only if it is still waiting; the player's
membership, only if the player is in no other room. Two players racing for the same
waiting room cannot both get it, two players opening rooms at once cannot overwrite each
other's lobby, and nobody is ever in two rooms. The loser of a race reads the lobby
again and retries. naive.py is the seed's version, which does none of this.
"""

import os
import random
import secrets
import time

import boto3
import connections
import matchmaking
from boto3.dynamodb.types import TypeDeserializer
from matchmaking import PLAYING, WAITING, Join, Lobby, MatchmakingError

rooms = boto3.resource("dynamodb").Table(os.environ["ROOMS_TABLE"])
# The table resource's client accepts plain Python values, as the table does.
dynamodb = rooms.meta.client
# Errors are not converted to Python values like results are: this does it.
deserializer = TypeDeserializer()

# A cancelled transaction gives a reason per write, in order: lobby, room, membership.
LOBBY_WRITE, MEMBERSHIP_WRITE = 0, 2
MAX_ATTEMPTS = 30


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, ROUTES, errors=(MatchmakingError,))


def join_room(event: dict, user_id: str, message: dict) -> None:
    """joinroom: a seat in the oldest waiting room, or a new room to wait in."""
    join = commit_join(user_id)
    while not tell_peer(event, user_id, join):
        # The waiting player has gone without exitroom (closed the game): nobody would
        # ever play in that room. Close it and join again.
        close_abandoned(join, user_id)
        join = commit_join(user_id)
    tell_player(event, join)


def leave_room(event: dict, user_id: str, message: dict) -> None:
    """exitroom and destroyroom: leave your waiting room, which goes with you."""
    room_name = commit_leave(user_id)
    connections.reply(event, {"action": event["requestContext"]["routeKey"],
                              "data": room_name})


ROUTES = {"joinroom": join_room, "exitroom": leave_room, "destroyroom": leave_room}


def tell_peer(event: dict, user_id: str, join: Join) -> bool:
    """Tell the waiting player who joined; False if that player has gone."""
    if join.peer_id is None:
        return True
    return connections.send_to_user(event, join.peer_id,
                                    {"action": "peer_player_id", "data": user_id})


def tell_player(event: dict, join: Join) -> None:
    """Tell the player its room and, once matched, whom it faces."""
    connections.reply(event, {"action": "joinroom", "data": join.room_name})
    if join.peer_id is not None:
        connections.reply(event, {"action": "peer_player_id", "data": join.peer_id})


def commit_join(user_id: str) -> Join:
    lobby = read_lobby()
    for attempt in range(MAX_ATTEMPTS):
        join = matchmaking.plan_join(
            lobby, user_id,
            new_room_name=matchmaking.room_name_for(user_id, secrets.token_hex(3)))
        try:
            dynamodb.transact_write_items(TransactItems=join_writes(lobby, join, user_id))
            return join
        except dynamodb.exceptions.TransactionCanceledException as error:
            reasons = error.response["CancellationReasons"]
        if failed_condition(reasons[MEMBERSHIP_WRITE]):
            raise MatchmakingError(f"you are already in room {room_of(user_id)}")
        # Another player changed the lobby first; the refused write returns the lobby
        # as it is now, so there is no need to read it again.
        lobby = lobby_in(reasons[LOBBY_WRITE]) or read_lobby()
        back_off(attempt)
    raise MatchmakingError("matchmaking is busy: try again")


def commit_leave(user_id: str) -> str:
    for attempt in range(MAX_ATTEMPTS):
        room_name = room_of(user_id)
        if room_name is None:
            raise MatchmakingError("you are not in a room")
        if write(leave_writes(read_lobby(), user_id, room_name)):
            return room_name
        back_off(attempt)
    raise MatchmakingError("matchmaking is busy: try again")


def close_abandoned(join: Join, user_id: str) -> None:
    """Delete a room whose first player has gone, and free both players."""
    write([{"Delete": {"TableName": rooms.name, "Key": matchmaking.room_key(join.room_name)}},
           *(release(player, join.room_name) for player in (join.peer_id, user_id))])


def join_writes(lobby: Lobby, join: Join, user_id: str) -> list[dict]:
    """The lobby, the room and the membership of a join: all of them, or none."""
    if join.peer_id is None:
        room = put(matchmaking.new_room_item(join.room_name, user_id))
    else:
        room = {"Update": {
            "TableName": rooms.name, "Key": matchmaking.room_key(join.room_name),
            "UpdateExpression": "SET players_in_room = list_append(players_in_room, :me), "
                                "phase = :playing, scores.#me = :zero",
            # A room takes a second player while it waits, and never a third.
            "ConditionExpression": "phase = :waiting",
            "ExpressionAttributeNames": {"#me": user_id},
            "ExpressionAttributeValues": {":me": [user_id], ":playing": PLAYING,
                                          ":waiting": WAITING, ":zero": 0}}}
    return [lobby_write(lobby, join.lobby), room,
            put(matchmaking.membership_item(user_id, join.room_name))]


def leave_writes(lobby: Lobby, user_id: str, room_name: str) -> list[dict]:
    """The lobby without the room, the room deleted, the player free again."""
    return [
        lobby_write(lobby, matchmaking.plan_leave(lobby, user_id, room_name)),
        {"Delete": {"TableName": rooms.name, "Key": matchmaking.room_key(room_name),
                    "ConditionExpression": "phase = :waiting",
                    "ExpressionAttributeValues": {":waiting": WAITING}}},
        release(user_id, room_name),
    ]


def release(user_id: str, room_name: str) -> dict:
    """Delete the player's membership of ``room_name``: the player may join again."""
    return {"Delete": {"TableName": rooms.name, "Key": matchmaking.player_key(user_id),
                       "ConditionExpression": "room_name = :room",
                       "ExpressionAttributeValues": {":room": room_name}}}


def lobby_write(read: Lobby, changed: Lobby) -> dict:
    """Store the changed lobby if it is still the version that was read."""
    return {"Put": {"TableName": rooms.name, "Item": changed.to_item(),
                    "ConditionExpression": "attribute_not_exists(version) OR version = :read",
                    "ExpressionAttributeValues": {":read": read.version},
                    # If it is not, the refusal carries the lobby as it is now.
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def put(item: dict) -> dict:
    """Create ``item``; the transaction fails if an item with its key exists."""
    return {"Put": {"TableName": rooms.name, "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def write(writes: list[dict]) -> bool:
    """Run a transaction; False if a condition failed (the caller reads again)."""
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException:
        return False
    return True


def failed_condition(reason: dict) -> bool:
    """Whether this write of a cancelled transaction is the one whose condition failed."""
    return reason.get("Code") == "ConditionalCheckFailed"


def lobby_in(reason: dict) -> Lobby | None:
    """The lobby returned by a refused lobby write (None if it returned none)."""
    if "Item" not in reason:
        return None
    return Lobby.from_item({name: deserializer.deserialize(value)
                            for name, value in reason["Item"].items()})


def read_lobby() -> Lobby:
    item = rooms.get_item(Key=matchmaking.LOBBY_KEY, ConsistentRead=True).get("Item")
    return Lobby.from_item(item)


def room_of(user_id: str) -> str | None:
    """The room the player is in, or None."""
    item = rooms.get_item(Key=matchmaking.player_key(user_id), ConsistentRead=True).get("Item")
    return item["room_name"] if item else None


def back_off(attempt: int) -> None:
    # "Full jitter": racers that collided spread out instead of colliding again.
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))
