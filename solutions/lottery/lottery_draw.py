"""The rules of the lottery draw, on plain data: no AWS, no network.

A draw picks N winners from the employee pool, uniformly at random, among the employees
who have never won. The original lab drew lottery serials from the whole pool, drawing
again inside the function until no serial repeated, and its state machine's Choice went
back round to draw again whenever a winner had won in a past draw. So once fewer
employees who had not won remained than were asked for, the execution looped forever;
and asking for more winners than the pool holds kept the function drawing until Lambda
stopped it at its timeout, which the state machine's Catch turned into a bare failure.
Here the draw samples *without* replacement from the eligible employees in one bounded
step, and refuses up front, with a named error, when it cannot be made.

Each error class is named after what went wrong: a Lambda that raises one reports its
class name as the error type, which is what the state machine's ``Catch`` matches
(``ErrorEquals``) and what a failed execution shows as its Error, with the message as its
Cause. ``ERROR_NAMES`` lists them for the state machine and its tests.

An employee is a mapping with ``employee_id``, ``name``, ``lottery_serial`` and
``department`` (an item of the employee table; see data/lottery/employees.json). Past
winners are given as employee ids (the keys of the winners table).

Retries never announce or record a draw twice, and two draws at the same moment never
announce the same employee:

* a draw is named by ``draw_id_of(execution name)``: an execution name is unique within its
  state machine, so every attempt of every step of one execution agrees on it;
* the winners are drawn once and travel in the execution's state, so a retried step works
  on the same winners, not a new draw;
* ValidateWinners *claims* the winners before anything is announced: one transaction of
  conditional puts (``claim_winner``), keyed by employee id, that succeeds only if no
  other draw holds any of them (a retry of the same draw re-claims its own items). The
  claim comes first because the announcement and the recording then run side by side:
  once the claim holds, no other draw can take these winners, so what is published is
  what will be recorded. A claim refused by another draw is no error: the draw is
  redrawn (``refused`` reads which winners a cancelled transaction refused);
* RecordWinners turns this draw's claims into records (``record_claim``): an update whose
  condition is "still claimed by this draw", so a retry is harmless, and a claim that was
  lost fails with ``WinnerAlreadyRecorded``;
* if announcing or recording fails, the state machine releases this draw's claims that
  are still ``claimed`` (the condition of ``release_claim``) so those employees return to
  the pool; a recorded item is never released;
* the announcement is one message for the whole draw, built only from the winners and the
  draw id, so a retry sends the identical text, carrying ``draw_id`` as its deduplication
  id (a message attribute, and the deduplication id of a FIFO topic); Retry belongs on
  the tasks inside the Parallel's branches, never on the Parallel itself, which would
  re-run a branch that had already succeeded.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "CLAIMED",
    "CONDITION_FAILED",
    "EMPLOYEE_FIELDS",
    "ERROR_NAMES",
    "Announcement",
    "EmptyEmployeePool",
    "InvalidEmployeePool",
    "InvalidWinnerCount",
    "InvalidWinners",
    "LotteryError",
    "NotEnoughEligibleEmployees",
    "RECORDED",
    "RELEASE_CONDITION",
    "SimulatedFailure",
    "TRANSACTION_CONFLICT",
    "TRANSACTION_LIMIT",
    "WinnerAlreadyRecorded",
    "announcement",
    "cancellation_reasons",
    "check_pool",
    "chunks",
    "claim_winner",
    "draw",
    "draw_id_of",
    "eligible",
    "parse_request",
    "parse_winner_count",
    "record_claim",
    "refused",
    "release_claim",
    "validate",
]

Employee = Mapping[str, Any]

EMPLOYEE_FIELDS = ("employee_id", "name", "lottery_serial", "department")


# -- errors ------------------------------------------------------------------------------

class LotteryError(Exception):
    """A draw the rules refuse; the class name is the error, the message its cause."""


class InvalidWinnerCount(LotteryError):
    """The execution input does not ask for a positive whole number of winners."""


class NotEnoughEligibleEmployees(LotteryError):
    """Fewer employees who have not won remain than winners were asked for."""

    def __init__(self, requested: int, available: int) -> None:
        self.requested = requested
        self.available = available
        left = ("nobody is left who has not won" if available == 0 else
                f"only {_count(available, 'employee')} who "
                f"{'has' if available == 1 else 'have'} not won "
                f"{'is' if available == 1 else 'are'} left")
        super().__init__(f"cannot draw {_count(requested, 'winner')}: {left}")


class EmptyEmployeePool(NotEnoughEligibleEmployees):
    """The employee table holds nobody at all: its employees were never loaded.

    Right after a deploy the table exists but is empty; saying "nobody is left who has not
    won" would send the learner looking for past winners that do not exist.
    """

    def __init__(self, requested: int) -> None:
        LotteryError.__init__(
            self, f"cannot draw {_count(requested, 'winner')}: the employee table is empty, "
            "so there is nobody to draw from. Load the employees first: notebook 06 does it "
            "in section 4 with lottery.reset_pool(employees_table, winners_table), which "
            "writes data/lottery/employees.json to the table")
        self.requested = requested
        self.available = 0


class InvalidWinners(LotteryError):
    """A set of winners that repeats an employee or names someone who won before."""


class WinnerAlreadyRecorded(LotteryError):
    """Recording a winner found this draw's claim on the employee gone."""


