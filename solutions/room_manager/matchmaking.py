"""The rules of 1v1 matchmaking, on plain data: no AWS, no network.

First come, first served, two by two. Every player who asks to join takes the next
ticket from a counter, and tickets 2n and 2n+1 share room n: the first of the two to
arrive waits there, the second finds the first, and the battle can begin. A counter that
hands out one number at a time is all the coordination it takes: no two players get the
same ticket, so no room ever gets a third player, and each player is paired with the
very next one, so nobody is left waiting while someone else waits too.

A player waiting alone may leave (exitroom, or destroyroom: a room with one player goes
with that player), as long as nobody has taken the next ticket, since that player is
already on the way to the room. Leaving hands the ticket back.

The rooms table (key ``pk``) holds three kinds of item:

* ``tickets``: ``{"handed_out": N}``, the counter;
* ``room#<room_name>``: ``{"room_name", "players_in_room", "phase", "scores"}``;
* ``player#<user_id>``: ``{"user_id", "connection_id", "room_name", "ticket"}``, the one
  room a player is in and the connection it joined from (without ``room_name`` and
  ``ticket`` while the player is on the way to it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rooms import PLAYING, SETTLED, WAITING, player_key, room_key

__all__ = [
    "PLAYING",
    "SETTLED",
    "TICKETS_KEY",
    "WAITING",
    "Join",
    "MatchmakingError",
    "Seat",
    "opponent",
    "player_key",
    "room_key",
    "room_of_ticket",
    "seat_of",
    "starting_scores",
]

TICKETS_KEY = {"pk": "tickets"}


class MatchmakingError(Exception):
    """A request the rules refuse; the message is the reason the player reads."""


def room_of_ticket(ticket: int) -> str:
    """The room a ticket seats its holder in: two tickets per room, in order."""
    return f"room-{ticket // 2:04d}"


def opponent(players: Sequence[str], user_id: str) -> str | None:
    """The other player in a room, or None while ``user_id`` is alone in it."""
    others = [player for player in players if player != user_id]
    return others[0] if others else None


def starting_scores(players: Sequence[str]) -> dict[str, int]:
    return {player: 0 for player in players}


@dataclass(frozen=True)
class Seat:
    """Where a player sits: its room, and the ticket that seated it there."""

    room_name: str
    ticket: int


def seat_of(membership: Mapping[str, Any] | None) -> Seat:
    """The seat recorded in a player's membership item; refused if there is none."""
    if not membership or "room_name" not in membership:
        raise MatchmakingError("you are not in a room")
    return Seat(str(membership["room_name"]), int(membership["ticket"]))


@dataclass(frozen=True)
class Join:
    """What a join did: the player's seat and, if the room is now full, its opponent."""

    seat: Seat
    peer_id: str | None  # None: the player is first in the room and waits

    @property
    def room_name(self) -> str:
        return self.seat.room_name
