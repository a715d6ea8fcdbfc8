"""Faults on purpose in the notebooks: watch a Retry and a Catch do their work (lab 5).

A transient Lambda error cannot be ordered on demand from AWS itself; AWS Fault Injection
Service (FIS) can inject one, and so can the local cloud (:mod:`workshop.faults`, in
FIS's spirit). This module plays the experiment: inject errors into a task's function,
play a one-question game alone, and read what the execution and the player saw.

On the aws target nothing is injected: :func:`inject_errors` says how FIS would do it
and the checks report what they saw without judging.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import faults
from ..player import Player, PlayerTimeout
from . import state_machines
from .checks import Check, information, verdict
from .target import Target

__all__ = ["SoloGame", "caught", "inject_errors", "play_solo", "retried", "retry_attempts"]

SERVICE_EXCEPTION = "Lambda.ServiceException"
# A cold start, the retries' back-off and a question's wait, with room to spare.
_GAME_TIMEOUT = 60.0


@dataclass(frozen=True)
class SoloGame:
    """A game played alone: its execution, and every message the player received."""

    game_id: str
    execution_arn: str
    inbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return any(m.get("action") == "gameover" for m in self.inbox)

    def told(self) -> list[str]:
        """What the player received, one short line per message."""
        return [m.get("action", "?") + (f": {m['data']}" if m.get("action") == "error" else "")
                for m in self.inbox]

    def lambda_events(self) -> pd.DataFrame:
        """The execution's Lambda events: each invocation scheduled, failed or succeeded."""
        history = state_machines.history_frame(self.execution_arn)
        return history[history["type"].str.startswith("LambdaFunction")].reset_index(drop=True)


def inject_errors(session: Target, function: str, *, count: int,
                  error: str = SERVICE_EXCEPTION) -> faults.Fault | Check:
    """The next ``count`` invocations of ``function`` fail with ``error`` (local cloud).

    On the aws target: nothing is injected; the answer says how FIS would do it.
    """
    if not session.local:
        return information(
            "nothing injected: on AWS, faults come from an AWS FIS experiment template with "
            f"the action aws:lambda:invocation-error targeting {function} (it needs FIS's "
            "Lambda extension layer). The game below runs without faults")
    return faults.add_error(function, error=error, count=count)


def retry_attempts(state_machine_arn: str, state: str, error: str = SERVICE_EXCEPTION) -> int:
    """How many times ``state`` is tried in all when ``error`` persists: 1 plus the
    ``MaxAttempts`` of its first Retrier naming the error (or ``States.ALL``)."""
    task = state_machines.definition(state_machine_arn).get("States", {}).get(state, {})
    for retrier in task.get("Retry") or []:
        if {error, "States.ALL"} & set(retrier.get("ErrorEquals", [])):
            return 1 + int(retrier.get("MaxAttempts", 3))
    return 1


def play_solo(url: str, state_machine_arn: str, *, questions: int = 1,
              waitseconds: int = 2, timeout: float = _GAME_TIMEOUT) -> SoloGame:
    """Create a game alone, start it and wait for ``gameover`` (or ``timeout``)."""
    with Player(url, user_id=f"solo-{uuid.uuid4().hex[:6]}", name="you") as player:
        player.send("newgame", name="You")
        game_id = player.wait_for("gamecreated", timeout=15)["gameId"]
        player.send("startgame", gameid=game_id, waitseconds=waitseconds,
                    questioncount=questions)
        try:
            player.wait_for("gameover", timeout=timeout)
        except PlayerTimeout:
            pass  # the checks say what came instead
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":game-{game_id}"
        return SoloGame(game_id, arn, player.inbox)


def _failures(game: SoloGame, error: str) -> int:
    events = game.lambda_events()
    return int(((events["type"] == "LambdaFunctionFailed")
                & events["detail"].str.contains(f"error: {error}", regex=False)).sum())


def _injected(fault: faults.Fault | Check) -> Mapping[str, Any] | None:
    return fault.details if isinstance(fault, faults.Fault) else None


def retried(game: SoloGame, fault: faults.Fault | Check) -> Check:
    """The injected errors were retried, and the game still finished."""
    details = _injected(fault)
    described = state_machines.wait(game.execution_arn)
    if details is None:
        return information(f"no fault was injected; the game ended {described['status']}")
    error, count = details["error"], details["remaining"]
    failed = _failures(game, error)
    name = game.execution_arn.rsplit(":", 1)[-1]
    return verdict(
        failed == count and described["status"] == "SUCCEEDED" and game.over,
        f"{name} met {failed} × {error} and retried each time; the game finished "
        "(SUCCEEDED, the player got gameover)",
        f"{name} met {failed} × {error} (expected {count}) and ended "
        f"{described['status']}; the player got {game.told()}: does the Retry name {error}?")


def caught(game: SoloGame, fault: faults.Fault | Check) -> Check:
    """The injected errors outlasted the Retry, and the Catch ended the game cleanly."""
    details = _injected(fault)
    described = state_machines.wait(game.execution_arn)
    if details is None:
        return information(f"no fault was injected; the game ended {described['status']}")
    path = state_machines.path(game.execution_arn)
    errors = [m.get("data") for m in game.inbox if m.get("action") == "error"]
    name = game.execution_arn.rsplit(":", 1)[-1]
    told = next((str(e) for e in errors if details["error"] in str(e)), None)
    ok = (described["status"] == "FAILED" and "EndGameAfterError" in path and game.over
          and told is not None)
    return verdict(ok, f"{name} gave up after {_failures(game, details['error'])} attempts; "
                       f"the Catch ran EndGameAfterError, the player was told {told!r} and "
                       "got gameover, and the execution FAILED",
                   f"{name} ended {described['status']} along {' → '.join(path)}; the "
                   f"player got {game.told()}: does the Catch lead to EndGameAfterError?")
