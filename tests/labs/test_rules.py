"""The game rules of solutions/, as plain functions: no cloud needed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
# What the functions import from their layer, as Lambda puts it on their path.
sys.path.insert(0, str(SOLUTIONS / "shared" / "python"))


def load(folder: str, module: str) -> ModuleType:
    """Import a function's module by path (each function folder is its own top level)."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{module}",
                                                  SOLUTIONS / folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses look their module up there
    spec.loader.exec_module(loaded)
    return loaded


matchmaking = load("room_manager", "matchmaking")
rules = load("battle", "battle_rules")


# -- matchmaking -------------------------------------------------------------------------

def test_two_tickets_per_room_in_order() -> None:
    rooms = [matchmaking.room_of_ticket(ticket) for ticket in range(6)]
    assert rooms[0] == rooms[1] != rooms[2] == rooms[3] != rooms[4] == rooms[5]
    assert len(set(rooms)) == 3
    assert rooms == sorted(rooms)  # room names sort in the order rooms were opened


def test_opponent_is_the_other_player() -> None:
    assert matchmaking.opponent(["ann"], "ann") is None
    assert matchmaking.opponent(["ann", "bob"], "ann") == "bob"
    assert matchmaking.opponent(["ann", "bob"], "bob") == "ann"


def test_seat_of_a_membership() -> None:
    seat = matchmaking.seat_of({"user_id": "ann", "room_name": "room-0003", "ticket": 7})
    assert seat == matchmaking.Seat("room-0003", 7)


@pytest.mark.parametrize("membership", [None, {}, {"user_id": "ann"}])
def test_no_seat_without_a_room(membership: dict | None) -> None:
    with pytest.raises(matchmaking.MatchmakingError, match="not in a room"):
        matchmaking.seat_of(membership)


def test_starting_scores() -> None:
    assert matchmaking.starting_scores(["ann", "bob"]) == {"ann": 0, "bob": 0}


def test_join_names_its_room() -> None:
    join = matchmaking.Join(matchmaking.Seat("room-0001", 3), "ann")
    assert join.room_name == "room-0001"


# -- battle ------------------------------------------------------------------------------

def battle(phase: str = rules.PLAYING, scores: dict | None = None,
           dead: frozenset[str] = frozenset()) -> object:
    return rules.Battle("room-0001", ("ann", "bob"), phase, scores or {}, dead)


def test_battle_from_a_dynamodb_item() -> None:
    from decimal import Decimal

    item = {"room_name": "room-0001", "players_in_room": ["ann", "bob"], "phase": "playing",
            "scores": {"ann": Decimal(3)}, "dead": {"bob"}}
    loaded = rules.Battle.from_item(item)
    assert loaded == rules.Battle("room-0001", ("ann", "bob"), "playing", {"ann": 3},
                                  frozenset({"bob"}))
    assert type(loaded.scores["ann"]) is int


def test_opponent_only_while_playing() -> None:
    assert battle().opponent_of("ann") == "bob"
    with pytest.raises(rules.BattleError, match="no opponent yet"):
        battle(rules.WAITING).opponent_of("ann")
    with pytest.raises(rules.BattleError, match="over"):
        battle(rules.SETTLED).opponent_of("ann")


@pytest.mark.parametrize("score", [0, 12, rules.MAX_SCORE])
def test_scores_that_are_accepted(score: int) -> None:
    assert rules.parse_score({"action": "syncscore", "score": score}) == score


@pytest.mark.parametrize(("message", "reason"), [
    ({"action": "syncscore"}, 'needs a "score"'),
    ({"score": "12"}, "whole number"),
    ({"score": 1.5}, "whole number"),
    ({"score": True}, "whole number"),
    ({"score": None}, "whole number"),
    ({"score": [1]}, "whole number"),
    ({"score": -1}, "between 0 and"),
    ({"score": rules.MAX_SCORE + 1}, "between 0 and"),
])
def test_scores_that_are_refused(message: dict, reason: str) -> None:
    with pytest.raises(rules.BattleError, match=reason):
        rules.parse_score(message)


def test_attack_needs_two_living_players() -> None:
    assert rules.check_attack(battle(), "ann") == "bob"
    with pytest.raises(rules.BattleError, match="you are dead"):
        rules.check_attack(battle(dead=frozenset({"ann"})), "ann")
    with pytest.raises(rules.BattleError, match="opponent is already dead"):
        rules.check_attack(battle(dead=frozenset({"bob"})), "ann")
    with pytest.raises(rules.BattleError, match="no opponent yet"):
        rules.check_attack(battle(rules.WAITING), "ann")


def test_a_player_dies_once() -> None:
    assert rules.check_death(battle(), "ann") == "bob"
    assert rules.check_death(battle(dead=frozenset({"bob"})), "ann") == "bob"
    with pytest.raises(rules.BattleError, match="already dead"):
        rules.check_death(battle(dead=frozenset({"ann"})), "ann")


def test_the_battle_is_over_when_both_died() -> None:
    assert not battle().over
    assert not battle(dead=frozenset({"ann"})).over
    assert battle(dead=frozenset({"ann", "bob"})).over


@pytest.mark.parametrize(("scores", "expected"), [
    ({"ann": 10, "bob": 3}, {"ann": "WIN", "bob": "LOSE"}),
    ({"ann": 3, "bob": 10}, {"ann": "LOSE", "bob": "WIN"}),
    ({"ann": 7, "bob": 7}, {"ann": "DRAW", "bob": "DRAW"}),
    ({}, {"ann": "DRAW", "bob": "DRAW"}),           # nobody synced: 0 each
    ({"bob": 1}, {"ann": "LOSE", "bob": "WIN"}),    # an unsynced score counts as 0
])
def test_outcome_from_the_synced_scores(scores: dict, expected: dict) -> None:
    assert rules.outcome(battle(scores=scores)) == expected
