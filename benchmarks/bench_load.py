"""A classroom's load on the local cloud, and a soak: the figures of "Reliability".

* 500 players connect, join at once, are paired exactly once, fight and settle exactly
  once: connection rate, join latency, messages per second, errors, problems;
* 20 trivia games of 5 players at once: one ``gameover`` each, scores as earned and
  as stored;
* 50 lottery draws at once against one pool: nobody wins twice, every announced winner
  recorded;
* a soak: waves of players connecting, battling and leaving for ``seconds``, with the
  cloud process's memory (RSS) and open file descriptors compared between the end of
  the warm-up and the end.

Problems are counted, with a target of zero; each is printed, so a missed target says
what went wrong. Run inside a cloud at time scale 0.01 (trivia's waits).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from workshop import cloud, loadtest

from .report import Figure

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
PLAYERS = 500
TRIVIA_GAMES, TRIVIA_PLAYERS, TRIVIA_QUESTIONS = 20, 5, 3
TRIVIA_WAIT = 300  # 3 real seconds per question at time scale 0.01
DRAWS, WINNERS, POOL = 50, 2, 150
SOAK_WAVE = 40            # players per wave of the soak
SOAK_WARM_UP = 1 / 6      # of the soak's duration, at least one wave


def _deploy() -> dict[str, str]:
    return cloud.deploy(TEMPLATE, stack_name="bench-load")["outputs"]


def _problems(report: loadtest.Report) -> Figure:
    for problem in report.problems[:20]:
        print(f"  problem: {problem}")
    return Figure(f"{report.name}: problems", len(report.problems), "", "<= 0")


def classroom() -> list[Figure]:
    """The 500-player battle, the trivia games and the lottery draws."""
    game = _deploy()
    asyncio.run(loadtest.battles(game["WebSocketURL"], players=50))  # start the workers
    battle = asyncio.run(loadtest.battles(game["WebSocketURL"], players=PLAYERS,
                                          rooms_table=game["RoomsTableName"], seed=1))
    trivia = asyncio.run(loadtest.trivia_games(
        game["WebSocketURL"], games=TRIVIA_GAMES, players=TRIVIA_PLAYERS,
        questions=TRIVIA_QUESTIONS, waitseconds=TRIVIA_WAIT,
        games_table=game["TriviaGamesTableName"], seed=2))
    draws = loadtest.lottery_draws(game, draws=DRAWS, winners=WINNERS,
                                   pool=loadtest.synthetic_pool(POOL))
    f = battle.figures
    return [
        Figure(f"{PLAYERS} players: connections per second", f["connections per second"],
               "conn/s"),
        Figure(f"{PLAYERS} players: join latency p50", f.get("join latency p50 (s)", 0), "s"),
        Figure(f"{PLAYERS} players: join latency p99", f.get("join latency p99 (s)", 0), "s",
               "<= 29"),
        Figure(f"{PLAYERS} players: messages per second, join to settlement",
               f["messages per second"], "msg/s"),
        Figure(f"{PLAYERS} players: error frames", f["errors"], "", "<= 0"),
        _problems(battle),
        Figure(f"{TRIVIA_GAMES} trivia games x {TRIVIA_PLAYERS} players, {TRIVIA_QUESTIONS} "
               "questions: seconds", trivia.figures["seconds per game"], "s"),
        _problems(trivia),
        Figure(f"{DRAWS} lottery draws of {WINNERS} from {POOL}: seconds",
               draws.figures["seconds"], "s"),
        Figure(f"{DRAWS} lottery draws: succeeded", draws.figures["draws succeeded"], ""),
        _problems(draws),
    ]


def soak(seconds: float) -> list[Figure]:
    """Waves of players connect, join, battle and leave for ``seconds``; the cloud's
    RSS and open fds after the warm-up and at the end.

    Each wave's rooms are deleted once its battles are settled and checked: a settled
    room is the game's data (on AWS, a table item), and kept it would grow the process
    by about 10 KB per player, which is not what this measures. Function logs stay: the
    local cloud bounds them itself (``cloudwatch_logs.MAX_EVENTS_PER_GROUP``).
    """
    game = _deploy()
    pid = int(cloud.status()["pid"])
    url, rooms = game["WebSocketURL"], game["RoomsTableName"]
    started = time.perf_counter()
    warm_until = started + max(seconds * SOAK_WARM_UP, 1.0)
    settled: tuple[int, int] | None = None
    waves = players = 0
    problems: list[str] = []
    while True:
        wave = asyncio.run(loadtest.battles(url, players=SOAK_WAVE, rooms_table=rooms,
                                            seed=waves, clear_rooms=True))
        waves, players = waves + 1, players + SOAK_WAVE
        problems += wave.problems
        if settled is None and time.perf_counter() >= warm_until:
            settled = _footprint(pid)
        if time.perf_counter() - started >= seconds and settled is not None:
            break
    time.sleep(2.0)  # the last wave's $disconnect calls
    end = _footprint(pid)
    for problem in problems[:20]:
        print(f"  problem: {problem}")
    assert settled is not None
    minutes = seconds / 60
    return [
        Figure(f"soak {minutes:g} min: players served ({waves} waves)", players, ""),
        Figure(f"soak {minutes:g} min: problems", len(problems), "", "<= 0"),
        Figure(f"soak {minutes:g} min: cloud RSS after warm-up", settled[0] / 2**20, "MB"),
        Figure(f"soak {minutes:g} min: cloud RSS at the end", end[0] / 2**20, "MB"),
        Figure(f"soak {minutes:g} min: RSS growth after warm-up",
               100 * (end[0] - settled[0]) / settled[0], "%", "<= 10"),
        Figure(f"soak {minutes:g} min: cloud open fds after warm-up", settled[1], ""),
        Figure(f"soak {minutes:g} min: cloud open fds at the end", end[1], "",
               f"<= {settled[1] * 1.1:.0f}"),
    ]


def _footprint(pid: int) -> tuple[int, int]:
    """(resident memory in bytes, open file descriptors) of a process (Linux)."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))
