"""Lab 6's plumbing: the employee pool, the winners, the announcements, the fairness test.

* :func:`reset_pool` loads ``data/lottery/employees.json`` into the employee table (batch
  writes) and empties the winners table, so a draw starts from a known pool;
* :func:`winners_frame` shows the recorded winners: a draw first *claims* its winners in
  the winners table (``"status": "claimed"``) and records them once announced, so a claim
  lives only for the moment of a draw and is nobody's win yet;
* :class:`Inbox` reads the announcements the topic delivered to the lab's queue;
* :func:`run_draw`, :func:`draw_until_exhausted` and :func:`draws_at_once` start draws
  and wait for them;
* :func:`fairness` draws hundreds of times from the full pool through the deployed
  RandomSelectWinners function, and :func:`chi_square` / :func:`plot_fairness` judge
  whether every employee had the same chance;
* the ``check_*`` functions are the notebook's "Check your work" verdicts.

Everything goes through plain ``boto3``, so it works on the local cloud and on AWS.
scipy is not needed: the chi-square p-value is computed here (``chi_square_sf``).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

from . import checks, state_machines, tables
from .show import ROOT

__all__ = ["EMPLOYEES", "NOTIFICATION_COLUMNS", "SUMMARY_COLUMNS", "WINNER_COLUMNS",
           "ChiSquare", "Inbox", "cause_text", "check_draw", "check_failed", "check_fair",
           "chi_square", "chi_square_sf", "draw_until_exhausted", "draws_at_once", "employees",
           "fairness", "is_recorded", "plot_fairness", "reset_pool", "run_draw", "snapshot",
           "summary", "winners_frame"]

EMPLOYEES = ROOT / "data" / "lottery" / "employees.json"
WINNER_COLUMNS = ["draw_id", "employee_id", "name", "department", "lottery_serial",
                  "recorded_at"]
NOTIFICATION_COLUMNS = ["draw_id", "subject", "message", "sent"]
SUMMARY_COLUMNS = ["execution", "status", "winners", "error", "cause", "execution_arn"]
_EMPLOYEE_FIELDS = ("employee_id", "name", "lottery_serial", "department")


# -- the pool and the winners --------------------------------------------------------------

def employees(path: Path = EMPLOYEES) -> list[dict[str, str]]:
    """The employee pool as the lab ships it, after checking every employee is complete."""
    pool = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(pool, list):
        raise ValueError(f"{path} should hold a list of employees")
    for position, employee in enumerate(pool):
        missing = [name for name in _EMPLOYEE_FIELDS
                   if not isinstance(employee, Mapping) or not employee.get(name)]
        if missing:
            raise ValueError(f"{path}: employee #{position} lacks {', '.join(missing)}")
    return pool


def reset_pool(employees_table: str, winners_table: str, *,
               path: Path = EMPLOYEES) -> dict[str, int]:
    """Make the employee table hold exactly the pool of ``path``, and nobody a winner.

    Employees the file does not name are deleted, so the pool is the file's even after a
    learner experimented. Returns how many employees were loaded and winners removed.
    """
    pool = employees(path)
    wanted = {employee["employee_id"] for employee in pool}
    table = boto3.resource("dynamodb").Table(employees_table)
    strangers = [item["employee_id"] for item in tables.items(employees_table)
                 if item["employee_id"] not in wanted]
    # batch_writer sends 25 items per BatchWriteItem and resends what DynamoDB left over.
    with table.batch_writer() as batch:
        for employee_id in strangers:
            batch.delete_item(Key={"employee_id": employee_id})
        for employee in pool:
            batch.put_item(Item={name: employee[name] for name in _EMPLOYEE_FIELDS})
    return {"employees": len(pool), "winners removed": tables.empty_table(winners_table)}


def is_recorded(item: Mapping[str, Any]) -> bool:
    """Whether a winners table item is a win, not a claim of a draw still running.

    An item without a status predates claims (or was written by hand): a win.
    """
    return item.get("status", "recorded") == "recorded"


def winners_frame(winners_table: str) -> pd.DataFrame:
    """Everyone who has won, draw by draw (claims of draws still running left out)."""
    rows = [item for item in tables.items(winners_table) if is_recorded(item)]
    frame = pd.DataFrame([{name: row.get(name, "") for name in WINNER_COLUMNS} for row in rows],
                         columns=WINNER_COLUMNS)
    return frame.sort_values(["draw_id", "employee_id"], ignore_index=True)


# -- the announcements ------------------------------------------------------------------

def _notification(body: str) -> dict[str, str]:
    """One message of the queue: SNS's JSON envelope, or a raw message as it came."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or "Message" not in envelope:
        return {"draw_id": "", "subject": "", "message": body, "sent": ""}
    attributes = envelope.get("MessageAttributes") or {}
    return {"draw_id": (attributes.get("draw_id") or {}).get("Value", ""),
            "subject": envelope.get("Subject") or "", "message": envelope["Message"],
            "sent": envelope.get("Timestamp", "")}