class InvalidEmployeePool(LotteryError):
    """The employee pool is malformed: a missing field, or a repeated id or serial."""


class SimulatedFailure(LotteryError):
    """The input asked for the error path (``"exception": true``), to show the Catch."""


ERROR_NAMES = tuple(cls.__name__ for cls in (
    InvalidWinnerCount, NotEnoughEligibleEmployees, EmptyEmployeePool, InvalidWinners,
    WinnerAlreadyRecorded, InvalidEmployeePool, SimulatedFailure))


# -- the request -------------------------------------------------------------------------

def parse_winner_count(value: Any) -> int:
    """The number of winners asked for: a whole number, at least 1.

    JSON has a single number type, so an integral number such as ``2.0`` counts as 2 (and
    a Decimal from DynamoDB likewise); ``2.5``, NaN, infinities, strings such as ``"2"``
    and booleans (``true`` is an int to Python, not a count) are refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidWinnerCount(
            f'"input" must be a whole number of winners, not {_shown(value)}')
    if isinstance(value, (float, Decimal)):
        if not math.isfinite(value) or value != int(value):
            raise InvalidWinnerCount(
                f'"input" must be a whole number of winners, not {_shown(value)}')
        value = int(value)
    if value < 1:
        raise InvalidWinnerCount(f'"input" must be at least 1 winner, not {value}')
    return value


def parse_request(event: Any) -> int:
    """The number of winners an execution input such as ``{"input": 2}`` asks for.

    The count is checked first, so bad input fails as bad input even on the error path;
    then ``"exception": true`` (exactly true) raises SimulatedFailure, the lab's way to
    take the Catch path on purpose.
    """
    if not isinstance(event, Mapping):
        raise InvalidWinnerCount(
            f'the execution input must be an object such as {{"input": 2}}, '
            f"not {_shown(event)}")
    if "input" not in event:
        raise InvalidWinnerCount(
            'the execution input has no "input": say how many winners to draw, '
            'e.g. {"input": 2}')
    count = parse_winner_count(event["input"])
    if event.get("exception") is True:
        raise SimulatedFailure('the input asked for the error path ("exception": true)')
    return count


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown(value: Any) -> str:
    """A value as JSON would spell it, for messages (true, null, "2")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'the string "{value}"' if len(value) <= 40 else "a string"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return f"a {type(value).__name__}"


# -- the pool and the draw ---------------------------------------------------------------

