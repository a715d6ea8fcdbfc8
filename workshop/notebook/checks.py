"""The "Check your work" cells: each check looks at the cloud and answers in one line.

A check returns a :class:`Check` that a notebook displays as ``✅ what is right`` or
``❌ what is wrong — and what to look at``. It is truthy when it passed, so code (and
tests) can ``assert checks.handshake(...)``. With ``WORKSHOP_STRICT_CHECKS=1`` in the
environment a failing check raises :class:`CheckFailed` instead, which is how the test
suite makes a notebook fail on the first wrong answer.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import pandas as pd
import websocket

from .. import cloud
from . import tables
from .matchmaking_report import Inbox, MatchReport
from .target import Target

__all__ = ["Check", "CheckFailed", "Information", "PROBE_USER_ID", "STRICT_VARIABLE",
           "battle_settled", "deployed", "eventually", "execution", "handshake",
           "handshake_status", "information", "logged", "matched_once", "preflight",
           "race_damage", "room_item", "room_of", "rows", "settled", "settlement_problems",
           "started", "trivia_scored", "verdict"]

STRICT_VARIABLE = "WORKSHOP_STRICT_CHECKS"

T = TypeVar("T")


class CheckFailed(AssertionError):
    """A check failed while ``WORKSHOP_STRICT_CHECKS`` was set."""


@dataclass(frozen=True)
class Check:
    """One verdict: did it work, and one line saying what is right or what is wrong."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'✅' if self.ok else '❌'} {self.message}"

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def require(self) -> Check:
        """Raise :class:`CheckFailed` unless the check passed; return it otherwise."""
        if not self.ok:
            raise CheckFailed(self.message)
        return self


class Information(Check):
    """Neither a pass nor a failure: what a check saw when it could not judge.

    It is falsy (nothing was verified, so nothing passed) and renders with ℹ️, and
    strict mode lets it through: a race that did not show is news, not a wrong answer.
    """

    def __str__(self) -> str:
        return f"ℹ️ {self.message}"


def information(message: str) -> Information:
    """A result that is neither pass nor fail (see :class:`Information`)."""
    return Information(False, message)


def verdict(ok: bool, right: str, wrong: str) -> Check:
    """The check's result; in strict mode a failure raises instead of being returned."""
    result = Check(bool(ok), right if ok else wrong)
    if not ok and os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        raise CheckFailed(result.message)
    return result


def eventually(probe: Callable[[], T], *, timeout: float = 5.0,
               interval: float = 0.1) -> T:
    """Call ``probe`` until it returns something truthy or ``timeout`` passes; its last answer.

    Some of what the labs check happens after the cell that caused it returns: a
    ``$disconnect`` runs once the socket has closed, a log line lands after its
    invocation ends.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(interval)


def preflight(results: pd.DataFrame) -> Check:
    """Every row of ``target.preflight()`` passed."""
    failing = results[results["ok"] != "✅"]
    return verdict(failing.empty, f"all {len(results)} preflight checks pass",
                   f"{len(failing)} preflight check(s) fail: "
                   + "; ".join(f"{row.check} ({row.detail})" for row in failing.itertuples())
                   + " — fix them, then run the preflight cell again")


def started(session: Target) -> Check:
    """The target answers: the local cloud's status endpoint, or AWS's STS (checked on start)."""
    if not session.local:
        return verdict(True, f"AWS answers: {session.description}", "")
    status = cloud.status()
    if not status:
        return verdict(False, "", "no local cloud answers: run the cell above again and "
                                  "read its error, or run `python -m workshop doctor`")
    stacks = ", ".join(status.get("stacks") or []) or "nothing deployed yet"
    return verdict(True, f"the local cloud answers at {status['endpoint']} "
                         f"(pid {status['pid']}; stacks: {stacks})", "")


def deployed(report: Mapping[str, Any], *logical_ids: str) -> Check:
    """The deploy ``report`` has every one of ``logical_ids`` in the stack."""
    present = set(report["created"]) | set(report["updated"]) | set(report["unchanged"])
    missing = [name for name in logical_ids if name not in present]
    changed = len(report["created"]) + len(report["updated"]) + len(report["deleted"])
    return verdict(
        not missing,
        f"{len(logical_ids)} resources in place ({changed} changed in "
        f"{report['seconds']:.2f} s): {', '.join(logical_ids)}",
        f"not deployed: {', '.join(missing)}; look at the deploy report above")


_STATUS = {
    101: "connected (101 Switching Protocols)",
    403: "403 Forbidden",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
}


# The user id the handshake check connects as, so its visit is easy to spot in the logs.
PROBE_USER_ID = "check-your-work"


def handshake_status(url: str, *, timeout: float = 10.0, user_id: str | None = PROBE_USER_ID
                     ) -> int:
    """The HTTP status of a WebSocket handshake: 101 when it opened, else the refusal's."""
    probe = url if user_id is None else (url + ("&" if "?" in url else "?") + f"user_id={user_id}")
    try:
        websocket.create_connection(probe, timeout=timeout).close()
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    return 101


