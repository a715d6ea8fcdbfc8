"""The trivia panel, its bots' answer key and the scoreboard chart, with a fake player."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import matplotlib
import pytest

from workshop.notebook import trivia_bots
from workshop.notebook.trivia_bots import AnswerKey
from workshop.notebook.trivia_panel import TriviaPanel, plot_scoreboard

matplotlib.use("Agg")

GAME = "0123456789abcdef0123456789abcdef"
QUESTION = {"id": "q1", "question": "2 + 2?", "options": ["3", "4", "5", "22"]}
KEY = AnswerKey(answers={"q1": "4", "q2": "Paris"}, points={"q1": 1, "q2": 3})


class FakePlayer:
    """What the panel uses of a Player; ``deliver`` plays the server's part."""

    def __init__(self, name: str = "you") -> None:
        self.name = name
        self.on_message = None
        self.sent: list[dict[str, Any]] = []
        self._inbox: list[dict[str, Any]] = []

    @property
    def inbox(self) -> list[dict[str, Any]]:
        return list(self._inbox)

    def send(self, action: str, **fields: Any) -> None:
        self.sent.append({"action": action, **fields})

    def deliver(self, message: dict[str, Any]) -> None:
        self._inbox.append(message)
        if self.on_message is not None:
            self.on_message(message)

    def wait_for(self, action: str, *, timeout: float = 5.0) -> dict[str, Any]:
        return next(m for m in reversed(self._inbox) if m.get("action") == action)


def players(you: int, bot: int) -> dict[str, Any]:
    return {"action": "playerlist", "players": [
        {"connectionId": "c-you", "playerName": "You", "score": you, "currentPlayer": True},
        {"connectionId": "c-bot", "playerName": "Bot", "score": bot, "currentPlayer": False}]}


@pytest.fixture
def playing() -> tuple[FakePlayer, TriviaPanel]:
    """A panel whose game has started with a 10 s wait and asks QUESTION."""
    player = FakePlayer()
    player.deliver({"action": "gamecreated", "gameId": GAME})
    panel = TriviaPanel(player, tick_seconds=0.01)
    player.deliver(players(0, 0))
    panel.start(waitseconds=10, questioncount=2)
    player.deliver({"action": "gamestarted"})
    player.deliver({"action": "question", "question": QUESTION})
    yield player, panel
    panel.close()


def test_a_panel_picks_up_what_arrived_before_it(playing: tuple[FakePlayer, TriviaPanel]) -> None:
    player, panel = playing
    assert panel.state.game_id == GAME
    assert player.sent[0] == {"action": "startgame", "gameid": GAME, "waitseconds": 10,
                              "questioncount": 2}
    assert '"gameId": "' + GAME in panel.log[0]


def test_clicking_an_option_answers_once(playing: tuple[FakePlayer, TriviaPanel]) -> None:
    player, panel = playing
    buttons = panel._buttons()
    assert [b.description for b in buttons] == QUESTION["options"]
    assert not any(b.disabled for b in buttons)
    assert panel.click(1)
    assert player.sent[-1] == {"action": "answer", "gameid": GAME, "questionid": "q1",
                               "answer": "4"}
    assert all(b.disabled for b in buttons)
    assert not panel.answer("5")
    assert "you have already answered this question" in panel.log[-1]
    assert len([m for m in player.sent if m["action"] == "answer"]) == 1


def test_the_countdown_runs_from_waitseconds(playing: tuple[FakePlayer, TriviaPanel]) -> None:
    _player, panel = playing
    assert 0.9 < panel._countdown.value <= 1.0
    assert panel._countdown_text.value in ("10 s to answer", "9 s to answer")
    panel.state.deadline = time.monotonic() - 1   # as if ten seconds had passed
    time.sleep(0.05)
    assert panel._countdown.value == 0.0
    assert panel._countdown_text.value == "time's up: scoring…"