def check_pool(pool: Iterable[Employee]) -> list[Employee]:
    """The pool as a list, after checking every employee has every field, unique ids and
    unique lottery serials (the employee table's key and its GSI)."""
    employees = list(pool)
    ids: set[str] = set()
    serials: set[str] = set()
    for position, employee in enumerate(employees):
        missing = [name for name in EMPLOYEE_FIELDS
                   if not isinstance(employee.get(name), str) or not employee.get(name)]
        if missing:
            raise InvalidEmployeePool(
                f"employee #{position} lacks {', '.join(missing)} (non-empty strings)")
        if employee["employee_id"] in ids:
            raise InvalidEmployeePool(f"employee id {employee['employee_id']} appears twice")
        if employee["lottery_serial"] in serials:
            raise InvalidEmployeePool(
                f"lottery serial {employee['lottery_serial']} appears twice")
        ids.add(employee["employee_id"])
        serials.add(employee["lottery_serial"])
    return employees


def eligible(pool: Iterable[Employee], past_winners: Collection[str]) -> list[Employee]:
    """The employees who have not won, in employee id order.

    The order does not depend on the order the pool was read in (a table scan has none),
    so a seeded draw is reproducible. An employee id repeated in the pool is refused, as
    it could otherwise be drawn twice.
    """
    past = set(past_winners)
    seen: set[str] = set()
    result = []
    for employee in pool:
        employee_id = employee["employee_id"]
        if employee_id in seen:
            raise InvalidEmployeePool(f"employee id {employee_id} appears twice")
        seen.add(employee_id)
        if employee_id not in past:
            result.append(employee)
    return sorted(result, key=lambda employee: employee["employee_id"])


def draw(pool: Iterable[Employee], past_winners: Collection[str], count: int, *,
         rng: random.Random) -> list[Employee]:
    """``count`` distinct winners, uniformly at random among those who have not won.

    One sample without replacement: no retry loop, so it always returns at once. When
    fewer eligible employees remain than ``count``, NotEnoughEligibleEmployees is raised
    before anything is drawn (EmptyEmployeePool when the pool itself is empty: nobody
    loaded the employees). Pass ``random.SystemRandom()`` in the Lambda and a seeded
    ``random.Random`` in tests.
    """
    count = parse_winner_count(count)
    pool = list(pool)
    if not pool:
        raise EmptyEmployeePool(count)
    # BEGIN SOLUTION 6.2
    candidates = eligible(pool, past_winners)
    if count > len(candidates):
        raise NotEnoughEligibleEmployees(count, len(candidates))
    return rng.sample(candidates, count)
    # STARTER
    # # Exercise 6.2: like the original lab, this draws from everyone, past winners too,
    # # and leaves it to the state machine to draw again. Draw only among the employees
    # # who have not won (eligible), and when fewer remain than count, raise
    # # NotEnoughEligibleEmployees(count, how many remain) before drawing anything.
    # return rng.sample(list(pool), count)
    # END SOLUTION


def validate(winners: Sequence[Employee], past_winners: Collection[str],
             expected: int | None = None) -> list[str]:
    """The winners' employee ids, after checking the draw: no employee twice, nobody who
    won before, and (if ``expected`` is given) exactly that many winners."""
    ids = [str(winner.get("employee_id", "")) for winner in winners]
    if not all(ids):
        raise InvalidWinners("a winner has no employee_id")
    if expected is not None and len(ids) != expected:
        raise InvalidWinners(f"expected {expected} winners, got {len(ids)}")
    repeated = sorted(employee_id for employee_id, n in Counter(ids).items() if n > 1)
    if repeated:
        raise InvalidWinners(f"drawn more than once: {', '.join(repeated)}")
    past = set(past_winners)
    again = [employee_id for employee_id in ids if employee_id in past]
    if again:
        raise InvalidWinners(f"already won in a past draw: {', '.join(again)}")
    return ids


# -- recording and announcing, idempotently ----------------------------------------------

def draw_id_of(execution: str) -> str:
    """The id of the draw an execution makes: its name (given the name or the ARN).

    An execution ARN ends ``...:execution:<state machine>:<name>``, and the name is unique
    within the state machine, so every retry of every step of one execution shares it.
    """
    name = execution.rsplit(":", 1)[-1] if execution.startswith("arn:") else execution
    if not name or any(char.isspace() for char in name):
        raise ValueError(f"not an execution name or ARN: {execution!r}")
    return name


