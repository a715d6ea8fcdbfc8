"""Class play on the local cloud: ``up --host ADDR`` and what the room is told.

A cloud of its own listens on loopback and on 127.0.0.2 (standing in for the instructor's
address on the classroom network). ``workshop deploy`` publishes the pages and prints
their addresses on 127.0.0.2; the pages and their config load from there; ``workshop
room`` hosts a trivia game that a player joins through 127.0.0.2 and ends with the
leaderboard.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from room_games import play_room_game, player_url

from workshop import cloud as lifecycle

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
ROOM = "127.0.0.2"


def workshop(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def room_lines(stdout: str) -> dict[str, str]:
    """The "for the room" block: output name -> address."""
    block = stdout.split(f"for the room (class play on {ROOM}):\n", 1)[1]
    pairs = (line.split() for line in block.splitlines() if line.startswith("  "))
    return {name: url for name, url in pairs}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Only the WORKSHOP_* variables change (the session's cloud keeps its AWS_* ones), and
    # everything is put back after: later tests talk to the session's cloud again.
    patch = pytest.MonkeyPatch()
    for name, value in (("WORKSHOP_HOME", str(tmp_path_factory.mktemp("room"))),
                        ("WORKSHOP_PORT", str(port)), ("WORKSHOP_TIME_SCALE", "0.01")):
        patch.setenv(name, value)
    try:
        started = workshop("up", "--host", ROOM)
        assert started.returncode == 0, started.stderr
        deployed = workshop("deploy", "--template", str(TEMPLATE))
        assert deployed.returncode == 0, deployed.stderr
        yield {"port": str(port), "deploy": deployed.stdout}
    finally:
        lifecycle.down()
        patch.undo()


def test_deploy_prints_the_pages_for_the_room(classroom: dict) -> None:
    pages = room_lines(classroom["deploy"])
    assert set(pages) == {"WebsiteURL", "BattlePageURL", "TriviaPageURL"}
    prefix = f"http://{ROOM}:{classroom['port']}/_website/workshop-website-sitebucket-"
    assert all(url.startswith(prefix) for url in pages.values())
    assert room_lines(workshop("outputs").stdout) == pages
    assert room_lines(workshop("up").stdout) == pages


def test_the_pages_load_from_the_room_address(classroom: dict) -> None:
    page = room_lines(classroom["deploy"])["BattlePageURL"]
    with urllib.request.urlopen(page, timeout=10) as reply:
        assert reply.status == 200 and b"./config.js" in reply.read()
    with urllib.request.urlopen(page + "config.js", timeout=10) as reply:
        config = reply.read().decode()
    # The loopback address: the page swaps in the address it was loaded from.
    assert f'"webSocketUrl": "ws://127.0.0.1:{classroom["port"]}/' in config


def test_a_room_game_is_joined_through_the_room_address(classroom: dict) -> None:
    def joining(lines: IO[str]) -> tuple[str, str]:
        header = [lines.readline() for _ in range(3)]
        game_id = header[0].removeprefix("Trivia game ").strip()
        assert header[1].strip() == (
            f"in a browser:  {room_lines(classroom['deploy'])['TriviaPageURL']}?game={game_id}")
        learner_url = player_url(lines)
        assert learner_url.startswith(f"ws://{ROOM}:{classroom['port']}/")
        return game_id, learner_url

    # 100 s to answer is 1 s at the time scale of 0.01: time for the bot's answer.
    out, expected = play_room_game(["--start-when", "1", "--questions", "1", "--wait", "100"],
                                   joining=joining, players={"Ada": 1.0}, seed=1,
                                   env=os.environ)
    assert out.split("leaderboard:\n", 1)[1].split() == ["1.", "Ada", str(expected["Ada"])]
    assert expected["Ada"] > 0          # always right: the one question earned points
