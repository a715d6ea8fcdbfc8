"""The rules of 1v1 matchmaking, on plain data: no AWS, no network.

Players are matched first come, first served. The lobby lists the rooms that wait for
an opponent, oldest first: a player joins the oldest one, or opens a new room at the
back of the list when none waits. (In 1v1 the list never holds more than one room, since
a second waiting player would have been matched, but these rules do not rely on it.)

A waiting room holds only the player who opened it, so leaving it and destroying it are
the same thing: the room goes. Once two players are in it, the room is a battle, and it
ends when both players have died.

The rooms table (key ``pk``) holds three kinds of item:

* ``available_rooms``: the lobby, ``{"waiting": [{"room_name", "user_id"}], "version"}``;
* ``room#<room_name>``: ``{"room_name", "players_in_room", "phase", "scores"}``;
* ``player#<user_id>``: ``{"user_id", "room_name"}``, the one room a player is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "LOBBY_KEY",
    "PLAYING",
    "SETTLED",
    "WAITING",
    "Join",
    "Lobby",
    "MatchmakingError",
    "WaitingRoom",
    "membership_item",
    "new_room_item",
    "plan_join",
    "plan_leave",
    "player_key",
    "room_key",
    "room_name_for",
]

# A room's phase; the battle function reads and writes the same values.
WAITING, PLAYING, SETTLED = "waiting", "playing", "settled"
LOBBY_KEY = {"pk": "available_rooms"}


class MatchmakingError(Exception):
    """A request the rules refuse; the message is the reason the player reads."""


def room_key(room_name: str) -> dict[str, str]:
    return {"pk": f"room#{room_name}"}


def player_key(user_id: str) -> dict[str, str]:
    return {"pk": f"player#{user_id}"}


def room_name_for(user_id: str, token: str) -> str:
    """A new room's name: its creator and a random token, so replays get fresh rooms."""
    return f"{user_id}_ROOM_{token}"


@dataclass(frozen=True)
class WaitingRoom:
    """A room in the lobby, and the one player waiting in it."""

    room_name: str
    user_id: str


@dataclass(frozen=True)
class Lobby:
    """The rooms waiting for an opponent, oldest first.

    ``version`` goes up by one with every change: a writer that read version 7 commits
    only if the stored lobby is still version 7, so no change is ever overwritten.
    """

    waiting: tuple[WaitingRoom, ...] = ()
    version: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> Lobby:
        """The lobby stored in ``item`` (None: no lobby yet, so an empty one)."""
        if not item:
            return cls()
        waiting = tuple(WaitingRoom(str(room["room_name"]), str(room["user_id"]))
                        for room in item.get("waiting", []))
        return cls(waiting, int(item.get("version", 0)))

    def to_item(self) -> dict[str, Any]:
        return {**LOBBY_KEY, "version": self.version,
                "waiting": [{"room_name": room.room_name, "user_id": room.user_id}
                            for room in self.waiting]}

    def changed(self, waiting: tuple[WaitingRoom, ...]) -> Lobby:
        return replace(self, waiting=waiting, version=self.version + 1)


@dataclass(frozen=True)
class Join:
    """What a join does: the room the player is now in, and the lobby after it."""

    room_name: str
    peer_id: str | None  # the opponent; None when the player opened a room and waits
    lobby: Lobby


def plan_join(lobby: Lobby, user_id: str, *, new_room_name: str) -> Join:
    """Join the oldest waiting room, or open ``new_room_name`` and wait in it."""
    for room in lobby.waiting:
        if room.user_id == user_id:
            raise MatchmakingError(f"you are already waiting in room {room.room_name}")
    if lobby.waiting:
        oldest, *others = lobby.waiting
        return Join(oldest.room_name, oldest.user_id, lobby.changed(tuple(others)))
    opened = WaitingRoom(new_room_name, user_id)
    return Join(new_room_name, None, lobby.changed((opened,)))


def plan_leave(lobby: Lobby, user_id: str, room_name: str) -> Lobby:
    """The lobby once ``user_id`` has left (and so removed) its waiting room."""
    for room in lobby.waiting:
        if room.room_name == room_name and room.user_id == user_id:
            return lobby.changed(tuple(r for r in lobby.waiting if r != room))
    raise MatchmakingError(f"room {room_name} is not waiting any more: "
                           "a battle ends when both players die")


def new_room_item(room_name: str, user_id: str) -> dict[str, Any]:
    """A room just opened by ``user_id``, waiting for an opponent."""
    return {**room_key(room_name), "room_name": room_name, "players_in_room": [user_id],
            "phase": WAITING, "scores": {user_id: 0}}


def membership_item(user_id: str, room_name: str) -> dict[str, Any]:
    return {**player_key(user_id), "user_id": user_id, "room_name": room_name}
