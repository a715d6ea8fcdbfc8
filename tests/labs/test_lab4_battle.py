"""Lab 4: the battle — syncscore, attack, die — and a settlement that happens exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from labtools import Lobby, all_at_once, match, membership, room, state_of

from workshop.player import Player

NOT_IN_A_ROOM = "you are not in a room: send joinroom first"
NO_OPPONENT_YET = "you have no opponent yet: wait for peer_player_id"


def sync(player: Player, peer: Player, score: int) -> None:
    """Sync a score and wait until the peer has it (messages are not ordered otherwise)."""
    player.send("syncscore", score=score)
    assert peer.wait_for("player_syncscore") == {"action": "player_syncscore", "data": score}


def test_a_whole_battle(lobby: Lobby, rooms_table: Any) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    room_name = match(ann, bob)
    sync(ann, bob, 12)
    sync(bob, ann, 5)
    ann.send("attack")
    assert bob.wait_for("attacked") == {"action": "attacked", "data": "FREEZE"}

    bob.send("die")
    assert ann.wait_for("player_died") == {"action": "player_died", "data": bob.user_id}
    ann.send("die")
    assert bob.wait_for("player_died") == {"action": "player_died", "data": "all"}
    assert ann.wait_for("battle_settlement") == {"action": "battle_settlement", "data": "WIN"}
    assert bob.wait_for("battle_settlement") == {"action": "battle_settlement", "data": "LOSE"}

    settled = room(rooms_table, room_name)
    assert settled["phase"] == "settled"
    assert settled["outcome"] == {ann.user_id: "WIN", bob.user_id: "LOSE"}
    assert settled["scores"] == {ann.user_id: 12, bob.user_id: 5}
    # Both players are free again: they can play another battle.
    assert membership(rooms_table, ann.user_id) is None
    assert membership(rooms_table, bob.user_id) is None
    assert match(ann, bob) != room_name


@pytest.mark.parametrize(("scores", "results"), [
    ((3, 9), ("LOSE", "WIN")),
    ((7, 7), ("DRAW", "DRAW")),
    (None, ("DRAW", "DRAW")),     # nobody synced a score: 0 each
])
def test_the_higher_synced_score_wins(lobby: Lobby, scores: tuple[int, int] | None,
                                      results: tuple[str, str]) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    match(ann, bob)
    if scores:
        sync(ann, bob, scores[0])
        sync(bob, ann, scores[1])
    ann.send("die")
    bob.wait_for("player_died")
    bob.send("die")
    assert ann.wait_for("battle_settlement")["data"] == results[0]
    assert bob.wait_for("battle_settlement")["data"] == results[1]


def refused(player: Player, action: str, reason: str, **fields: Any) -> None:
    player.send(action, **fields)
    assert player.wait_for("error") == {"action": "error", "data": reason}
    assert player.connected


@pytest.mark.parametrize(("action", "fields"), [
    ("syncscore", {"score": 1}), ("attack", {}), ("die", {})])
def test_battle_actions_outside_a_room_are_refused(lobby: Lobby, action: str,
                                                   fields: dict) -> None:
    refused(lobby.player("ann"), action, NOT_IN_A_ROOM, **fields)


@pytest.mark.parametrize(("action", "fields"), [
    ("syncscore", {"score": 1}), ("attack", {}), ("die", {})])
def test_battle_actions_without_an_opponent_are_refused(lobby: Lobby, rooms_table: Any,
                                                        action: str, fields: dict) -> None:
    ann = lobby.player("ann")
    ann.send("joinroom")
    ann.wait_for("joinroom")
    before = state_of(rooms_table, [ann])
    refused(ann, action, NO_OPPONENT_YET, **fields)
    assert state_of(rooms_table, [ann]) == before


@pytest.mark.parametrize(("fields", "reason"), [
    ({}, 'syncscore needs a "score"'),
    ({"score": "12"}, "\"score\" must be a whole number, not '12'"),
    ({"score": 1.5}, '"score" must be a whole number, not 1.5'),
    ({"score": True}, '"score" must be a whole number, not True'),
    ({"score": None}, '"score" must be a whole number, not None'),
    ({"score": -1}, '"score" must be between 0 and 1000000000'),
])
def test_bad_scores_are_refused(lobby: Lobby, rooms_table: Any, fields: dict,
                                reason: str) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    match(ann, bob)
    before = state_of(rooms_table, [ann, bob])
    refused(ann, "syncscore", reason, **fields)
    assert state_of(rooms_table, [ann, bob]) == before
    sync(ann, bob, 4)  # still in the battle


def test_the_dead_neither_die_again_nor_attack(lobby: Lobby, rooms_table: Any) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    match(ann, bob)
    ann.send("die")
    bob.wait_for("player_died")
    before = state_of(rooms_table, [ann, bob])
    refused(ann, "die", "you are already dead")
    refused(ann, "attack", "you are dead: the dead do not attack")
    refused(bob, "attack", "your opponent is already dead")
    assert state_of(rooms_table, [ann, bob]) == before
    assert ann.messages("battle_settlement") == bob.messages("battle_settlement") == []


def test_after_the_settlement_the_battle_is_over(lobby: Lobby) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    match(ann, bob)
    ann.send("die")
    bob.wait_for("player_died")
    bob.send("die")
    ann.wait_for("battle_settlement")
    for action in ("die", "attack", "syncscore"):
        refused(ann, action, NOT_IN_A_ROOM, score=1)


def test_attacking_an_opponent_who_left_is_refused(lobby: Lobby) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    match(ann, bob)
    bob.close()
    # Until $disconnect has run the row is there, and the post finds the socket gone;
    # either way the attack reaches nobody, and ann is told.
    refused(ann, "attack", "your opponent is not connected")


def test_dying_after_the_opponent_left_settles_the_battle(lobby: Lobby,
                                                         rooms_table: Any) -> None:
    ann, bob, cy = lobby.player("ann"), lobby.player("bob"), lobby.player("cy")
    room_name = match(ann, bob)
    sync(bob, ann, 5)
    sync(ann, bob, 3)
    bob.close()
    ann.send("die")
    # Bob left at 5 points: he counts as dead there, and the battle settles at once.
    assert ann.wait_for("battle_settlement") == {"action": "battle_settlement", "data": "LOSE"}
    settled = room(rooms_table, room_name)
    assert settled["phase"] == "settled"
    assert settled["dead"] == {ann.user_id, bob.user_id}
    assert settled["outcome"] == {ann.user_id: "LOSE", bob.user_id: "WIN"}
    assert membership(rooms_table, ann.user_id) is None
    assert membership(rooms_table, bob.user_id) is None
    assert match(ann, cy) != room_name      # nobody is stuck in the old room


def test_dying_at_the_same_moment_settles_exactly_once(lobby: Lobby, rooms_table: Any) -> None:
    """Twenty battles at once, in each of which both players die at the same instant."""
    players = lobby.crowd(40)
    by_id = {player.user_id: player for player in players}
    all_at_once(players, "joinroom")
    for player in players:
        player.wait_for("peer_player_id", timeout=30)
    all_at_once(players, "die")
    for player in players:
        assert player.wait_for("battle_settlement", timeout=30)["data"] == "DRAW"
        player.wait_for("player_died", timeout=30)
    # Every battle was settled: both players are free to join again.
    assert all(membership(rooms_table, player.user_id) is None for player in players)
    # Nothing more comes: one settlement and one death notice each, never two.
    all_at_once(players, "die")
    for player in players:
        player.wait_for("error", timeout=30)
    for player in players:
        assert len(player.messages("battle_settlement")) == 1
        assert len(player.messages("player_died")) == 1
    # In each battle one death came first: its player heard "all", the other heard its id.
    for player in players:
        for notice in player.messages("player_died"):
            if notice["data"] != "all":
                first = by_id[notice["data"]]
                assert {"action": "player_died", "data": "all"} in first.messages("player_died")
