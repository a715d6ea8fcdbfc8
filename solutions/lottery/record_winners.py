"""RecordWinners: writes the draw's winners to the winners table, all or nothing.

One item per winner, keyed by employee id, so nobody can be recorded twice. The items go
in one transaction (a draw of more than 100 winners takes one per 100) whose condition
(``record_winner``) accepts a new employee or an item of this same draw — so a retry
after a timeout rewrites its own items and succeeds — and refuses an employee another
draw recorded (WinnerAlreadyRecorded): then nothing of this draw is written.
"""

import os

import boto3
import lottery_draw
from boto3.dynamodb.types import TypeSerializer

WINNERS_TABLE = os.environ["WINNERS_TABLE"]
dynamodb = boto3.client("dynamodb")
serializer = TypeSerializer()
# A DynamoDB transaction holds at most 100 writes.
TRANSACTION_LIMIT = 100


def as_put(arguments: dict) -> dict:
    """``record_winner``'s put_item arguments as a TransactWriteItems Put (typed values)."""
    return {"Put": {
        "TableName": WINNERS_TABLE,
        "Item": {name: serializer.serialize(value) for name, value in arguments["Item"].items()},
        "ConditionExpression": arguments["ConditionExpression"],
        "ExpressionAttributeValues": {name: serializer.serialize(value) for name, value
                                      in arguments["ExpressionAttributeValues"].items()},
    }}


def write(chunk: list[dict], draw_id: str) -> None:
    try:
        dynamodb.transact_write_items(
            TransactItems=[as_put(lottery_draw.record_winner(w, draw_id)) for w in chunk])
    except dynamodb.exceptions.TransactionCanceledException as cancelled:
        reasons = cancelled.response.get("CancellationReasons") or []
        refused = [w["employee_id"] for w, reason in zip(chunk, reasons, strict=False)
                   if reason.get("Code") == "ConditionalCheckFailed"]
        raise lottery_draw.WinnerAlreadyRecorded(
            f"draw {draw_id} recorded nobody: {', '.join(refused) or 'a winner'} "
            "already won in another draw") from None


def handler(event: dict, context: object) -> dict:
    drawn = event["winners"]
    draw_id = event["draw_id"]
    lottery_draw.validate(drawn, ())
    for start in range(0, len(drawn), TRANSACTION_LIMIT):
        write(drawn[start:start + TRANSACTION_LIMIT], draw_id)
    print(f"draw {draw_id}: recorded {', '.join(w['employee_id'] for w in drawn)}")
    return {"draw_id": draw_id, "winners": drawn}
