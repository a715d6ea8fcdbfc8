"""A trivia game for one human player, as ipywidgets you can click or drive from code.

The panel shows the question being asked with one button per option, a countdown to the
scoring, the scoreboard as the server last sent it, and a log of every message sent
(``→``) and received (``←``). It follows the game through the player's ``on_message``
hook, so the widgets change as messages arrive, from the connection's reader thread,
while no cell is running — which is what lets you click in JupyterLab.

Every button calls a method a notebook can call too (``panel.answer(2)``), and
``panel.autoplay(choose)`` answers each question the moment it arrives, which is how the
notebook plays its game when it runs unattended.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from ..player import Player
from . import trivia_bots
from .message_log import MessageLog

__all__ = ["TriviaPanel", "TriviaState", "plot_scoreboard"]

# An option to answer with: its position among the question's options, or its text.
Option = int | str


@dataclass
class TriviaState:
    """What the panel shows: the game, the question being asked, the scores."""

    game_id: str | None = None
    started: bool = False
    over: bool = False
    waitseconds: float | None = None
    question: dict[str, Any] | None = None   # the question being asked, as sent
    number: int = 0                          # how many questions have been asked
    deadline: float | None = None            # when the countdown reaches zero
    scored: bool = False                     # the question being asked has been scored
    answers: dict[str, str] = field(default_factory=dict)  # question id -> option sent
    players: list[dict[str, Any]] = field(default_factory=list)  # the last player list
    gains: dict[str, int] = field(default_factory=dict)     # connection id -> last gain
    error: str | None = None

    @property
    def open(self) -> bool:
        """Whether the question being asked may still be answered by this player."""
        return (self.question is not None and not self.scored and not self.over
                and self.question["id"] not in self.answers)


class TriviaPanel:
    """The trivia game of one connected player: question, options, countdown, scores, log."""

    def __init__(self, player: Player, *, log_lines: int = 10, tick_seconds: float = 0.25) -> None:
        self.player = player
        self.state = TriviaState()
        self._lock = threading.RLock()
        self._seen = 0
        self._autopilot: Callable[[dict[str, Any]], Option] | None = None
        self._over = threading.Event()
        self._messages = MessageLog(shown=log_lines)
        self.log = self._messages.lines
        self._status = widgets.HTML()
        self._question = widgets.HTML()
        self._options = widgets.HBox()
        self._countdown = widgets.FloatProgress(min=0.0, max=1.0, value=0.0,
                                                layout=widgets.Layout(width="50%"))
        self._countdown_text = widgets.Label()
        self._scoreboard = widgets.HTML(layout=widgets.Layout(width="40%", margin="0 12px 0 0"))
        self.widget = widgets.VBox([
            self._status, self._question, self._options,
            widgets.HBox([self._countdown, self._countdown_text]),
            widgets.HBox([self._scoreboard, self._messages.widget])])
        self._chained = player.on_message
        player.on_message = self._heard
        self.refresh()   # what arrived before the panel was made
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(tick_seconds,),
                                        name="trivia-panel", daemon=True)
        self._ticker.start()

    # -- what a learner (or a test) does --------------------------------------------

    def new_game(self, *, name: str | None = None, timeout: float = 15.0) -> str:
        """Create a game with this player in it; returns the game's id."""
        self._send(trivia_bots.newgame(name=name))
        return self.wait_for("gamecreated", timeout=timeout)["gameId"]

    def join(self, game_id: str, *, name: str | None = None, timeout: float = 15.0) -> None:
        """Join someone's game, before it starts."""
        with self._lock:
            self.state.game_id = game_id
        self._send(trivia_bots.joingame(game_id, name=name))
        self.wait_for("playerlist", timeout=timeout)

    def start(self, *, waitseconds: int | None = None, questioncount: int | None = None) -> None:
        """Start the game: ``waitseconds`` to answer each of ``questioncount`` questions.

        Returns at once; the questions arrive while you click (or while ``autoplay``
        answers).
        """
        with self._lock:
            if self.state.game_id is None:
                raise RuntimeError("create or join a game first")
            self.state.waitseconds = waitseconds
            game_id = self.state.game_id
        self._send(trivia_bots.startgame(game_id, waitseconds=waitseconds,
                                         questioncount=questioncount))

    def answer(self, option: Option) -> bool:
        """Answer the question being asked; False (and a log line) if it cannot be answered."""
        with self._lock:
            question = self.state.question
            if not self.state.open or question is None:
                self._messages.say(f"{self.player.name} cannot answer: {self._why_closed()}")
                self._render()
                return False
            text = question["options"][option] if isinstance(option, int) else option
            self.state.answers[question["id"]] = text
            self._send(trivia_bots.answer(self.state.game_id, question["id"], text))
        return True

    def click(self, index: int) -> bool:
        """Press the button of option ``index``, as a learner does; whether it answered."""
        with self._lock:
            before = len(self.state.answers)
            self._buttons()[index].click()
            return len(self.state.answers) > before

    def autoplay(self, choose: Callable[[dict[str, Any]], Option]) -> None:
        """Answer with ``choose(question)`` every question you have not answered, as it comes."""
        with self._lock:
            self._autopilot = choose
            if self.state.open and self.state.question is not None:
                self.answer(choose(self.state.question))

    def wait_for(self, action: str, *, timeout: float = 15.0) -> dict[str, Any]:
        """Wait for the player to receive ``action`` (one not waited for before)."""
        message = self.player.wait_for(action, timeout=timeout)
        self.refresh()
        return message

    def wait_until_over(self, *, timeout: float = 120.0) -> dict[str, int]:
        """Block until ``gameover`` arrives; returns the final scores."""
        if not self._over.wait(timeout):
            raise TimeoutError(f"the game was not over after {timeout:g} s; "
                               f"{self.state.number} questions asked")
        return self.scores

    @property
    def scores(self) -> dict[str, int]:
        """``{player name: score}`` from the last player list, best first."""
        with self._lock:
            return trivia_bots.scores({"players": self.state.players})

    @property
    def you(self) -> str | None:
        """This player's name in the game, as the player list gives it."""
        with self._lock:
            mine = [p for p in self.state.players if p.get("currentPlayer")]
        return str(mine[0]["playerName"]) if mine else None

    def close(self) -> None:
        """Stop following the game (the connection stays open); buttons are disabled."""
        self._stop.set()
        self._ticker.join(timeout=2.0)
        if self.player.on_message == self._heard:
            self.player.on_message = self._chained
        for button in self._buttons():
            button.disabled = True

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- incoming messages ----------------------------------------------------------

    def _heard(self, message: dict[str, Any]) -> None:
        self.refresh()
        if self._chained is not None:
            self._chained(message)

    def refresh(self) -> None:
        """Apply every message received since the last refresh, then redraw."""
        with self._lock:
            inbox = self.player.inbox
            for message in inbox[self._seen:]:
                self._messages.received(self.player.name, message)
                self._apply(message)
            self._seen = len(inbox)
            self._render()
            question = self.state.question
            if self._autopilot is not None and self.state.open and question is not None:
                self.answer(self._autopilot(question))

    def _apply(self, message: Mapping[str, Any]) -> None:
        state, action = self.state, message.get("action")
        if action == "gamecreated":
            state.game_id = message.get("gameId")
        elif action == "gamestarted":
            state.started = True
        elif action == "question" and isinstance(message.get("question"), Mapping):
            state.question, state.scored = dict(message["question"]), False
            state.number += 1
            state.deadline = (time.monotonic() + state.waitseconds
                              if state.waitseconds else None)
        elif action == "playerlist":
            self._new_scores(message.get("players") or [])
        elif action == "gameover":
            state.over, state.deadline = True, None
            self._over.set()
        elif action == "error":
            state.error = str(message.get("data"))

    def _new_scores(self, players: list[dict[str, Any]]) -> None:
        """A player list: during a question it is that question's scores."""
        state = self.state
        before = {p.get("connectionId"): p.get("score", 0) for p in state.players}
        state.gains = {p.get("connectionId"): p.get("score", 0) - before.get(
            p.get("connectionId"), p.get("score", 0)) for p in players}
        state.players = list(players)
        if state.question is not None:
            state.scored, state.deadline = True, None

    # -- drawing --------------------------------------------------------------------

    def _tick(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            with self._lock:
                if self.state.deadline is not None:
                    self._render_countdown()

    def _buttons(self) -> list[widgets.Button]:
        return list(self._options.children)

    def _why_closed(self) -> str:
        state = self.state
        if state.over:
            return "the game is over"
        if state.question is None:
            return "no question has been asked yet"
        if state.scored:
            return "this question has been scored"
        return "you have already answered this question"

    def _send(self, request: dict[str, Any]) -> None:
        self.player.send(**request)
        with self._lock:
            self._messages.sent(self.player.name, request)
            self._render()

    def _render(self) -> None:
        self._render_status()
        self._render_question()
        self._render_countdown()
        self._scoreboard.value = _scoreboard_html(self.state)
        self._messages.render()

    def _render_status(self) -> None:
        state = self.state
        game = f"game <code>{html.escape(state.game_id[:8])}…</code>" if state.game_id \
            else "no game yet"
        phase = ("🏁 game over" if state.over else
                 f"question {state.number}" if state.number else
                 "starting…" if state.started else "waiting for players")
        error = (f" · <span style='color:#c62828'>{html.escape(state.error)}</span>"
                 if state.error else "")
        self._status.value = f"<b>Trivia</b> · {game} · {phase}{error}"

    def _render_question(self) -> None:
        state, question = self.state, self.state.question
        if question is None:
            self._question.value = "<i>The questions appear here once the game starts.</i>"
            return
        self._question.value = (f"<div style='font-size:1.25em;margin:6px 0'>"
                                f"{html.escape(str(question['question']))}</div>")
        if [b.description for b in self._buttons()] != list(question["options"]):
            self._options.children = [self._option_button(index, text)
                                      for index, text in enumerate(question["options"])]
        chosen = state.answers.get(question["id"])
        for button in self._buttons():
            button.disabled = not state.open
            button.button_style = "info" if button.description == chosen else ""

    def _option_button(self, index: int, text: str) -> widgets.Button:
        button = widgets.Button(description=text, layout=widgets.Layout(width="auto"))
        button.on_click(lambda _button: self.answer(index))
        return button

    def _render_countdown(self) -> None:
        state = self.state
        if state.deadline is None or not state.waitseconds:
            self._countdown.value = 0.0
            self._countdown_text.value = _countdown_caption(state)
            return
        left = max(0.0, state.deadline - time.monotonic())
        self._countdown.value = left / state.waitseconds
        self._countdown_text.value = (f"{left:.0f} s to answer" if left > 0
                                      else "time's up: scoring…")


def _countdown_caption(state: TriviaState) -> str:
    question = state.question
    if state.over or question is None:
        return ""
    if state.scored:
        mine = [p for p in state.players if p.get("currentPlayer")]
        gain = state.gains.get(mine[0].get("connectionId"), 0) if mine else 0
        answered = question["id"] in state.answers
        return (f"scored: +{gain} for you" if gain else
                "scored: no points for you" if answered else "scored: you did not answer")
    return "answered: waiting for the scores" if question["id"] in state.answers else ""


def _scoreboard_html(state: TriviaState) -> str:
    if not state.players:
        return "<i>no players yet</i>"
    ranked = sorted(state.players, key=lambda p: -p.get("score", 0))
    rows = []
    for rank, player in enumerate(ranked, start=1):
        name = html.escape(str(player.get("playerName")))
        if player.get("currentPlayer"):
            name = f"<b>{name} (you)</b>"
        gain = state.gains.get(player.get("connectionId"), 0)
        rows.append(f"<tr><td>{rank}</td><td>{name}</td><td>{player.get('score', 0)}</td>"
                    f"<td style='color:#2e7d32'>{f'+{gain}' if gain else ''}</td></tr>")
    return ("<table><tr><th>#</th><th>player</th><th>score</th><th></th></tr>"
            + "".join(rows) + "</table>")


def plot_scoreboard(scores: Mapping[str, int], *, you: str | None = None, ax: Any = None,
                    title: str = "Final scores") -> Any:
    """The scores as a horizontal bar chart, best at the top, ``you`` highlighted.

    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _figure, ax = plt.subplots(figsize=(6, 0.5 + 0.5 * max(len(scores), 1)))
    ranked = sorted(scores.items(), key=lambda item: item[1])   # barh draws bottom-up
    names = [name for name, _score in ranked]
    colours = ["#2e7d32" if name == you else "#90a4ae" for name in names]
    bars = ax.barh(names, [score for _name, score in ranked], color=colours)
    ax.bar_label(bars, padding=3)
    ax.set_xlabel("points")
    ax.set_title(title)
    ax.margins(x=0.15)
    ax.grid(axis="x", alpha=0.3)
    return ax