class Inbox:
    """The announcements the lottery topic delivered to a queue, oldest first.

    Reading a message deletes it from the queue (as any consumer would, or it would come
    back after the visibility timeout); the inbox keeps what it read, so a notebook can
    show every announcement so far.
    """

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.notifications: list[dict[str, str]] = []

    def fetch(self, *, expect: int = 0, timeout: float = 10.0) -> int:
        """Read what has arrived: wait up to ``timeout`` s until ``expect`` new ones have.

        Returns how many new notifications were read.
        """
        sqs = boto3.client("sqs")
        found = 0

        def receive() -> list[dict[str, Any]]:
            wait = 1 if found < expect else 0
            return sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait).get("Messages", [])

        batch = checks.eventually(receive, timeout=timeout if expect else 0.0)
        while batch:
            for message in batch:
                self.notifications.append(_notification(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url,
                                   ReceiptHandle=message["ReceiptHandle"])
            found += len(batch)
            batch = checks.eventually(receive, timeout=timeout if found < expect else 0.0)
        return found

    def for_draw(self, draw_id: str) -> list[dict[str, str]]:
        """The notifications about one draw (there should be exactly one)."""
        return [note for note in self.notifications if note["draw_id"] == draw_id]

    def frame(self) -> pd.DataFrame:
        """Every notification read so far, one row each."""
        return pd.DataFrame(self.notifications, columns=NOTIFICATION_COLUMNS)


# -- draws -------------------------------------------------------------------------------

def cause_text(cause: str | None) -> str:
    """A failure's cause as a sentence: a Lambda error's cause is JSON with its message."""
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return cause or ""
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause or ""


def run_draw(state_machine_arn: str, payload: Mapping[str, Any], *,
             timeout: float = 60.0) -> dict[str, Any]:
    """Start a draw with ``payload`` and wait for it; ``describe_execution``'s answer."""
    name = f"draw-{uuid.uuid4().hex[:10]}"
    return state_machines.wait(state_machines.start(state_machine_arn, payload, name=name),
                               timeout=timeout)


def summary(execution: Mapping[str, Any]) -> dict[str, Any]:
    """One row about a finished draw: its name, status, winners, error and cause."""
    output = json.loads(execution.get("output") or "{}")
    return {"execution": execution["name"], "status": execution["status"],
            "winners": ", ".join(w["name"] for w in
                                 output.get("recorded", {}).get("winners", [])),
            "error": execution.get("error", ""), "cause": cause_text(execution.get("cause")),
            "execution_arn": execution["executionArn"]}


def draw_until_exhausted(state_machine_arn: str, *, winners: int,
                         limit: int = 50) -> pd.DataFrame:
    """Draw ``winners`` at a time until a draw fails (at most ``limit`` draws).

    One row per draw: its execution, status, winners, and the error and cause of the
    draw that failed — which, once the pool runs out, is NotEnoughEligibleEmployees.
    """
    rows = []
    for _ in range(limit):
        rows.append(summary(run_draw(state_machine_arn, {"input": winners})))
        if rows[-1]["status"] != "SUCCEEDED":
            break
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def draws_at_once(state_machine_arn: str, *, draws: int, winners: int,
                  timeout: float = 120.0) -> pd.DataFrame:
    """Start ``draws`` draws of ``winners`` each at the same moment and wait for them all.

    One row per draw, as :func:`summary` has it, with ``draws``: how many times the
    execution entered Random Select Winners. Draws running side by side may pick the
    same employee; the one whose claim loses draws again.
    """
    def one(number: int) -> dict[str, Any]:
        name = f"rush-{number}-{uuid.uuid4().hex[:6]}"
        arn = state_machines.start(state_machine_arn, {"input": winners}, name=name)
        return state_machines.wait(arn, timeout=timeout)

    with ThreadPoolExecutor(max_workers=draws) as executor:
        finished = list(executor.map(one, range(draws)))
    rows = [{**summary(execution),
             "draws": state_machines.path(execution["executionArn"]).count(
                 "Random Select Winners")}
            for execution in finished]
    return pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS[:2], "draws", *SUMMARY_COLUMNS[2:]])


