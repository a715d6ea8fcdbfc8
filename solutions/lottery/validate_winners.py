"""ValidateWinners: checks the drawn winners, then claims them, before anything is announced.

* the draw must name ``num_of_winners`` distinct employees (InvalidWinners otherwise);
* each winner's lottery serial must still name that employee: a Query on the employee
  table's ``lottery_serial-index`` (the ticket number is how the original lab looked
  people up);
* then the winners are *claimed*: one transaction of conditional puts into the winners
  table (``claim_winner``, one transaction per 100 winners), each item ``"status":
  "claimed"`` under this draw's id.

Why claim here rather than only check: after this step the announcement and the
recording run side by side, so whatever is announced must already be this draw's. A read
cannot promise that — a draw running at the same moment could record the same employee
right after it — but a conditional write can: while the claim holds, no other draw can
claim, record or announce these winners. If another draw holds one of them, the
transaction is cancelled, nothing of this draw is claimed, and the answer is
``"valid": false`` with the ``taken`` winners: the state machine's Choice draws again, a
bounded number of times. A retry of this step re-claims its own items (the condition
accepts an item of the same draw).

A valid draw gets its announcement, built here once so that the notification branch
publishes exactly this text.
"""

import dataclasses
import os

import boto3
import lottery_draw
import winners_table
from boto3.dynamodb.conditions import Key

employees = boto3.resource("dynamodb").Table(os.environ["EMPLOYEES_TABLE"])
SERIAL_INDEX = os.environ["SERIAL_INDEX"]


def check_serial(winner: dict) -> None:
    """The employee table still says this serial belongs to this employee."""
    found = employees.query(IndexName=SERIAL_INDEX,
                            KeyConditionExpression=Key("lottery_serial").eq(
                                winner["lottery_serial"]))["Items"]
    if [item["employee_id"] for item in found] != [winner["employee_id"]]:
        raise lottery_draw.InvalidWinners(
            f"serial {winner['lottery_serial']} no longer names {winner['employee_id']} "
            "in the employee table")


def claim(drawn: list[dict], draw_id: str) -> list[str]:
    """Claim every winner for ``draw_id``; the winners another draw holds (then none)."""
    cancelled = winners_table.transact(
        "Put", [(w["employee_id"], lottery_draw.claim_winner(w, draw_id)) for w in drawn])
    if cancelled is None:
        return []
    # A conflict is another transaction writing the same employee right now: another
    # draw's claim, so taken as well.
    taken = lottery_draw.refused(cancelled.reasons, lottery_draw.CONDITION_FAILED,
                                 lottery_draw.TRANSACTION_CONFLICT)
    if not taken:
        raise cancelled.error   # throttled or malformed: the step fails, Catch releases
    # A draw of more than 100 winners claims in several transactions: give back what the
    # earlier ones claimed, so the redraw starts from the same pool.
    winners_table.release(cancelled.written, draw_id)
    return taken


def handler(event: dict, context: object) -> dict:
    drawn = event["winners"]
    draw_id = event["draw_id"]
    lottery_draw.validate(drawn, (), expected=event["num_of_winners"])
    for winner in drawn:
        check_serial(winner)
    taken = claim(drawn, draw_id)
    state = {**event, "valid": not taken, "taken": taken}
    if taken:
        print(f"draw {draw_id}: {', '.join(taken)} claimed by another draw meanwhile")
    else:
        print(f"draw {draw_id}: claimed {', '.join(w['employee_id'] for w in drawn)}")
        state["announcement"] = dataclasses.asdict(lottery_draw.announcement(drawn, draw_id))
    return state
