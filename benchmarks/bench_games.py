"""Whole games on a time-scaled cloud: a ten-question trivia game and a lottery draw.

The trivia lab promises that a test plays a whole game in about a second: at time scale
0.01 a question's ``waitseconds`` 10 waits 0.1 s, and the rest is connecting the bots,
the task functions, the state machine and the WebSocket traffic.
"""

from __future__ import annotations

import io
import time

from workshop import demo, lab
from workshop.notebook import lottery

from .report import Figure, percentile

QUESTIONS = 10
WAIT_SECONDS = 10


def _timed(play: object, *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    play(*args, **kwargs)
    return time.perf_counter() - started


def trivia_game(url: str) -> list[Figure]:
    _timed(demo.play_trivia, url, out=io.StringIO(), waitseconds=WAIT_SECONDS,
           questioncount=1)  # warm: every function has a worker
    figures = []
    for count in (3, QUESTIONS):
        seconds = [_timed(demo.play_trivia, url, out=io.StringIO(), waitseconds=WAIT_SECONDS,
                          questioncount=count) for _ in range(3)]
        figures.append(Figure(f"trivia game, 3 bots, {count} questions x {WAIT_SECONDS} s, "
                              "connecting included (median of 3)", percentile(seconds, 50), "s",
                              "<= 2" if count == 3 else ""))
    return figures


def lottery_draw(outputs: dict[str, str]) -> list[Figure]:
    lottery.reset_pool(outputs["EmployeesTableName"], outputs["WinnersTableName"])
    machine = outputs["LotteryStateMachineArn"]
    seconds = []
    for _ in range(6):
        started = time.perf_counter()
        assert lottery.run_draw(machine, {"input": 2})["status"] == "SUCCEEDED"
        seconds.append(time.perf_counter() - started)
    warm = seconds[1:]
    return [Figure("lottery draw of 2, first", seconds[0], "s"),
            Figure("lottery draw of 2, warm (median of 5)", percentile(warm, 50), "s")]


def games() -> list[Figure]:
    """Deploy labs 1-6 as their own stack and play; call inside a cloud at scale 0.01."""
    outputs = lab.deploy(6, stack_name="bench-games", target="local")["outputs"]
    return trivia_game(outputs["WebSocketURL"]) + lottery_draw(outputs)
