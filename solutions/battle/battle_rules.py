"""The rules of a 1v1 battle, on plain data: no AWS, no network.

A battle is a room that two players were matched into (see the room manager's
matchmaking.py, which writes the same room items). While it is on, each player syncs
its score as it changes, may attack (which freezes the other player for a moment) and
dies once. When the second player dies the battle is settled from the last synced
scores: the higher score wins, equal scores are a draw.

The room item keeps the battle: ``phase`` (waiting, playing, settled), ``players_in_room``,
``scores`` (user -> last synced score), ``dead`` (the players who died) and, once
settled, ``outcome`` (user -> WIN, LOSE or DRAW).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rooms import PLAYING, SETTLED, WAITING, player_key, room_key

__all__ = [
    "DRAW",
    "LOSE",
    "MAX_SCORE",
    "PLAYING",
    "SETTLED",
    "WAITING",
    "WIN",
    "Battle",
    "BattleError",
    "check_attack",
    "check_death",
    "outcome",
    "parse_score",
    "player_key",
    "room_key",
]

WIN, LOSE, DRAW = "WIN", "LOSE", "DRAW"
MAX_SCORE = 1_000_000_000


class BattleError(Exception):
    """A request the rules refuse; the message is the reason the player reads."""


@dataclass(frozen=True)
class Battle:
    """The state of a room, as far as the battle is concerned."""

    room_name: str
    players: tuple[str, ...]
    phase: str
    scores: Mapping[str, int] = field(default_factory=dict)
    dead: frozenset[str] = frozenset()

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Battle:
        # DynamoDB hands numbers back as Decimal.
        return cls(room_name=str(item["room_name"]),
                   players=tuple(item.get("players_in_room", ())),
                   phase=str(item.get("phase", WAITING)),
                   scores={str(k): int(v) for k, v in item.get("scores", {}).items()},
                   dead=frozenset(item.get("dead", ())))

    def opponent_of(self, user_id: str) -> str:
        """The other player, while the battle is on."""
        if self.phase == WAITING:
            raise BattleError("you have no opponent yet: wait for peer_player_id")
        if self.phase != PLAYING:
            raise BattleError("the battle is over")
        return next(player for player in self.players if player != user_id)

    @property
    def over(self) -> bool:
        """Both players have died: the battle is ready to be settled."""
        return set(self.players) <= self.dead


def parse_score(message: Mapping[str, Any]) -> int:
    """The ``score`` of a syncscore message: a whole number from 0 to MAX_SCORE."""
    if "score" not in message:
        raise BattleError('syncscore needs a "score"')
    score = message["score"]
    # bool is an int in Python, but true is not a score.
    if not isinstance(score, int) or isinstance(score, bool):
        raise BattleError(f'"score" must be a whole number, not {score!r}')
    if not 0 <= score <= MAX_SCORE:
        raise BattleError(f'"score" must be between 0 and {MAX_SCORE}')
    return score


def check_attack(battle: Battle, user_id: str) -> str:
    """The player to freeze; only a living player attacks, and only a living opponent."""
    opponent = battle.opponent_of(user_id)
    if user_id in battle.dead:
        raise BattleError("you are dead: the dead do not attack")
    if opponent in battle.dead:
        raise BattleError("your opponent is already dead")
    return opponent


def check_death(battle: Battle, user_id: str) -> str:
    """The opponent to tell; a player dies once."""
    opponent = battle.opponent_of(user_id)
    if user_id in battle.dead:
        raise BattleError("you are already dead")
    return opponent


def outcome(battle: Battle) -> dict[str, str]:
    """WIN, LOSE or DRAW for each player: the higher synced score wins."""
    first, second = battle.players
    a, b = battle.scores.get(first, 0), battle.scores.get(second, 0)
    if a == b:
        return {first: DRAW, second: DRAW}
    return {first: WIN, second: LOSE} if a > b else {first: LOSE, second: WIN}
