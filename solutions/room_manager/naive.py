"""The seed's joinroom, kept to show what goes wrong. Never deploy it for real players.

It keeps the rooms waiting for an opponent in one list, in the item ``available_rooms``,
and changes it the way the seed does: read the list, decide, write the list back with a
plain put_item (and the same for the room's list of players). Alone, it works. When
players join at the same moment, their invocations run on different Lambda workers and
read the same list before any of them writes it back:

* two players who read the same waiting room both join it: a room of three, and its
  first player is told that two different opponents joined;
* two players who find no waiting room both open one and both write the list: the
  second write erases the first room, whose player waits for ever (stranded).

Only joinroom is naive; exitroom and destroyroom are app.py's. Deploy it with
``Handler: naive.handler`` (the template's RoomManagerHandler parameter).
"""

import app
import connections
import matchmaking
from matchmaking import PLAYING, WAITING, Join, MatchmakingError, Seat

rooms = app.rooms
AVAILABLE_ROOMS = {"pk": "available_rooms"}


def handler(event: dict, context: object) -> dict:
    routes = {**app.ROUTES, "joinroom": join_room}
    return connections.dispatch(event, routes, errors=(MatchmakingError,))


def join_room(event: dict, user_id: str, message: dict) -> None:
    """Read the list, decide, write it back: right alone, wrong when players race."""
    if app.read_membership(user_id):
        raise MatchmakingError("you are already in a room")
    available = rooms.get_item(Key=AVAILABLE_ROOMS).get("Item", {}).get("room_names", [])
    if available:
        # The seed's joinOthersRoom: take the first room, add the player, write it back.
        room_name, *others = available
        room = rooms.get_item(Key=matchmaking.room_key(room_name))["Item"]
        peer_id = room["players_in_room"][0]
        room["players_in_room"].append(user_id)
        room.update(phase=PLAYING, scores=matchmaking.starting_scores(room["players_in_room"]))
        rooms.put_item(Item=room)
        rooms.put_item(Item={**AVAILABLE_ROOMS, "room_names": others})
    else:
        # The seed's createRoom: a new room, and the list rewritten with only that room.
        room_name, peer_id = f"{user_id}_ROOM", None
        rooms.put_item(Item={**AVAILABLE_ROOMS, "room_names": [room_name]})
        rooms.put_item(Item={**matchmaking.room_key(room_name), "room_name": room_name,
                             "players_in_room": [user_id], "phase": WAITING})
    rooms.put_item(Item={**matchmaking.player_key(user_id), "user_id": user_id,
                         "room_name": room_name, "ticket": 0})
    join = Join(Seat(room_name, 0), peer_id)
    app.tell_player(event, join)
    app.tell_peer(event, user_id, join)
