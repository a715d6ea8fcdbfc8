"""The winners table's writes, shared by ValidateWinners (claims) and RecordWinners (records).

Both write a draw's winners all or nothing: one TransactWriteItems per 100 winners (the
limit of a transaction), each write conditional. ``transact`` runs them and, when
DynamoDB cancels one, says which winners it refused and why, so each handler decides what
a refusal means: a winner taken (redraw) or a claim lost (WinnerAlreadyRecorded).
``release`` gives back claims one by one, as the state machine's Release Claims does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import lottery_draw
from boto3.dynamodb.types import TypeSerializer

__all__ = ["Cancelled", "release", "transact"]

TABLE = os.environ["WINNERS_TABLE"]
client = boto3.client("dynamodb")
_serializer = TypeSerializer()
# The arguments whose values the low-level client wants typed ({"S": "E001"}).
_TYPED = ("Item", "Key", "ExpressionAttributeValues")


def typed(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A put, update or delete of ``lottery_draw`` (plain values) for the low-level client."""
    return {"TableName": TABLE, **{
        name: ({key: _serializer.serialize(value) for key, value in argument.items()}
               if name in _TYPED else argument)
        for name, argument in arguments.items()}}


@dataclass(frozen=True)
class Cancelled:
    """A transaction DynamoDB cancelled, and what had been written before it."""

    written: list[str]        # employee ids the earlier transactions wrote
    reasons: dict[str, str]   # employee id: cancellation code, in the cancelled transaction
    error: Exception


def transact(operation: str, writes: Sequence[tuple[str, Mapping[str, Any]]]) -> Cancelled | None:
    """Run ``writes`` (employee id, arguments) as ``operation`` ("Put", "Update") in
    transactions of at most 100; stop at the first one cancelled and describe it."""
    written: list[str] = []
    for chunk in lottery_draw.chunks(writes):
        try:
            client.transact_write_items(
                TransactItems=[{operation: typed(arguments)} for _, arguments in chunk])
        except client.exceptions.TransactionCanceledException as cancelled:
            reasons = cancelled.response.get("CancellationReasons") or []
            return Cancelled(written, lottery_draw.cancellation_reasons(
                [employee_id for employee_id, _ in chunk], reasons), cancelled)
        written += [employee_id for employee_id, _ in chunk]
    return None


def release(employee_ids: Sequence[str], draw_id: str) -> None:
    """Give back this draw's claims on ``employee_ids``; others' items and records stay."""
    for employee_id in employee_ids:
        try:
            client.delete_item(**typed(lottery_draw.release_claim(employee_id, draw_id)))
        except client.exceptions.ConditionalCheckFailedException:
            pass    # not claimed by this draw (any more): nothing to give back