def handshake(url: str, *, expect: int, why: str = "", hint: str = "",
              timeout: float = 10.0) -> Check:
    """Open a WebSocket to ``url`` and compare the handshake's status with ``expect``.

    101 means the connection opened; anything else is the HTTP status API Gateway
    refused it with. The check connects as ``?user_id=check-your-work``. ``why``
    explains a right answer, ``hint`` says what to look at after a wrong one.
    """
    got = handshake_status(url, timeout=timeout)
    said = _STATUS.get(got, f"HTTP {got}")
    return verdict(got == expect,
                   f"{said}, as expected" + (f": {why}" if why else ""),
                   f"expected {_STATUS.get(expect, expect)}, got {said}"
                   + (f"; {hint}" if hint else ""))


def logged(function_name: str, text: str, *, since_ms: int | None = None,
           timeout: float = 5.0) -> Check:
    """Some line of the function's CloudWatch log (since ``since_ms``) contains ``text``."""
    def lines() -> list[str]:
        return [event["message"] for event in tables.log_events(function_name, since_ms=since_ms)
                if text in event["message"]]

    found = eventually(lines, timeout=timeout)
    return verdict(bool(found),
                   f"{len(found)} log line(s) of {function_name} mention {text!r}",
                   f"no log line of {function_name} mentions {text!r} after {timeout:g} s: "
                   "did the request reach the function? Look at the log table above")


def rows(table_name: str, attribute: str, *, present: Iterable[str] = (),
         absent: Iterable[str] = (), timeout: float = 5.0) -> Check:
    """Rows whose ``attribute`` is each of ``present`` exist, and none for ``absent``.

    Waits up to ``timeout`` for the table to get there, since ``$disconnect`` deletes
    its row a moment after the socket closes.
    """
    present, absent = list(present), list(absent)

    def problems() -> tuple[list[str], list[str]]:
        values = {str(item.get(attribute)) for item in tables.items(table_name)}
        return ([v for v in present if v not in values], [v for v in absent if v in values])

    eventually(lambda: not any(problems()), timeout=timeout)
    missing, lingering = problems()
    wrong = []
    if missing:
        wrong.append(f"no row with {attribute} {', '.join(missing)}")
    if lingering:
        wrong.append(f"still a row with {attribute} {', '.join(lingering)}")
    right = []
    if present:
        right.append(f"a row for each of {', '.join(present)}")
    if absent:
        right.append(f"no row for {', '.join(absent)}")
    return verdict(not wrong, f"{table_name} has " + " and ".join(right),
                   f"{table_name}: " + "; ".join(wrong) + " — look at the table above")


def matched_once(report: MatchReport) -> Check:
    """Every player is in exactly one room of two, except one waiting player if odd."""
    summary = report.problems()
    return verdict(
        not summary,
        f"all {report.player_count} players matched exactly once: "
        f"{report.count('matched')} room{'' if report.count('matched') == 1 else 's'} of two"
        + (", one player waiting for an opponent" if report.count("waiting") else ""),
        f"{'; '.join(summary)} — look at the rooms table above")