CLAIMED = "claimed"
RECORDED = "recorded"
# A DynamoDB transaction holds at most 100 writes.
TRANSACTION_LIMIT = 100
# The cancellation reason codes of TransactWriteItems that name one write.
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
# The state machine's Release Claims deletes an item only while this draw still claims it.
RELEASE_CONDITION = "draw_id = :draw AND #status = :claimed"


def claim_winner(winner: Employee, draw_id: str) -> dict[str, Any]:
    """The arguments of the winners table's ``put_item`` that claims one winner.

    Keyed by employee id, so one employee has at most one item, claimed or recorded. The
    condition lets a retry of the same draw re-claim its own item and refuses an employee
    another draw holds.
    """
    return {
        "Item": {**{field: winner[field] for field in EMPLOYEE_FIELDS},
                 "draw_id": draw_id, "status": CLAIMED},
        "ConditionExpression": "attribute_not_exists(employee_id) OR draw_id = :draw",
        "ExpressionAttributeValues": {":draw": draw_id},
    }


def record_claim(employee_id: str, draw_id: str, now: str) -> dict[str, Any]:
    """The arguments of the winners table's ``update_item`` that records a claimed winner.

    The condition holds only while this draw owns the item, so a retry updates the same
    item again (keeping the first ``recorded_at``) and a lost claim is refused.
    """
    return {
        "Key": {"employee_id": employee_id},
        "UpdateExpression": "SET #status = :recorded, "
                            "recorded_at = if_not_exists(recorded_at, :now)",
        "ConditionExpression": "draw_id = :draw",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":recorded": RECORDED, ":now": now, ":draw": draw_id},
    }


def release_claim(employee_id: str, draw_id: str) -> dict[str, Any]:
    """The arguments of the winners table's ``delete_item`` that gives back one claim.

    Only an item this draw still claims goes: a recorded winner, or another draw's item,
    is left alone (the delete's condition fails, which means there is nothing to release).
    """
    return {
        "Key": {"employee_id": employee_id},
        "ConditionExpression": RELEASE_CONDITION,
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":draw": draw_id, ":claimed": CLAIMED},
    }


def chunks(items: Sequence[Any], size: int = TRANSACTION_LIMIT) -> Iterator[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``: one transaction each."""
    if size < 1:
        raise ValueError(f"a chunk holds at least 1 item, not {size}")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def cancellation_reasons(keys: Sequence[str],
                         reasons: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{key: code}`` of the writes a cancelled transaction gave a reason for.

    DynamoDB lists one reason per write, in the order of the writes, with the code
    ``"None"`` for a write that was not the cause.
    """
    return {key: str(reason.get("Code")) for key, reason in zip(keys, reasons, strict=False)
            if reason.get("Code") not in (None, "None")}


def refused(reasons: Mapping[str, str], *codes: str) -> list[str]:
    """The keys whose cancellation code is one of ``codes``, sorted for a stable message."""
    return sorted(key for key, code in reasons.items() if code in codes)


@dataclass(frozen=True)
class Announcement:
    """One notification for a whole draw: what to publish on the topic."""

    subject: str
    message: str
    draw_id: str  # a message attribute; the deduplication id on a FIFO topic


def announcement(winners: Sequence[Employee], draw_id: str) -> Announcement:
    """The message naming every winner of a draw, the same text on every retry.

    The subject is plain ASCII and short, as SNS requires of subjects (and e-mail of
    headers); the names, which may not be ASCII, go in the message.
    """
    if not winners:
        raise InvalidWinners("a draw without winners has nothing to announce")
    count = len(winners)
    lines = [f"Congratulations! The lottery draw {draw_id} has {_count(count, 'winner')}:", ""]
    lines += [f"- {winner['name']} ({winner['department']}), "
              f"serial {winner['lottery_serial']}" for winner in winners]
    return Announcement(subject=f"Lottery draw: {_count(count, 'winner')}",
                        message="\n".join(lines), draw_id=draw_id)
