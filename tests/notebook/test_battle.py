"""The battle panel, the crowd and the inbox table, against the lab-4 game on a private cloud."""

from __future__ import annotations

import time
from collections.abc import Iterator

import matplotlib
import pytest

from workshop import lab
from workshop.notebook import checks, inbox, tables
from workshop.notebook.battle_panel import BattlePanel, plot_scores
from workshop.notebook.crowd import Crowd
from workshop.player import Player

matplotlib.use("Agg")

STACK = "notebook-battle"
# Generous: a loaded CI machine starts Lambda workers slowly, and a timeout here tells
# nothing about the code under test.
WAIT = 15.0


@pytest.fixture(scope="module")
def game(cloud: dict) -> dict[str, str]:
    return lab.deploy(4, stack_name=STACK)["outputs"]


@pytest.fixture
def pair(game: dict[str, str]) -> Iterator[tuple[Player, Player]]:
    tables.empty_table(game["RoomsTableName"])
    players = (Player(game["WebSocketURL"], user_id="red"),
               Player(game["WebSocketURL"], user_id="blue"))
    for player in players:
        player.send("joinroom")
        player.wait_for("joinroom", timeout=WAIT)
    for player in players:
        player.wait_for("peer_player_id", timeout=WAIT)
    yield players
    for player in players:
        player.close()


def test_the_panel_plays_a_battle_from_code(pair: tuple[Player, Player]) -> None:
    red, blue = pair
    panel = BattlePanel(red, blue, freeze_seconds=0.3)
    try:
        assert any("red ← {\"action\": \"joinroom\"" in line for line in panel.log)
        assert panel.score(red, 5)
        panel.wait_for(blue, "player_syncscore", timeout=WAIT)
        assert panel.state(blue).opponent_score == 5
        assert panel.attack(red)
        panel.wait_for(blue, "attacked", timeout=WAIT)
        assert panel.state(blue).frozen(time.monotonic())
        assert not panel.score(blue, 1) and not panel.attack(blue)
        assert any("blue cannot score: it is frozen" in line for line in panel.log)
        time.sleep(0.35)
        assert panel.score(blue, 7)
        panel.wait_for(red, "player_syncscore", timeout=WAIT)
        assert panel.die(red) and not panel.score(red, 1)
        panel.wait_for(blue, "player_died", timeout=WAIT)
        assert panel.die(blue)
        panel.wait_for(red, "battle_settlement", timeout=WAIT)
        panel.wait_for(blue, "battle_settlement", timeout=WAIT)
        assert (panel.state(red).settlement, panel.state(blue).settlement) == ("LOSE", "WIN")
        assert checks.settled({red: "LOSE", blue: "WIN"}, timeout=WAIT)
        history = panel.history
        assert list(history.columns) == ["seconds", "user_id", "score"]
        assert history.groupby("user_id")["score"].last().to_dict() == {"red": 5, "blue": 7}
        freezes = panel.freezes
        assert freezes["user_id"].tolist() == ["blue"]
        assert freezes["end"].iloc[0] - freezes["start"].iloc[0] == pytest.approx(0.3)
        ax = plot_scores(history, freezes=freezes)
        assert ax.get_legend_handles_labels()[1] == ["red", "blue", "blue frozen"]
    finally:
        panel.close()
    assert all(button.disabled for card in panel._cards.values() for button in card["buttons"])


def test_the_buttons_drive_the_same_methods(pair: tuple[Player, Player]) -> None:
    red, blue = pair
    panel = BattlePanel(red, blue)
    try:
        red_card = panel._cards[id(red)]
        red_card["buttons"][1].click()                   # +5
        panel.wait_for(blue, "player_syncscore", timeout=WAIT)
        assert panel.state(red).score == 5
        assert "5" in red_card["body"].value
    finally:
        panel.close()


def test_a_crowd_is_matched_in_pairs_and_shown_as_an_inbox_table(game: dict[str, str]) -> None:
    tables.empty_table(game["RoomsTableName"])
    with Crowd(game["WebSocketURL"], 6, name="t", progress=False) as crowd:
        assert len(crowd) == 6
        report = crowd.join_rooms(timeout=WAIT)
        assert checks.matched_once(report)
        pairs = crowd.pairs()
        assert len(pairs) == 3
        for left, right in pairs:
            assert left.messages("peer_player_id")[0]["data"] == right.user_id
        frame = inbox.frame(*crowd, actions=["peer_player_id"])
    assert list(frame.columns) == inbox.COLUMNS
    # peer_player_id is the first or second message: the protocol promises no order
    # between a player's own joinroom reply and its opponent's arrival.
    assert len(frame) == 6 and set(frame["n"]) <= {1, 2}
    assert all(not player.connected for player in crowd)


def test_an_empty_crowd_is_refused(game: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="at least one player"):
        Crowd(game["WebSocketURL"], 0)
