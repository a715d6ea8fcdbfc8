"""`python -m workshop room` played to its leaderboard by trivia bots, shared by the test
folders (the room command on the local target, in class play and on the aws target)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import IO

from workshop.notebook.trivia_bots import Bots

__all__ = ["play_room_game", "player_url"]

# What the room is told: the game's id and the WebSocket URL a player connects to.
Joining = Callable[[IO[str]], tuple[str, str]]


def play_room_game(args: list[str], *, joining: Joining, players: Mapping[str, float],
                   seed: int, env: Mapping[str, str] | None = None
                   ) -> tuple[str, dict[str, int]]:
    """Run ``workshop room ARGS``; ``joining`` reads what it prints until a player can
    join; bots play to the end. Returns the room's output and the bots' expected scores."""
    process = subprocess.Popen([sys.executable, "-m", "workshop", "room", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=None if env is None else dict(env))
    try:
        assert process.stdout is not None
        game_id, url = joining(process.stdout)
        with Bots(url, dict(players), seed=seed) as bots:
            bots.join(game_id)
            out, err = process.communicate(timeout=120)
            expected = bots.expected_scores()
    finally:
        process.kill()
    assert process.returncode == 0, err
    return out, expected


def player_url(lines: IO[str]) -> str:
    """The URL in the room's `Player("…")` line, reading on until it comes."""
    return next(line.split('Player("', 1)[1].split('"', 1)[0]
                for line in iter(lines.readline, "") if 'Player("' in line)
