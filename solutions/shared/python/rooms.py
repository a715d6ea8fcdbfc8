"""The rooms table's layout, which the room manager and the battle function share.

One table (key ``pk``) holds the rooms (``room#<name>``) and each player's membership
(``player#<user_id>``); a room goes through three phases.
"""

__all__ = ["PLAYING", "SETTLED", "WAITING", "player_key", "room_key"]

WAITING, PLAYING, SETTLED = "waiting", "playing", "settled"


def room_key(room_name: str) -> dict[str, str]:
    return {"pk": f"room#{room_name}"}


def player_key(user_id: str) -> dict[str, str]:
    return {"pk": f"player#{user_id}"}
