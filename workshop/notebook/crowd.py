"""Many bot players at once: a full connections table, or a rush on matchmaking.

A :class:`Crowd` connects ``size`` players to a WebSocket API in parallel. Its
:meth:`~Crowd.join_rooms` has every one of them send ``joinroom`` in the same instant,
so the room manager's Lambda function runs many times concurrently, as it would with
real players on AWS.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from ..player import Player
from .matchmaking_report import MatchReport, report
from .progress import Progress

__all__ = ["Crowd"]


class Crowd:
    """``size`` connected bot players named ``{name}-{run}-{n}``; close it when done.

    ``run`` is random, so a crowd never reuses the user ids of an earlier one.
    """

    def __init__(self, url: str, size: int, *, name: str = "bot", progress: bool = True,
                 workers: int = 16) -> None:
        if size < 1:
            raise ValueError(f"a crowd needs at least one player, not {size}")
        run = secrets.token_hex(2)
        self.user_ids = [f"{name}-{run}-{n:03d}" for n in range(1, size + 1)]
        self.players: list[Player] = []
        self._workers = workers
        self._progress = progress
        with Progress(size, description="connecting", show=progress) as bar, \
                ThreadPoolExecutor(workers) as pool:
            def connect(user_id: str) -> Player:
                player = Player(url, user_id=user_id)
                bar.advance()
                return player

            futures = [pool.submit(connect, user_id) for user_id in self.user_ids]
            errors = []
            for future in futures:
                try:
                    self.players.append(future.result())
                except Exception as error:  # noqa: BLE001  (closed below, then re-raised)
                    errors.append(error)
            if errors:
                self.close()
                raise errors[0]
            bar.finish(f"{size} players connected")

    def __iter__(self) -> Iterator[Player]:
        return iter(self.players)

    def __len__(self) -> int:
        return len(self.players)

    def join_rooms(self, *, timeout: float = 30.0, quiet: float = 0.5) -> MatchReport:
        """Every player sends ``joinroom`` at once; wait for the answers and report.

        Waits until each player has had an answer (its room, or an error) and no message
        has arrived for ``quiet`` seconds (opponents are announced a moment after the
        room), or until ``timeout``.
        """
        for player in self.players:
            player.send("joinroom")
        deadline = time.monotonic() + timeout
        with Progress(len(self.players), description="joining rooms",
                      show=self._progress) as bar:
            answered, received, changed = 0, -1, time.monotonic()
            while time.monotonic() < deadline:
                now_answered = sum(1 for p in self.players if p.inbox)
                bar.advance(now_answered - answered)
                answered = now_answered
                now_received = sum(len(p.inbox) for p in self.players)
                if now_received != received:
                    received, changed = now_received, time.monotonic()
                elif answered == len(self.players) and time.monotonic() - changed >= quiet:
                    break
                time.sleep(0.05)
            bar.finish(f"{answered} of {len(self.players)} players answered")
        return report(self.players)

    def pairs(self) -> list[tuple[Player, Player]]:
        """The players matched with each other, two by two (after :meth:`join_rooms`)."""
        by_id = {player.user_id: player for player in self.players}
        rooms = report(self.players).rooms
        return [tuple(by_id[user_id] for user_id in row.players.split(", "))
                for row in rooms.itertuples() if row.outcome == "matched"]

    def close(self) -> None:
        """Close every player's connection (their ``$disconnect`` runs on the server)."""
        with ThreadPoolExecutor(self._workers) as pool:
            list(pool.map(Player.close, self.players))

    def __enter__(self) -> Crowd:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