def test_scores_close_the_question_and_show_the_gain(
        playing: tuple[FakePlayer, TriviaPanel]) -> None:
    player, panel = playing
    panel.answer(1)
    player.deliver(players(1, 0))
    assert panel.state.scored and not panel.answer(2)
    assert "this question has been scored" in panel.log[-1]
    assert panel._countdown_text.value == "scored: +1 for you"
    assert panel.scores == {"You": 1, "Bot": 0} and panel.you == "You"
    assert "<b>You (you)</b>" in panel._scoreboard.value and "+1" in panel._scoreboard.value
    player.deliver({"action": "question", "question": {**QUESTION, "id": "q2"}})
    assert not panel.state.scored and not any(b.disabled for b in panel._buttons())
    player.deliver(players(1, 1))
    assert panel._countdown_text.value == "scored: you did not answer"


def test_autoplay_answers_the_open_question_and_the_next(
        playing: tuple[FakePlayer, TriviaPanel]) -> None:
    player, panel = playing
    panel.autoplay(lambda question: question["options"][0])
    player.deliver(players(0, 1))
    player.deliver({"action": "question", "question": {**QUESTION, "id": "q2"}})
    answers = [(m["questionid"], m["answer"]) for m in player.sent if m["action"] == "answer"]
    assert answers == [("q1", "3"), ("q2", "3")]


def test_gameover_ends_the_wait_and_disables_the_buttons(
        playing: tuple[FakePlayer, TriviaPanel]) -> None:
    player, panel = playing
    threading.Timer(0.05, player.deliver, args=[{"action": "gameover"}]).start()
    assert panel.wait_until_over(timeout=5) == {"You": 0, "Bot": 0}
    assert all(b.disabled for b in panel._buttons())
    assert "game over" in panel._status.value


def test_waiting_for_a_game_that_never_ends_says_so(
        playing: tuple[FakePlayer, TriviaPanel]) -> None:
    with pytest.raises(TimeoutError, match="1 questions asked"):
        playing[1].wait_until_over(timeout=0.01)


def test_errors_show_and_closing_gives_the_hook_back() -> None:
    player = FakePlayer()
    seen: list[dict[str, Any]] = []
    player.on_message = seen.append
    panel = TriviaPanel(player)
    with pytest.raises(RuntimeError, match="create or join a game first"):
        panel.start()
    assert not panel.answer(0) and "no question has been asked yet" in panel.log[-1]
    player.deliver({"action": "error", "data": "there is no game 'x'"})
    assert "there is no game" in panel._status.value and len(seen) == 1
    panel.close()
    assert player.on_message == seen.append


def test_requests_leave_out_what_was_not_given() -> None:
    assert trivia_bots.newgame() == {"action": "newgame"}
    assert trivia_bots.joingame(GAME, name="Ada") == {"action": "joingame", "gameid": GAME,
                                                      "name": "Ada"}
    assert trivia_bots.startgame(GAME, waitseconds=5) == {"action": "startgame",
                                                          "gameid": GAME, "waitseconds": 5}


def test_the_answer_key_chooses_with_the_accuracy_asked() -> None:
    rng = random.Random(1)
    picks = [KEY.choose(QUESTION, accuracy=0.7, rng=rng) for _ in range(2000)]
    assert 0.65 < picks.count("4") / len(picks) < 0.75
    assert {KEY.choose(QUESTION, accuracy=0.0, rng=rng) for _ in range(50)} == {"3", "5", "22"}
    assert KEY.earned("q2", "Paris") == 3 and KEY.earned("q2", "Lyon") == 0


def test_the_answer_key_covers_the_question_bank() -> None:
    key = AnswerKey.load()
    bank = json.loads(trivia_bots.BANK.read_text())
    assert set(key.answers) == {q["id"] for q in bank}
    assert all(key.points[q["id"]] == 1 + q.get("bonus", 0) for q in bank)


def test_the_scoreboard_chart_ranks_and_highlights_you() -> None:
    ax = plot_scoreboard({"Ada": 5, "You": 3, "Linus": 1}, you="You")
    assert [label.get_text() for label in ax.get_yticklabels()] == ["Linus", "You", "Ada"]
    colours = [bar.get_facecolor() for bar in ax.patches]
    assert colours[1] != colours[0] == colours[2]
    assert [bar.get_width() for bar in ax.patches] == [1, 3, 5]