# -- fairness ----------------------------------------------------------------------------

def fairness(function_name: str, *, draws: int, pool: Sequence[Mapping[str, str]],
             threads: int = 4) -> pd.Series:
    """How often each employee wins ``draws`` single-winner draws from the whole pool.

    Calls the deployed RandomSelectWinners function itself: a full execution would record
    its winner, and the pool would shrink. Run it with an empty winners table (see
    :func:`reset_pool`) so every draw has the whole pool to choose from.
    """
    client = boto3.client("lambda")

    def one(number: int) -> str:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(
            {"draw_id": f"fairness-{number}", "num_of_winners": 1}).encode())
        result = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            raise RuntimeError(f"{result.get('errorType')}: {result.get('errorMessage')}")
        return result["winners"][0]["employee_id"]

    with ThreadPoolExecutor(max_workers=threads) as executor:
        winners = list(executor.map(one, range(draws)))
    counts = pd.Series(0, index=sorted(employee["employee_id"] for employee in pool),
                       name="wins")
    counts = counts.add(pd.Series(winners).value_counts(), fill_value=0).astype(int)
    counts.index.name = "employee_id"
    return counts.rename("wins")


@dataclass(frozen=True)
class ChiSquare:
    """Pearson's goodness-of-fit test against "everyone equally likely"."""

    statistic: float
    degrees_of_freedom: int
    p_value: float
    expected: float

    def __str__(self) -> str:
        return (f"chi-square = {self.statistic:.1f} with {self.degrees_of_freedom} degrees "
                f"of freedom, p = {self.p_value:.3f} (each employee expected "
                f"{self.expected:g} wins)")


