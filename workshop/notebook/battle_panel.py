"""A battle between two players, as ipywidgets you can click or drive from code.

Each player gets a card: its score, whether it is frozen, dead or settled, what it
last heard of its opponent's score, and buttons to score, attack and die. Underneath, a
log shows every message sent (``→``) and received (``←``) as it happens. The buttons
call the same methods a notebook calls (``panel.score(alice, 3)``, ``panel.attack(bob)``,
``panel.die(alice)``), so a test can play the battle the way a learner does.

Like the original lab's game client, the panel enforces the client's side of the rules: a
frozen player can neither score nor attack until the freeze wears off, and a dead
player cannot act at all.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..player import Player
from .message_log import MessageLog

__all__ = ["BattlePanel", "PlayerState", "plot_scores"]

_SETTLEMENT_BADGE = {"WIN": "🏆 WIN", "LOSE": "LOSE", "DRAW": "🤝 DRAW"}


@dataclass
class PlayerState:
    """What one card shows."""

    score: int = 0
    opponent_score: int | None = None
    frozen_until: float = 0.0
    dead: bool = False
    settlement: str | None = None

    def frozen(self, now: float) -> bool:
        return now < self.frozen_until


class BattlePanel:
    """Two player cards and a live message log over two connected, matched players."""

    def __init__(self, left: Player, right: Player, *, freeze_seconds: float = 3.0,
                 log_lines: int = 14, poll_seconds: float = 0.05) -> None:
        self.players = (left, right)
        self.freeze_seconds = freeze_seconds
        self._messages = MessageLog(shown=log_lines)
        self.log = self._messages.lines
        self._states = {id(left): PlayerState(), id(right): PlayerState()}
        self._seen = {id(left): 0, id(right): 0}
        self._history: list[dict[str, Any]] = []
        self._freezes: list[dict[str, Any]] = []
        self._started = time.monotonic()
        self._lock = threading.RLock()
        self._cards = {id(player): self._card(player) for player in self.players}
        self.widget = widgets.VBox([
            widgets.HBox([self._cards[id(p)]["box"] for p in self.players]),
            self._messages.widget])
        for player in self.players:
            self._record(player)
        self.refresh()
        self._render()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, args=(poll_seconds,),
                                         name="battle-panel", daemon=True)
        self._watcher.start()

    # -- what a learner (or a test) does --------------------------------------------

    def score(self, player: Player, points: int = 1) -> bool:
        """``player`` scores ``points`` and syncs its score; False if it may not score."""
        with self._lock:
            state = self.state(player)
            if self._refused(player, state, "score"):
                return False
            state.score += points
            self._send(player, "syncscore", score=state.score)
            self._record(player)
        return True

    def attack(self, player: Player) -> bool:
        """``player`` freezes its opponent (``attack``); False if it may not act."""
        with self._lock:
            if self._refused(player, self.state(player), "attack"):
                return False
            self._send(player, "attack")
        return True

    def die(self, player: Player) -> bool:
        """``player`` dies (``die``); the battle settles when both have died."""
        with self._lock:
            state = self.state(player)
            if self._refused(player, state, "die", frozen_ok=True):
                return False
            state.dead = True
            self._send(player, "die")
        return True

    def wait_for(self, player: Player, action: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for ``player`` to receive ``action``, then bring the cards up to date."""
        message = player.wait_for(action, timeout=timeout)
        self.refresh()
        return message

    def state(self, player: Player) -> PlayerState:
        """The card state of ``player``."""
        return self._states[id(player)]

    @property
    def history(self) -> pd.DataFrame:
        """Each player's score over time: seconds since the panel opened, user id, score."""
        with self._lock:
            return pd.DataFrame(self._history, columns=["seconds", "user_id", "score"])

    @property
    def freezes(self) -> pd.DataFrame:
        """When each attack froze a player: user id, start and end in panel seconds."""
        with self._lock:
            return pd.DataFrame(self._freezes, columns=["user_id", "start", "end"])

    def close(self) -> None:
        """Stop following the players (it does not close their connections)."""
        self._stop.set()
        self._watcher.join(timeout=2.0)
        for card in self._cards.values():
            for button in card["buttons"]:
                button.disabled = True

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- incoming messages ----------------------------------------------------------

    def refresh(self) -> None:
        """Apply every message the players received since the last refresh."""
        with self._lock:
            changed = False
            for player in self.players:
                inbox = list(player.inbox)
                for message in inbox[self._seen[id(player)]:]:
                    self._apply(player, message)
                    changed = True
                self._seen[id(player)] = len(inbox)
            if changed:
                self._render()

    def _apply(self, player: Player, message: Mapping[str, Any]) -> None:
        state, action, data = self.state(player), message.get("action"), message.get("data")
        self._messages.received(player.user_id, message)
        if action == "attacked":
            state.frozen_until = time.monotonic() + self.freeze_seconds
            start = self._seconds()
            self._freezes.append({"user_id": player.user_id, "start": start,
                                  "end": round(start + self.freeze_seconds, 3)})
        elif action == "player_syncscore" and isinstance(data, (int, float)):
            state.opponent_score = int(data)
        elif action == "battle_settlement":
            state.settlement = str(data)

    def _watch(self, poll_seconds: float) -> None:
        frozen_before: set[int] = set()
        while not self._stop.wait(poll_seconds):
            self.refresh()
            now = time.monotonic()
            frozen = {key for key, state in self._states.items() if state.frozen(now)}
            if frozen != frozen_before:       # a freeze wore off: redraw the card
                frozen_before = frozen
                with self._lock:
                    self._render()

    # -- helpers --------------------------------------------------------------------

    def _refused(self, player: Player, state: PlayerState, verb: str, *,
                 frozen_ok: bool = False) -> bool:
        now = time.monotonic()
        reason = ("is dead" if state.dead else
                  f"is frozen for {state.frozen_until - now:.1f} s more"
                  if state.frozen(now) and not frozen_ok else "")
        if reason:
            self._messages.say(f"{player.user_id} cannot {verb}: it {reason}")
            self._render()
        return bool(reason)

    def _send(self, player: Player, action: str, **fields: Any) -> None:
        player.send(action, **fields)
        self._messages.sent(player.user_id, {"action": action, **fields})
        self._render()

    def _seconds(self) -> float:
        return round(time.monotonic() - self._started, 3)

    def _record(self, player: Player) -> None:
        self._history.append({"seconds": self._seconds(), "user_id": player.user_id,
                              "score": self.state(player).score})

    def _card(self, player: Player) -> dict[str, Any]:
        title = widgets.HTML(f"<b>{html.escape(player.user_id)}</b>")
        body = widgets.HTML()
        buttons = [widgets.Button(description=text, layout=widgets.Layout(width="auto"))
                   for text in ("+1", "+5", "attack ⚡", "die 💀")]
        for button, action in zip(buttons, (lambda: self.score(player, 1),
                                            lambda: self.score(player, 5),
                                            lambda: self.attack(player),
                                            lambda: self.die(player)), strict=True):
            button.on_click(lambda _button, act=action: act())
        box = widgets.VBox([title, body, widgets.HBox(buttons)], layout=widgets.Layout(
            border="1px solid #999", padding="6px 10px", margin="0 8px 8px 0",
            width="48%"))
        return {"box": box, "body": body, "buttons": buttons}

    def _render(self) -> None:
        now = time.monotonic()
        for player in self.players:
            state, card = self.state(player), self._cards[id(player)]
            if state.settlement:
                status = _SETTLEMENT_BADGE.get(state.settlement, state.settlement)
            elif state.dead:
                status = "💀 dead, waiting for the settlement"
            elif state.frozen(now):
                status = "❄ FROZEN"
            else:
                status = "playing"
            opponent = "–" if state.opponent_score is None else state.opponent_score
            card["body"].value = (
                f"<div style='font-size:2em'>{state.score}</div>"
                f"<div>{html.escape(status)}</div>"
                f"<div style='color:#666'>opponent's score as heard: {opponent}</div>")
            for button in card["buttons"]:
                button.disabled = state.dead
        self._messages.render()


def plot_scores(history: pd.DataFrame, *, freezes: pd.DataFrame | None = None, ax: Any = None,
                title: str = "Scores over time") -> Any:
    """Each player's score against time, freezes shaded; returns the matplotlib Axes.

    Every line runs on to the end of the battle, so the last scores can be compared.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _figure, ax = plt.subplots(figsize=(7, 3.5))
    end = max([history["seconds"].max(), *([] if freezes is None else freezes["end"])])
    colours = {}
    for user_id, scores in history.groupby("user_id", sort=False):
        seconds = [*scores["seconds"], end]
        points = [*scores["score"], scores["score"].iloc[-1]]
        (line,) = ax.step(seconds, points, where="post", label=user_id)
        ax.plot(scores["seconds"], scores["score"], "o", color=line.get_color())
        colours[user_id] = line.get_color()
    for freeze in ([] if freezes is None else freezes.itertuples()):
        ax.axvspan(freeze.start, freeze.end, color=colours.get(freeze.user_id, "grey"),
                   alpha=0.15, label=f"{freeze.user_id} frozen")
    ax.set_xlabel("seconds since the panel opened")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
