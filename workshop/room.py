"""Class play: one trivia game for the whole room, hosted by the instructor.

The instructor's machine runs the backend (the local cloud with ``workshop up --host
ADDR``, or the instructor's stack on AWS). :func:`host_game` creates a game on it; the
instructor is its first player, the *host*, who never answers. Learners join from a
browser (the trivia page, with ``?game=<id>`` in its address) or from a notebook
(``TriviaPanel(Player(url)).join(game_id)``); the host starts the game, and at the end
the leaderboard ranks everyone but the host::

    game = host_game(addresses)              # addresses = room_addresses(...)
    game.players()                           # ["Ada", "Linus", ...] as they join
    game.start(questions=5, wait_seconds=20)
    game.wait_until_over()                   # the leaderboard: [("Ada", 9), ("Linus", 4)]

``python -m workshop room`` does the same from a terminal.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .errors import WorkshopError
from .notebook.trivia_bots import newgame, startgame
from .player import Player

__all__ = ["HOST_NAME", "RoomAddresses", "RoomError", "RoomGame", "host_game",
           "join_instructions", "leaderboard_text", "room_addresses"]

HOST_NAME = "Host"


class RoomError(WorkshopError):
    """The room game cannot be created, started or followed; the message says why."""


@dataclass(frozen=True)
class RoomAddresses:
    """Where the host connects, and where learners connect and play."""

    host_url: str                  # the WebSocket URL from this machine
    learner_url: str               # the WebSocket URL from the learners' machines
    trivia_page: str | None        # the trivia page for the learners, if published


def _with_host(url: str, host: str) -> str:
    parts = urlsplit(url)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def room_addresses(game_outputs: Mapping[str, str], site_outputs: Mapping[str, str] | None,
                   *, exposed: str | None) -> RoomAddresses:
    """The room's addresses: the local cloud's loopback ones made ``exposed`` (class play
    with ``up --host``), or the stack's own on AWS (already public)."""
    url = game_outputs.get("WebSocketURL")
    if not url:
        raise RoomError("the stack has no WebSocketURL output: deploy the game first "
                        "(`python -m workshop deploy`)")
    page = (site_outputs or {}).get("TriviaPageURL")
    loopback = urlsplit(url).hostname in ("127.0.0.1", "localhost")
    if loopback and exposed:
        return RoomAddresses(url, _with_host(url, exposed),
                             _with_host(page, exposed) if page else None)
    return RoomAddresses(url, url, page)


class RoomGame:
    """A trivia game the host created: its players, its start, its leaderboard."""

    def __init__(self, addresses: RoomAddresses, *, host_name: str = HOST_NAME,
                 timeout: float = 15.0) -> None:
        self.addresses = addresses
        self._lock = threading.Lock()
        self._players: list[dict[str, Any]] = []
        self._questions: list[dict[str, Any]] = []
        self._over = threading.Event()
        self.host = Player(addresses.host_url, name=host_name, on_message=self._heard)
        try:
            self.host.send(**newgame(name=host_name))
            self.game_id: str = self.host.wait_for("gamecreated", timeout=timeout)["gameId"]
        except Exception as error:
            self.host.close()
            raise RoomError(f"the game could not be created: {error}") from error

    def __repr__(self) -> str:
        return f"<RoomGame {self.game_id}: {len(self.players())} players>"

    @property
    def join_page(self) -> str | None:
        """The trivia page with this game's id, for the learners' browsers."""
        page = self.addresses.trivia_page
        return f"{page}?{urlencode({'game': self.game_id})}" if page else None

    def _heard(self, message: dict[str, Any]) -> None:
        action = message.get("action")
        with self._lock:
            if action == "playerlist" and _not_older(message.get("players") or [],
                                                      self._players):
                self._players = list(message.get("players") or [])
            elif action == "question":
                self._questions.append(message.get("question") or {})
        if action == "gameover":
            self._over.set()

    def players(self) -> list[str]:
        """The names of the players who joined, the host left out."""
        with self._lock:
            return [str(p.get("playerName")) for p in self._players if not p.get("currentPlayer")]

    def asked(self) -> list[dict[str, Any]]:
        """The questions asked so far (``id``, ``question``, ``options``), in order."""
        with self._lock:
            return list(self._questions)

    @property
    def over(self) -> bool:
        return self._over.is_set()

    def start(self, *, questions: int = 5, wait_seconds: int = 20) -> None:
        """Start the game for everyone who has joined."""
        if not self.players():
            raise RoomError("nobody has joined yet: share the game id first")
        self.host.send(**startgame(self.game_id, waitseconds=wait_seconds,
                                   questioncount=questions))
        self.host.wait_for("gamestarted", timeout=15.0)

    def leaderboard(self) -> list[tuple[str, int]]:
        """Everyone but the host, best first, by the scores the server last sent."""
        with self._lock:
            rows = [(str(p.get("playerName")), int(p.get("score", 0)))
                    for p in self._players if not p.get("currentPlayer")]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def wait_until_over(self, *, timeout: float = 900.0) -> list[tuple[str, int]]:
        """Block until ``gameover``; returns the final leaderboard."""
        if not self._over.wait(timeout):
            raise RoomError(f"the game did not end within {timeout:g} s")
        # The state machine sends the last scores, then gameover: the board is final.
        return self.leaderboard()

    def close(self) -> None:
        self.host.close()


def _not_older(candidate: list[dict[str, Any]], current: list[dict[str, Any]]) -> bool:
    """Whether a player list may replace the current one. Lists sent by two invocations
    can arrive in either order; players only join and scores only grow, so the newer list
    has at least as many players and at least as many points."""
    def points(players: list[dict[str, Any]]) -> int:
        return sum(int(p.get("score", 0)) for p in players)

    return (len(candidate), points(candidate)) >= (len(current), points(current))


def host_game(addresses: RoomAddresses, *, host_name: str = HOST_NAME) -> RoomGame:
    """Create the room's game, with the instructor as its (non-playing) host."""
    return RoomGame(addresses, host_name=host_name)


def join_instructions(game: RoomGame) -> str:
    """What to tell the room: the page to open, or the two lines for a notebook."""
    lines = [f"Trivia game {game.game_id}"]
    if game.join_page:
        lines.append(f"  in a browser:  {game.join_page}")
    lines += ["  in a notebook:",
              "      from workshop.player import Player",
              "      from workshop.notebook.trivia_panel import TriviaPanel",
              f'      panel = TriviaPanel(Player("{game.addresses.learner_url}"))',
              f'      panel.join("{game.game_id}", name="your name"); panel']
    return "\n".join(lines)


def leaderboard_text(rows: list[tuple[str, int]]) -> str:
    """The leaderboard as numbered lines (ties share a place)."""
    if not rows:
        return "nobody played"
    width = max(len(name) for name, _ in rows)
    lines, place, previous = [], 0, None
    for index, (name, score) in enumerate(rows, start=1):
        if score != previous:
            place, previous = index, score
        lines.append(f"{place:>3}. {name:<{width}}  {score}")
    return "\n".join(lines)
