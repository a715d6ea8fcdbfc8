"""Matchmaking judged from the players' inboxes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workshop.notebook import checks
from workshop.notebook.matchmaking_report import report


@dataclass
class FakePlayer:
    user_id: str
    room: str | None = None
    peers: list[str] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)

    def messages(self, action: str) -> list[dict[str, Any]]:
        if action == "joinroom":
            return [] if self.room is None else [{"action": action, "data": self.room}]
        if action == "peer_player_id":
            return [{"action": action, "data": peer} for peer in self.peers]
        return []


def pair(a: str, b: str, room: str) -> list[FakePlayer]:
    return [FakePlayer(a, room, [b]), FakePlayer(b, room, [a])]


def test_clean_matchmaking_with_one_player_waiting() -> None:
    players = pair("a", "b", "r1") + pair("c", "d", "r2") + [FakePlayer("e", "r3")]
    result = report(players)
    assert result.player_count == 5
    assert list(result.rooms["outcome"]) == ["matched", "matched", "waiting"]
    assert result.summary.to_dict("records") == [
        {"outcome": "matched", "rooms": 2, "players": 4},
        {"outcome": "waiting", "rooms": 1, "players": 1}]
    assert result.problems() == []
    verdict = checks.matched_once(result)
    assert verdict and "all 5 players matched exactly once: 2 rooms of two" in verdict.message
    assert checks.matched_once(report(pair("a", "b", "r1"))).message.endswith("1 room of two")


def test_the_races_of_the_naive_version_are_named() -> None:
    players = [
        FakePlayer("a", "r1", ["b", "c"]), FakePlayer("b", "r1", ["a"]),
        FakePlayer("c", "r1", ["a"]),                         # a room of three
        FakePlayer("d", "r2"), FakePlayer("e", "r3"),          # two lone players
        FakePlayer("f", "r4", ["g"]), FakePlayer("g", "r4"),  # g never told of f
        FakePlayer("h", inbox=[{"message": "Internal server error"}]),  # a crash
    ]
    result = report(players)
    outcomes = dict(zip(result.rooms["room"], result.rooms["outcome"], strict=True))
    assert outcomes == {"r1": "crowded", "r2": "stranded", "r3": "stranded",
                        "r4": "mismatched", "(none)": "failed"}
    assert result.players.set_index("user_id").loc["h", "errors"] == "Internal server error"
    failed = result.summary.set_index("outcome").loc["failed"]
    assert (failed["rooms"], failed["players"]) == (0, 1)
    assert result.problems() == [
        "2 players stranded alone in separate rooms",
        "1 room of three or more (3 players)",
        "1 room of two whose players were not told of each other",
        "1 player got an error instead of a room",
    ]
    assert not checks.matched_once(result)
    damage = checks.race_damage(result)
    assert damage and damage.message.startswith("the race is visible")


def test_a_lucky_naive_run_is_neither_a_pass_nor_a_failure(monkeypatch: Any) -> None:
    monkeypatch.setenv(checks.STRICT_VARIABLE, "1")        # as in CI: no exception either
    damage = checks.race_damage(report(pair("a", "b", "r1")))
    assert isinstance(damage, checks.Information) and not damage
    assert str(damage).startswith("ℹ️ the race did not show this time")
