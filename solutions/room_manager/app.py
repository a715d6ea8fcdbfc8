"""RoomManager: 1v1 matchmaking, first come first served, safe when players join at once.

What players send and get back:

* ``{"action": "joinroom"}`` → ``{"action": "joinroom", "data": "<room_name>"}``; once two
  players are in the room, each gets ``{"action": "peer_player_id", "data": "<the other>"}``;
* ``{"action": "exitroom"}`` → ``{"action": "exitroom", "data": "<room_name>"}``: you left
  the room you were waiting in alone, and the empty room is removed;
* ``{"action": "destroyroom"}`` → ``{"action": "destroyroom", "data": "<room_name>"}``: the
  same, since a room with one player goes with that player;
* a request the rules refuse → ``{"action": "error", "data": "<reason>"}``.

Nothing here reads a value, decides, and writes it back: that is what goes wrong in the
original lab's version (naive.py) when players join at the same moment. Instead every step is
one DynamoDB operation that is atomic on its own (see matchmaking.py for the rules):

1. the player's membership item is created only if it does not exist yet, so a player
   is never in two rooms;
2. ``ADD handed_out 1`` on the ticket counter hands every joiner a different ticket;
   tickets 2n and 2n+1 share room n;
3. the player appends itself to the room in one update that also returns the room, so
   exactly one of the two players sees the room full and announces the match.

Leaving is one transaction of conditional writes: the ticket is handed back only if it
is the last one handed out, and the room removed only if its player is still alone.
"""

import os

import boto3
import connections
import matchmaking
from matchmaking import PLAYING, WAITING, Join, MatchmakingError, Seat

rooms = boto3.resource("dynamodb").Table(os.environ["ROOMS_TABLE"])
# The table resource's client accepts plain Python values, as the table does.
dynamodb = rooms.meta.client

# A cancelled transaction gives one reason per write, in order: ticket, room, membership.
ROOM_WRITE = 1


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, ROUTES, errors=(MatchmakingError,))


def join_room(event: dict, user_id: str, message: dict) -> None:
    """joinroom: take the next seat; the player either waits or completes a room."""
    connection_id = event["requestContext"]["connectionId"]
    join = take_seat(user_id, connection_id)
    while not tell_peer(event, user_id, join):
        # The player waiting in that room has gone without exitroom (closed the game):
        # nobody will ever play there. Close the room and take another seat.
        close_room(join.room_name, [user_id, join.peer_id])
        join = take_seat(user_id, connection_id)
    tell_player(event, join)


def leave_room(event: dict, user_id: str, message: dict) -> None:
    """exitroom and destroyroom: leave the room you wait in alone; it goes with you."""
    seat = matchmaking.seat_of(read_membership(user_id))
    try:
        # BEGIN SOLUTION 3.3
        dynamodb.transact_write_items(TransactItems=[
            # Hand the ticket back, if nobody has taken the next one...
            {"Update": {"TableName": rooms.name, "Key": matchmaking.TICKETS_KEY,
                        "UpdateExpression": "SET handed_out = :mine",
                        "ConditionExpression": "handed_out = :after_mine",
                        "ExpressionAttributeValues": {":mine": seat.ticket,
                                                      ":after_mine": seat.ticket + 1}}},
            # ...and remove the room, if the player is still alone in it.
            {"Delete": {"TableName": rooms.name, "Key": matchmaking.room_key(seat.room_name),
                        "ConditionExpression": "size(players_in_room) = :one",
                        "ExpressionAttributeValues": {":one": 1}}},
            release(user_id, seat.room_name),
        ])
        # STARTER
        # # Exercise 3.3: this only deletes the player's membership; the room and the
        # # ticket stay taken. Make leaving one transaction (dynamodb.transact_write_items)
        # # of three writes, in this order, all or nothing:
        # # 1. hand the ticket back: SET handed_out to seat.ticket, on the condition that it
        # #    is seat.ticket + 1 (nobody has taken the next ticket);
        # # 2. delete the room, on the condition that one player is in it;
        # # 3. release(user_id, seat.room_name), the membership's delete.
        # rooms.delete_item(Key=matchmaking.player_key(user_id))
        # END SOLUTION
    except dynamodb.exceptions.TransactionCanceledException as error:
        raise MatchmakingError(why_not_leave(error, seat)) from None
    connections.reply(event, {"action": event["requestContext"]["routeKey"],
                              "data": seat.room_name})


ROUTES = {"joinroom": join_room, "exitroom": leave_room, "destroyroom": leave_room}