def chi_square_sf(statistic: float, degrees_of_freedom: int) -> float:
    """P(X >= statistic) for X chi-square with ``degrees_of_freedom``: the p-value.

    The regularized upper incomplete gamma function Q(k/2, x/2), by its power series
    below a + 1 and its continued fraction above (both converge fast there).
    """
    if degrees_of_freedom < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {degrees_of_freedom}")
    a, x = degrees_of_freedom / 2, statistic / 2
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        for n in range(1, 1000):
            term *= x / (a + n)
            total += term
            if term < total * 1e-16:
                break
        return max(0.0, 1 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    fraction = d
    for i in range(1, 1000):
        step = -i * (i - a)
        b += 2
        d = step * d + b
        d = 1 / (d if abs(d) > tiny else tiny)
        c = b + step / c
        c = c if abs(c) > tiny else tiny
        fraction *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return math.exp(log_front) * fraction


def chi_square(counts: Iterable[int]) -> ChiSquare:
    """Test whether ``counts`` (wins per employee) fit a uniform draw."""
    observed = [int(count) for count in counts]
    if len(observed) < 2 or sum(observed) == 0:
        raise ValueError("a fairness test needs at least two employees and one win")
    expected = sum(observed) / len(observed)
    statistic = sum((count - expected) ** 2 / expected for count in observed)
    dof = len(observed) - 1
    return ChiSquare(statistic, dof, chi_square_sf(statistic, dof), expected)


def plot_fairness(counts: pd.Series) -> Any:
    """Wins per employee as bars, with the count a fair draw expects as a line."""
    import matplotlib.pyplot as plt

    test = chi_square(counts)
    figure, axes = plt.subplots(figsize=(10, 3.2))
    axes.bar(counts.index, counts.values, color="#4c78a8")
    axes.axhline(test.expected, color="#e45756", linestyle="--",
                 label=f"expected if fair: {test.expected:g}")
    axes.set_xlabel("employee")
    axes.set_ylabel("wins")
    axes.set_title(f"{int(counts.sum())} draws — p = {test.p_value:.3f}")
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    axes.legend(loc="lower right")
    figure.tight_layout()
    plt.close(figure)       # the notebook shows the returned figure once
    return figure


# -- "Check your work" -------------------------------------------------------------------

def snapshot(table_name: str) -> list[dict[str, Any]]:
    """A table's items in a stable order, to compare before and after."""
    return sorted(tables.items(table_name), key=lambda item: json.dumps(item, sort_keys=True))


def check_draw(execution: Mapping[str, Any], *, winners_table: str, inbox: Inbox,
               expected: int) -> checks.Check:
    """The draw succeeded, recorded ``expected`` new winners under its name, and one
    notification names each of them."""
    draw_id = execution["name"]
    if execution["status"] != "SUCCEEDED":
        return checks.verdict(False, "", f"the draw ended {execution['status']}: "
                              f"{execution.get('error')} — {cause_text(execution.get('cause'))}")
    recorded = [item for item in tables.items(winners_table)
                if item.get("draw_id") == draw_id and is_recorded(item)]
    checks.eventually(lambda: inbox.fetch() or inbox.for_draw(draw_id), timeout=10.0)
    notes = inbox.for_draw(draw_id)
    named = all(item["name"] in notes[0]["message"] for item in recorded) if notes else False
    names = ", ".join(sorted(item["name"] for item in recorded))
    return checks.verdict(
        len(recorded) == expected and len(notes) == 1 and named,
        f"{expected} winner(s) recorded by {draw_id} and announced once: {names}",
        f"{draw_id}: {len(recorded)} winner(s) recorded (expected {expected}), "
        f"{len(notes)} notification(s) (expected 1"
        + (", naming every winner)" if not named and notes else ")")
        + " — look at the winners table and the inbox above")


def check_failed(execution: Mapping[str, Any] | str, error: str, *, winners_table: str,
                 before: list[dict[str, Any]], max_events: int = 40) -> checks.Check:
    """The draw FAILED with ``error``, within ``max_events`` history events, and left the
    winners table as ``before`` (a :func:`snapshot`) had it.

    ``execution`` is ``describe_execution``'s answer, or an execution ARN.
    """
    if isinstance(execution, str):
        execution = boto3.client("stepfunctions").describe_execution(executionArn=execution)
    events = len(state_machines.history(execution["executionArn"]))
    unchanged = snapshot(winners_table) == before
    ok = (execution["status"] == "FAILED" and execution.get("error") == error
          and events <= max_events and unchanged)
    return checks.verdict(
        ok, f"FAILED with {error} after {events} events, winners table unchanged: "
            f"{cause_text(execution.get('cause'))}",
        f"expected FAILED with {error}, got {execution['status']} "
        f"{execution.get('error') or ''} after {events} events"
        + ("" if unchanged else "; the winners table changed"))


def check_fair(counts: pd.Series, *, alpha: float = 0.001) -> checks.Check:
    """The chi-square test does not reject a uniform draw at level ``alpha``."""
    test = chi_square(counts)
    return checks.verdict(
        test.p_value > alpha,
        f"consistent with a fair draw: {test}",
        f"a draw this uneven happens with probability {test.p_value:.2g} if it is fair: "
        f"{test}. Run the experiment again; if it keeps failing, the draw is biased")