def race_damage(report: MatchReport) -> Check:
    """The naive matchmaking showed its race (rooms of 3+, players stranded or failed).

    Races depend on timing, so a lucky run is possible. Then nothing was shown, and the
    answer is :func:`information`, not a pass: the race is still there, it just did
    not happen this time.
    """
    summary = report.problems()
    if summary:
        return verdict(True, "the race is visible: " + "; ".join(summary), "")
    return information(f"the race did not show this time: all {report.player_count} players "
                       "were matched cleanly, by luck of timing. The code is just as wrong; "
                       "run the crowd cell again to see it")


def settled(expected: Mapping[Inbox, str], *, timeout: float = 5.0,
            grace: float = 0.3) -> Check:
    """Each player got exactly one ``battle_settlement``, the one ``expected`` names.

    Waits up to ``timeout`` for the settlements, then ``grace`` seconds more, so that a
    second (wrong) settlement on its way is caught too.
    """
    def outcomes() -> dict[str, list[Any]]:
        return {player.user_id: [m.get("data") for m in player.messages("battle_settlement")]
                for player in expected}

    def complete() -> bool:
        return all(outcomes().values())

    if eventually(complete, timeout=timeout):
        time.sleep(grace)
    got = outcomes()
    wrong = [f"{player.user_id} got {got[player.user_id] or 'no settlement'}, not [{want!r}]"
             for player, want in expected.items() if got[player.user_id] != [want]]
    if len(expected) <= 4:
        shown = ", ".join(f"{player.user_id} {want}" for player, want in expected.items())
    else:
        tally = Counter(expected.values())
        shown = f"{len(expected)} players, " + ", ".join(
            f"{tally[result]} {result}" for result in ("WIN", "LOSE", "DRAW") if tally[result])
    if len(wrong) > 3:
        wrong = wrong[:3] + [f"and {len(wrong) - 3} more"]
    return verdict(not wrong, f"settled exactly once: {shown}",
                   "; ".join(wrong) + " — look at the messages above")



def room_item(rooms_table: str, room_name: str) -> dict[str, Any]:
    """A room of the rooms table (key ``room#<name>``), read consistently; {} if none."""
    table = boto3.resource("dynamodb").Table(rooms_table)
    item = table.get_item(Key={"pk": f"room#{room_name}"}, ConsistentRead=True).get("Item")
    return tables.plain(item) if item else {}


def room_of(player: Inbox) -> str | None:
    """The room a player was last told it is in (its last ``joinroom`` answer)."""
    answers = [m.get("data") for m in player.messages("joinroom")]
    return str(answers[-1]) if answers else None


def settlement_problems(first: Inbox, second: Inbox, room: Mapping[str, Any]) -> list[str]:
    """What is wrong with how the battle of ``first`` and ``second`` was settled.

    Whatever was played, each player got exactly one ``battle_settlement``; the two go
    together (WIN with LOSE, or DRAW with DRAW); they are the ``outcome`` stored in the
    room item; and that outcome is what the room's last synced ``scores`` give.
    """
    got = {p.user_id: [m.get("data") for m in p.messages("battle_settlement")]
           for p in (first, second)}
    names = f"{first.user_id} and {second.user_id}"
    if not any(got.values()):
        return [f"{names}: no battle_settlement"]
    counts = [f"{user} got {len(results)}" for user, results in got.items() if len(results) != 1]
    if counts:
        return [f"{names}: {', '.join(counts)} battle_settlement(s), not one each"]
    mine, theirs = got[first.user_id][0], got[second.user_id][0]
    if (mine, theirs) not in (("WIN", "LOSE"), ("LOSE", "WIN"), ("DRAW", "DRAW")):
        return [f"{names}: {mine} against {theirs} do not go together"]
    stored = {str(k): str(v) for k, v in (room.get("outcome") or {}).items()}
    if stored != {first.user_id: mine, second.user_id: theirs}:
        return [f"{names} were told {mine} and {theirs}, but the room stores the outcome "
                f"{stored or 'nothing'}"]
    scores = {str(k): int(v) for k, v in (room.get("scores") or {}).items()}
    a, b = scores.get(first.user_id, 0), scores.get(second.user_id, 0)
    due = "DRAW" if a == b else "WIN" if a > b else "LOSE"
    if mine != due:
        return [f"{first.user_id}'s last synced score is {a} against {b}, so {due}, "
                f"but it was told {mine}"]
    return []


