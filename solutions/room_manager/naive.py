"""Matchmaking the way the original lab did it, kept to show what goes wrong.

Never deploy it for real players. It keeps the rooms waiting for an opponent in one
list, in the item ``available_rooms``, and changes it the obvious way: read the list,
decide, write the list back with a plain put_item (and the same for the room's list of
players). Alone, it works. When
players join at the same moment, their invocations run on different Lambda workers and
read the same list before any of them writes it back:

* two players who read the same waiting room both join it: a room of three, and its
  first player is told that two different opponents joined;
* two players who find no waiting room both open one and both write the list: the
  second write erases the first room, whose player waits for ever (stranded);
* a player may read a room from the list before its creator has written the room
  itself: the join crashes, and API Gateway answers "Internal server error".

The replies are app.py's. Deploy it by giving RoomManagerFunction the Handler
``naive.handler`` instead of ``app.handler``.
"""

import app
import connections
import matchmaking
from matchmaking import PLAYING, WAITING, Join, MatchmakingError, Seat

rooms = app.rooms
AVAILABLE_ROOMS = {"pk": "available_rooms"}


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, ROUTES, errors=(MatchmakingError,))


def join_room(event: dict, user_id: str, message: dict) -> None:
    """Read the list, decide, write it back: right alone, wrong when players race."""
    seat = app.read_membership(user_id)
    if seat is not None:
        raise MatchmakingError(f"you are already in room {seat['room_name']}")
    # BEGIN SOLUTION 3.1
    available = read_available_rooms()
    if available:
        # The original joinOthersRoom: take the first room, add the player, write it back.
        room_name, *others = available
        room = rooms.get_item(Key=matchmaking.room_key(room_name))["Item"]
        peer_id = room["players_in_room"][0]
        room["players_in_room"].append(user_id)
        room.update(phase=PLAYING, scores=matchmaking.starting_scores(room["players_in_room"]))
        rooms.put_item(Item=room)
        rooms.put_item(Item={**AVAILABLE_ROOMS, "room_names": others})
    else:
        # The original createRoom: the list rewritten with only the new room, then the room.
        room_name, peer_id = f"{user_id}_ROOM", None
        rooms.put_item(Item={**AVAILABLE_ROOMS, "room_names": [room_name]})
        rooms.put_item(Item={**matchmaking.room_key(room_name), "room_name": room_name,
                             "players_in_room": [user_id], "phase": WAITING})
    # STARTER
    # # Exercise 3.1: this always opens a new room, so nobody ever meets. When
    # # read_available_rooms() lists a waiting room, join it instead: read the room, add
    # # this player to its players_in_room, set its phase to PLAYING (with starting scores),
    # # write the room back and write the list back without it. peer_id is then the
    # # player who was waiting there.
    # room_name, peer_id = f"{user_id}_ROOM", None
    # rooms.put_item(Item={**AVAILABLE_ROOMS, "room_names": [room_name]})
    # rooms.put_item(Item={**matchmaking.room_key(room_name), "room_name": room_name,
    #                      "players_in_room": [user_id], "phase": WAITING})
    # END SOLUTION
    rooms.put_item(Item={**matchmaking.player_key(user_id), "user_id": user_id,
                         "room_name": room_name})
    join = Join(Seat(room_name, 0), peer_id)
    app.tell_player(event, join)
    app.tell_peer(event, user_id, join)


def leave_room(event: dict, user_id: str, message: dict) -> None:
    """Leave a waiting room the same way: read the list, write it back without the room."""
    seat = app.read_membership(user_id)
    if seat is None:
        raise MatchmakingError("you are not in a room")
    room_name, available = seat["room_name"], read_available_rooms()
    if room_name not in available:
        raise MatchmakingError(f"room {room_name} is full: the battle ends when both players die")
    rooms.put_item(Item={**AVAILABLE_ROOMS,
                         "room_names": [name for name in available if name != room_name]})
    rooms.delete_item(Key=matchmaking.room_key(room_name))
    rooms.delete_item(Key=matchmaking.player_key(user_id))
    connections.reply(event, {"action": event["requestContext"]["routeKey"], "data": room_name})


ROUTES = {"joinroom": join_room, "exitroom": leave_room, "destroyroom": leave_room}


def read_available_rooms() -> list[str]:
    item = rooms.get_item(Key=AVAILABLE_ROOMS).get("Item") or {}
    return item.get("room_names", [])
