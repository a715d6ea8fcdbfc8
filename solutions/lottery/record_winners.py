"""RecordWinners: turns this draw's claims into records, all or nothing.

ValidateWinners claimed every winner before the announcement went out; this step, which
runs beside the announcement, marks those items ``"status": "recorded"`` with the time.
Each update is conditional on the item still belonging to this draw (``record_claim``),
in one transaction per 100 winners, so a retry after a timeout updates its own items
again and succeeds, while a claim that is gone — released, or never made — refuses the
whole transaction: WinnerAlreadyRecorded, and nothing of this draw is recorded.
Any other cancellation (a conflict with a transaction in flight, throttling) is raised
as it is, TransactionCanceledException, which the state machine retries.
"""

from datetime import datetime, timezone

import lottery_draw
import winners_table


def handler(event: dict, context: object) -> dict:
    drawn = event["winners"]
    draw_id = event["draw_id"]
    ids = lottery_draw.validate(drawn, ())
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    cancelled = winners_table.transact(
        "Update", [(employee_id, lottery_draw.record_claim(employee_id, draw_id, now))
                   for employee_id in ids])
    if cancelled is not None:
        lost = lottery_draw.refused(cancelled.reasons, lottery_draw.CONDITION_FAILED)
        if not lost:
            raise cancelled.error
        raise lottery_draw.WinnerAlreadyRecorded(
            f"draw {draw_id} recorded nobody: its claim on {', '.join(lost)} is gone "
            "(another draw holds them)")
    print(f"draw {draw_id}: recorded {', '.join(ids)}")
    return {"draw_id": draw_id, "winners": drawn}
