"""ValidateWinners: checks the drawn winners against the tables just before announcing.

* each winner's lottery serial must still name that employee: a Query on the employee
  table's ``lottery_serial-index`` (the ticket number is how the seed looked people up);
* the draw must name ``num_of_winners`` distinct employees (InvalidWinners otherwise);
* nobody may have been recorded by another draw since the sample was taken. Only a draw
  running at the same time can do that: the answer is ``"valid": false`` and the state
  machine's Choice draws again, a bounded number of times.

A valid draw gets its announcement, built here once so that the notification branch
publishes exactly this text.

What validation cannot close: a draw running at the same moment may record one of these
winners after this check and before RecordWinners. RecordWinners then refuses the whole
draw (WinnerAlreadyRecorded, nobody recorded twice) and the execution fails, but the
notification branch runs in parallel and may already have published. Closing that gap
takes a claim before announcing (a conditional write here, released if the draw fails).
The lab runs one draw at a time, where this cannot happen.
"""

import dataclasses
import os

import boto3
import lottery_draw
from boto3.dynamodb.conditions import Key

dynamodb = boto3.resource("dynamodb")
employees = dynamodb.Table(os.environ["EMPLOYEES_TABLE"])
winners = dynamodb.Table(os.environ["WINNERS_TABLE"])
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


def recorded_draws(employee_ids: list[str]) -> dict[str, str]:
    """``{employee id: draw id}`` for those of ``employee_ids`` already in the winners table."""
    recorded = {}
    for employee_id in employee_ids:
        item = winners.get_item(Key={"employee_id": employee_id}, ConsistentRead=True)
        if "Item" in item:
            recorded[employee_id] = item["Item"].get("draw_id", "")
    return recorded


def handler(event: dict, context: object) -> dict:
    drawn = event["winners"]
    ids = lottery_draw.validate(drawn, (), expected=event["num_of_winners"])
    for winner in drawn:
        check_serial(winner)
    taken = lottery_draw.taken_by_other_draws(recorded_draws(ids), event["draw_id"])
    state = {**event, "valid": not taken, "taken": taken}
    if taken:
        print(f"draw {event['draw_id']}: {', '.join(taken)} won in another draw meanwhile")
    else:
        state["announcement"] = dataclasses.asdict(
            lottery_draw.announcement(drawn, event["draw_id"]))
    return state
