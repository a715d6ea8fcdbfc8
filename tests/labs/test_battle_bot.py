"""The battle bot a learner plays against from the battle page (workshop.battle_bot).

It speaks the same protocol as the page: two bots play a whole battle to an agreeing
settlement, attacks freeze the one attacked, and a bot nobody joins leaves its room.
"""

from __future__ import annotations

import itertools
import random

from labtools import Lobby, eventually

from workshop.battle_bot import BattleBot

_names = itertools.count()


def name(role: str) -> str:
    return f"botbattle{next(_names)}-{role}"


def test_two_bots_play_a_battle_to_one_agreeing_settlement(game: dict) -> None:
    url = game["WebSocketURL"]
    # Targets far above 10: whoever passes 10 first attacks an opponent still alive.
    first = BattleBot(url, user_id=name("a"), step_seconds=0.02, target=30,
                      freeze_seconds=0.1, rng=random.Random(1)).start()
    eventually(lambda: first.status == "waiting for an opponent", timeout=10)
    second = BattleBot(url, user_id=name("b"), step_seconds=0.02, target=30,
                       freeze_seconds=0.1, rng=random.Random(2)).start()
    try:
        eventually(lambda: first.result and second.result, timeout=30)
    finally:
        first.stop()
        second.stop()
    assert first.opponent == second.user_id and second.opponent == first.user_id
    assert {first.result, second.result} in ({"WIN", "LOSE"}, {"DRAW"})
    assert first.status in ("won", "lost", "drew")
    assert first.frozen_times + second.frozen_times >= 1


def test_a_bot_nobody_joins_gives_up_and_leaves_its_room(game: dict) -> None:
    url = game["WebSocketURL"]
    lonely = BattleBot(url, user_id=name("lonely"), wait_seconds=0.5).start()
    eventually(lambda: lonely.status.startswith("gave up"), timeout=10)
    lonely.stop()
    assert lonely.status == "gave up: nobody came within 0.5 s"
    lobby = Lobby(url)
    try:
        alice, bob = lobby.player("alice"), lobby.player("bob")
        alice.send("joinroom")
        alice.wait_for("joinroom")
        bob.send("joinroom")
        # alice and bob meet each other: the bot's room is gone, not waiting for them.
        assert bob.wait_for("peer_player_id")["data"] == alice.user_id
    finally:
        for player in lobby.players:
            player.close()


def test_a_late_lower_score_does_not_lower_what_the_bot_knows() -> None:
    bot = BattleBot("ws://unused", user_id="me")      # not started: no connection
    for message in ({"action": "peer_player_id", "data": "you"},
                    {"action": "player_syncscore", "data": 9},
                    {"action": "player_syncscore", "data": 7},   # sent earlier, came later
                    {"action": "attacked", "data": "FREEZE"},
                    {"action": "player_died", "data": "you"},
                    {"action": "battle_settlement", "data": "WIN"}):
        bot._heard(message)
    assert (bot.opponent, bot.opponent_score, bot.frozen_times) == ("you", 9, 1)
    assert bot._opponent_dead and bot.result == "WIN"
