"""What matchmaking did, told from the players' side: rooms, their sizes, who was stranded.

Each player's inbox holds the server's answers in the wire protocol: ``joinroom`` names
the room it was put in, ``peer_player_id`` names its opponent. Grouping players by room
shows every way matchmaking can go wrong, whatever the server stores:

============  ===========================================================
outcome       meaning
============  ===========================================================
matched       a room of two whose players were told of each other
waiting       the one player left alone (an odd number of players)
stranded      alone in a room while others wait alone too: never matched
crowded       three or more players put in one room
mismatched    a room of two whose players were not told of each other
failed        players whose joinroom got an error instead of a room
============  ===========================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

__all__ = ["OUTCOMES", "Inbox", "MatchReport", "report"]

OUTCOMES = ("matched", "waiting", "stranded", "crowded", "mismatched", "failed")
_NO_ROOM = ""


class Inbox(Protocol):
    """What the report reads from a player (``workshop.player.Player`` has both)."""

    user_id: str

    def messages(self, action: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class MatchReport:
    """Per-player and per-room views of one matchmaking run, plus its summary."""

    players: pd.DataFrame     # user_id, room, peers, errors
    rooms: pd.DataFrame       # room, size, players, outcome

    @property
    def player_count(self) -> int:
        return len(self.players)

    def count(self, outcome: str) -> int:
        """How many rows of :attr:`rooms` have ``outcome`` (failed players share one)."""
        return int((self.rooms["outcome"] == outcome).sum())

    @property
    def summary(self) -> pd.DataFrame:
        """One row per outcome that happened: how many rooms and how many players."""
        grouped = self.rooms.groupby("outcome", sort=False).agg(
            rooms=("room", "count"), players=("size", "sum"))
        if "failed" in grouped.index:
            grouped.loc["failed", "rooms"] = 0       # players with no room, not a room
        order = [outcome for outcome in OUTCOMES if outcome in grouped.index]
        return grouped.loc[order].reset_index()

    def problems(self) -> list[str]:
        """One phrase per kind of damage; empty when every player was matched once."""
        phrases = {
            "stranded": lambda rooms, players: (
                f"{_plural(players, 'player')} stranded alone in separate rooms"),
            "crowded": lambda rooms, players: (
                f"{_plural(rooms, 'room')} of three or more ({players} players)"),
            "mismatched": lambda rooms, players: (
                f"{_plural(rooms, 'room')} of two whose players were not told of each other"),
            "failed": lambda rooms, players: (
                f"{_plural(players, 'player')} got an error instead of a room"),
        }
        return [phrases[row.outcome](row.rooms, row.players)
                for row in self.summary.itertuples() if row.outcome in phrases]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _room_of(player: Inbox) -> str:
    answers = [m.get("data") for m in player.messages("joinroom")]
    return str(answers[-1]) if answers else _NO_ROOM


def _peers_of(player: Inbox) -> list[str]:
    return [str(m.get("data")) for m in player.messages("peer_player_id")]


def _errors_of(player: Inbox) -> list[str]:
    """The game's error replies and API Gateway's own error frames ("Internal server error")."""
    errors = [str(m.get("data")) for m in player.messages("error")]
    inbox = getattr(player, "inbox", [])
    errors += [str(m["message"]) for m in inbox if "action" not in m and "message" in m]
    return errors


def _outcome(members: list[str], peers: dict[str, list[str]], lone_rooms: int) -> str:
    if len(members) >= 3:
        return "crowded"
    if len(members) == 2:
        first, second = members
        told = peers[first] == [second] and peers[second] == [first]
        return "matched" if told else "mismatched"
    if peers[members[0]]:
        return "mismatched"         # told of an opponent who is not in the room
    return "waiting" if lone_rooms == 1 else "stranded"


def report(players: Iterable[Inbox]) -> MatchReport:
    """Group ``players`` by the room they were told, and judge each room."""
    players = list(players)
    rooms_of = {player.user_id: _room_of(player) for player in players}
    peers = {player.user_id: _peers_of(player) for player in players}
    members: dict[str, list[str]] = defaultdict(list)
    for user_id, room in rooms_of.items():
        members[room].append(user_id)
    lone_rooms = sum(1 for room, who in members.items() if room != _NO_ROOM and len(who) == 1)
    rows = []
    for room, who in sorted(members.items(), key=lambda item: (-len(item[1]), item[0])):
        who = sorted(who)
        if room == _NO_ROOM:
            outcome = "failed"
        else:
            outcome = _outcome(who, peers, lone_rooms)
        rows.append({"room": room or "(none)", "size": len(who), "players": ", ".join(who),
                     "outcome": outcome})
    errors = {player.user_id: _errors_of(player) for player in players}
    player_rows = [{"user_id": user_id, "room": rooms_of[user_id] or "(none)",
                    "peers": ", ".join(peers[user_id]), "errors": "; ".join(errors[user_id])}
                   for user_id in sorted(rooms_of)]
    return MatchReport(
        players=pd.DataFrame(player_rows, columns=["user_id", "room", "peers", "errors"]),
        rooms=pd.DataFrame(rows, columns=["room", "size", "players", "outcome"]))