def battle_settled(first: Inbox, second: Inbox, rooms_table: str, *, timeout: float = 5.0,
                   grace: float = 0.3) -> Check:
    """The battle of ``first`` and ``second`` was settled exactly once, whatever was played.

    Needs no expected result: each player got one ``battle_settlement``, the pair agrees
    (WIN/LOSE or DRAW/DRAW), and it is the outcome stored in the room, which is what the
    last synced scores give. Waits up to ``timeout`` for the settlements, then ``grace``
    seconds more, so that a second (wrong) settlement on its way is caught too.
    """
    if eventually(lambda: first.messages("battle_settlement")
                  and second.messages("battle_settlement"), timeout=timeout):
        time.sleep(grace)
    room_name = room_of(first)
    room = room_item(rooms_table, room_name) if room_name else {}
    problems = settlement_problems(first, second, room)
    if problems:
        return verdict(False, "", problems[0] + " — did both players die? Look at the "
                                  "messages and the rooms table above")
    told = {p.user_id: p.messages("battle_settlement")[0].get("data") for p in (first, second)}
    scores = {str(k): int(v) for k, v in (room.get("scores") or {}).items()}
    shown = ", ".join(f"{user} {result} ({scores.get(user, 0)} points)"
                      for user, result in told.items())
    return verdict(True, f"settled exactly once, as the stored scores say: {shown}", "")

def execution(execution_arn: str, *, status: str = "SUCCEEDED",
              visits: Mapping[str, int] | None = None, timeout: float = 60.0) -> Check:
    """A Step Functions execution ended with ``status``, entering each state of ``visits``
    as many times as it says (``{"AskQuestion": 5}``)."""
    from . import state_machines

    described = state_machines.wait(execution_arn, timeout=timeout)
    taken = Counter(state_machines.path(execution_arn))
    wrong = [f"it ended {described['status']}, not {status}"
             + (f" ({described.get('error')}: {described.get('cause')})"
                if described.get("error") else "")] if described["status"] != status else []
    wrong += [f"it entered {name} {taken[name]} times, not {count}"
              for name, count in (visits or {}).items() if taken[name] != count]
    name = execution_arn.rsplit(":", 1)[-1]
    shown = ", ".join(f"{state} ×{count}" for state, count in (visits or {}).items())
    return verdict(not wrong, f"execution {name} {status}" + (f": {shown}" if shown else ""),
                   f"execution {name}: " + "; ".join(wrong) + " — look at its history above")


def trivia_scored(table_name: str, game_id: str, told: Mapping[str, int]) -> Check:
    """Every player's score is what its stored answers earn (1 point plus the question's
    bonus for each right one), and is the score the players were ``told`` at the end."""
    stored = [item for item in tables.items(table_name) if item.get("gameId") == game_id]
    game = next((item for item in stored if item["connectionId"] == "#game"), None)
    if game is None:
        return verdict(False, "", f"{table_name} has no game {game_id}: did it start?")
    key = {q["id"]: (q["answer"], 1 + q.get("bonus", 0)) for q in game.get("questions", [])}
    wrong = []
    for player in (item for item in stored if item is not game):
        name, score = player["playerName"], player.get("score", 0)
        earned = sum(points for qid, (right, points) in key.items()
                     if player.get("answers", {}).get(qid) == right)
        if score != earned:
            wrong.append(f"{name} has {score} points stored but its answers earn {earned}")
        if told.get(name) != score:
            wrong.append(f"{name} was told {told.get(name)}, the table says {score}")
    shown = ", ".join(f"{name} {score}" for name, score in told.items())
    return verdict(not wrong and len(told) == len(stored) - 1,
                   f"the scores add up: {shown} — each is what the player's stored answers earn",
                   "; ".join(wrong or [f"{len(stored) - 1} players stored, {len(told)} told"])
                   + " — look at the game table above")
