"""A computer opponent for the battle page: it waits in a room, then plays one battle.

A learner with one browser tab still has someone to play: start a bot, then press *Find an
opponent* in the page; matchmaking puts the two in one room. The bot plays the way the
page lets a person play (the exact lab 1–4 protocol, through :class:`~workshop.player.Player`):
it scores a point or two at a time and syncs it, attacks once it has more than 10 points,
cannot score while it is frozen, and dies when it reaches its target (or soon after its
opponent died, so the battle settles)::

    bot = BattleBot(url).start()
    bot.status          # "waiting for an opponent" … "playing alice: 7 against 3" … "won"
    bot.stop()          # leaves its room if nobody came

It runs on a thread of its own and gives up after ``wait_seconds`` without an opponent,
leaving its room (``exitroom``) so it strands nobody.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from .player import Player, PlayerClosed

__all__ = ["BattleBot"]

FREEZE_SECONDS = 3.0     # how long an attack stops the bot scoring
ATTACK_FROM = 11         # "more than 10 points" unlocks the attack


class BattleBot:
    """One bot player: ``start()`` it, read ``status``, ``stop()`` it (or let it finish)."""

    def __init__(self, url: str, *, user_id: str = "bot", wait_seconds: float = 300.0,
                 step_seconds: float = 0.6, target: int | None = None,
                 freeze_seconds: float = FREEZE_SECONDS,
                 rng: random.Random | None = None) -> None:
        self.url, self.user_id = url, user_id
        self.wait_seconds, self.step_seconds = wait_seconds, step_seconds
        self.freeze_seconds = freeze_seconds
        self.frozen_times = 0
        self._rng = rng or random.Random()
        self.target = target if target is not None else self._rng.randint(18, 30)
        self.score = 0
        self.opponent: str | None = None
        self.opponent_score = 0
        self.result: str | None = None
        self.status = "not started"
        self._frozen_until = 0.0
        self._opponent_dead = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._player: Player | None = None

    def __repr__(self) -> str:
        return f"BattleBot({self.user_id!r}: {self.status})"

    def start(self) -> BattleBot:
        """Connect, join a room and play on a thread of its own; returns at once."""
        self._player = Player(self.url, user_id=self.user_id, on_message=self._heard)
        self._player.send("joinroom")
        self.status = "waiting for an opponent"
        self._thread = threading.Thread(target=self._run, name=f"battle-bot-{self.user_id}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 5.0) -> str:
        """Stop playing (leaving the room if still alone) and close; returns the status."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status

    # -- the game ------------------------------------------------------------------------

    def _heard(self, message: dict[str, Any]) -> None:
        action, data = message.get("action"), message.get("data")
        if action == "peer_player_id":
            self.opponent = str(data)
        elif action == "player_syncscore" and isinstance(data, int):
            # Scores only grow in a battle; two syncs may arrive in either order.
            self.opponent_score = max(self.opponent_score, data)
        elif action == "attacked" and data == "FREEZE":
            self._frozen_until = time.monotonic() + self.freeze_seconds
            self.frozen_times += 1
        elif action == "player_died" and data != self.user_id:
            self._opponent_dead = True
        elif action == "battle_settlement":
            self.result = str(data)

    def _run(self) -> None:
        player = self._player
        assert player is not None
        try:
            if self._wait_for_opponent():
                self._play(player)
            elif player.connected:
                player.send("exitroom")      # nobody is left waiting for a bot that went
        except PlayerClosed:
            self.status = "the connection closed"
        finally:
            player.close()

    def _wait_for_opponent(self) -> bool:
        deadline = time.monotonic() + self.wait_seconds
        while self.opponent is None:
            if self._stop.wait(0.1):
                self.status = "stopped before an opponent came"
                return False
            if time.monotonic() > deadline:
                self.status = f"gave up: nobody came within {self.wait_seconds:g} s"
                return False
        return True

    def _play(self, player: Player) -> None:
        attacked_at = -1e9
        died = False
        while self.result is None and not self._stop.wait(self.step_seconds):
            now = time.monotonic()
            if not died and now >= self._frozen_until:
                self.score += self._rng.randint(1, 2)
                player.send("syncscore", score=self.score)
            if self.score >= ATTACK_FROM and now - attacked_at > 4 and not died:
                player.send("attack")
                attacked_at = now
            if not died and (self.score >= self.target or
                             (self._opponent_dead and self.score > self.opponent_score)):
                player.send("die")
                died = True
            frozen = " (frozen)" if now < self._frozen_until else ""
            self.status = (f"playing {self.opponent}: {self.score} against "
                           f"{self.opponent_score}{frozen}")
        if self.result is not None:
            self.status = {"WIN": "won", "LOSE": "lost", "DRAW": "drew"}.get(
                self.result, self.result)
        elif self._stop.is_set():
            self.status = "stopped during the battle"
