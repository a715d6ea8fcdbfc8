"""InputWinners: the first step of the draw. Checks the request and names the draw.

The state machine passes ``{"request": <execution input>, "execution": <execution
name>}``. A request such as ``{"input": 2}`` becomes the draw's state::

    {"draw_id": "<execution name>", "num_of_winners": 2, "attempt": 0}

Bad input (missing, zero, negative, not a whole number) raises InvalidWinnerCount, and
``"exception": true`` raises SimulatedFailure: the state machine's Catch sends both to its
Fail state before anything is read or written.
"""

import lottery_draw


def handler(event: dict, context: object) -> dict:
    count = lottery_draw.parse_request(event.get("request"))
    draw_id = lottery_draw.draw_id_of(str(event.get("execution", "")))
    print(f"draw {draw_id}: {count} winner(s) asked for")
    return {"draw_id": draw_id, "num_of_winners": count, "attempt": 0}
