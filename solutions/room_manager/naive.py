"""The seed's joinroom, kept to show what goes wrong. Never deploy it for real players.

It follows the same rules as app.py (matchmaking.py) on the same items, but writes the
way the seed does: read the lobby, decide, then write the room, the lobby and the
membership back with plain put_item calls. Between the read and the writes, other
invocations of this function are doing the same, on other Lambda workers:

* two players who read the same waiting room both join it: a room of three, and one
  player is told that two different opponents joined;
* two players who find no waiting room both open one and both write the lobby: the
  second write erases the first room, whose player waits for ever (stranded).

Only joinroom is naive; exitroom and destroyroom are app.py's.
Deploy it with ``Handler: naive.handler`` (the RoomManagerHandler parameter).
"""

import secrets

import app
import connections
import matchmaking
from matchmaking import LOBBY_KEY, PLAYING, Lobby, MatchmakingError

rooms = app.rooms


def handler(event: dict, context: object) -> dict:
    routes = {**app.ROUTES, "joinroom": join_room}
    return connections.dispatch(event, routes, errors=(MatchmakingError,))


def join_room(event: dict, user_id: str, message: dict) -> None:
    """Read, decide, write back: correct alone, wrong when players join together."""
    lobby = Lobby.from_item(rooms.get_item(Key=LOBBY_KEY).get("Item"))
    join = matchmaking.plan_join(
        lobby, user_id, new_room_name=matchmaking.room_name_for(user_id, secrets.token_hex(3)))
    if join.peer_id is None:
        # The seed's createRoom: a new room, and the lobby rewritten as this reader saw it.
        rooms.put_item(Item=join.lobby.to_item())
        rooms.put_item(Item=matchmaking.new_room_item(join.room_name, user_id))
    else:
        # The seed's joinOthersRoom: read the room, add the player, write it back.
        room = rooms.get_item(Key=matchmaking.room_key(join.room_name))["Item"]
        room["players_in_room"].append(user_id)
        room["scores"][user_id] = 0
        room["phase"] = PLAYING
        rooms.put_item(Item=room)
        rooms.put_item(Item=join.lobby.to_item())
    rooms.put_item(Item=matchmaking.membership_item(user_id, join.room_name))
    app.tell_player(event, join)
    app.tell_peer(event, user_id, join)