def take_seat(user_id: str, connection_id: str) -> Join:
    """Take the next ticket and sit in its room."""
    claim(user_id, connection_id)
    # BEGIN SOLUTION 3.2
    counter = rooms.update_item(Key=matchmaking.TICKETS_KEY,
                                UpdateExpression="ADD handed_out :one",
                                ExpressionAttributeValues={":one": 1},
                                ReturnValues="UPDATED_NEW")["Attributes"]
    ticket = int(counter["handed_out"]) - 1
    seat = Seat(matchmaking.room_of_ticket(ticket), ticket)
    room = rooms.update_item(
        Key=matchmaking.room_key(seat.room_name),
        UpdateExpression="SET room_name = :room, phase = if_not_exists(phase, :waiting), "
                         "players_in_room = list_append(if_not_exists(players_in_room, :none),"
                         " :me)",
        # Two tickets per room: a third player is impossible, and this makes sure of it.
        ConditionExpression="attribute_not_exists(players_in_room) "
                            "OR size(players_in_room) < :two",
        ExpressionAttributeValues={":room": seat.room_name, ":waiting": WAITING,
                                   ":none": [], ":me": [user_id], ":two": 2},
        ReturnValues="ALL_NEW")["Attributes"]
    # STARTER
    # # Exercise 3.2: every player gets ticket 0 here, and the room is never written.
    # # 1. Take the next ticket: one update_item of matchmaking.TICKETS_KEY that adds 1 to
    # #    handed_out and returns the new value (your ticket is that value minus 1).
    # # 2. Sit down: one update_item of the ticket's room that appends user_id to
    # #    players_in_room (creating the room if needed), only if fewer than two are in it,
    # #    and returns the room as your write left it (ReturnValues="ALL_NEW").
    # ticket = 0
    # seat = Seat(matchmaking.room_of_ticket(ticket), ticket)
    # room = {"room_name": seat.room_name, "players_in_room": [user_id]}
    # END SOLUTION
    join = Join(seat, matchmaking.opponent(room["players_in_room"], user_id))
    sit_down(user_id, join, room["players_in_room"])
    return join


def claim(user_id: str, connection_id: str) -> None:
    """Create the player's membership, with the connection it joins from; refused if the
    player has one already."""
    try:
        rooms.put_item(Item={**matchmaking.player_key(user_id), "user_id": user_id,
                             "connection_id": connection_id},
                       ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        room_name = (read_membership(user_id) or {}).get("room_name")
        raise MatchmakingError(f"you are already in room {room_name}" if room_name
                               else "you are already joining a room") from None


def sit_down(user_id: str, join: Join, players: list[str]) -> None:
    """Record the player's seat; the second player of a room also starts the battle."""
    writes = [{"Update": {
        "TableName": rooms.name, "Key": matchmaking.player_key(user_id),
        "UpdateExpression": "SET room_name = :room, ticket = :ticket",
        "ExpressionAttributeValues": {":room": join.room_name, ":ticket": join.seat.ticket}}}]
    if join.peer_id is not None:
        writes.append({"Update": {
            "TableName": rooms.name, "Key": matchmaking.room_key(join.room_name),
            "UpdateExpression": "SET phase = :playing, scores = :scores",
            "ExpressionAttributeValues": {":playing": PLAYING,
                                          ":scores": matchmaking.starting_scores(players)}}})
    dynamodb.transact_write_items(TransactItems=writes)


def tell_peer(event: dict, user_id: str, join: Join) -> bool:
    """Tell the waiting player who joined; False if that player has gone."""
    if join.peer_id is None:
        return True
    message = {"action": "peer_player_id", "data": user_id}
    # To the connection the waiting player joined from, which its membership records.
    # Looking the player up in the connections table's index instead could miss one who
    # connected a moment ago (a global secondary index is only eventually consistent):
    # a player still waiting would be taken for gone, and its room closed under it.
    waiting_on = (read_membership(join.peer_id) or {}).get("connection_id")
    if waiting_on is None:  # a membership written before connections were recorded
        return connections.send_to_user(event, join.peer_id, message)
    return connections.send(event, waiting_on, message)


def tell_player(event: dict, join: Join) -> None:
    """Tell the player its room and, once matched, whom it faces."""
    connections.reply(event, {"action": "joinroom", "data": join.room_name})
    if join.peer_id is not None:
        connections.reply(event, {"action": "peer_player_id", "data": join.peer_id})


def close_room(room_name: str, players: list[str]) -> None:
    """Delete a room and free its players to join again."""
    dynamodb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": rooms.name, "Key": key}}
        for key in (matchmaking.room_key(room_name), *map(matchmaking.player_key, players))])


def release(user_id: str, room_name: str) -> dict:
    """The write that deletes a player's membership of ``room_name``."""
    return {"Delete": {"TableName": rooms.name, "Key": matchmaking.player_key(user_id),
                       "ConditionExpression": "room_name = :room",
                       "ExpressionAttributeValues": {":room": room_name}}}


def why_not_leave(error: Exception, seat: Seat) -> str:
    reasons = [reason.get("Code") for reason in error.response["CancellationReasons"]]
    if reasons[ROOM_WRITE] == "ConditionalCheckFailed":
        return f"room {seat.room_name} is full: the battle ends when both players die"
    return f"an opponent is on the way to room {seat.room_name}: it is too late to leave"


def read_membership(user_id: str) -> dict | None:
    return rooms.get_item(Key=matchmaking.player_key(user_id), ConsistentRead=True).get("Item")
