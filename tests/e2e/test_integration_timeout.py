"""API Gateway's integration timeout while invocations queue for a busy function.

On AWS an invocation beyond the concurrency limit is throttled at once; the local cloud
has fewer workers than AWS has execution environments, so it queues it instead. When
API Gateway stops waiting, a queued invocation must be withdrawn: started later, it
would act for a client already told "Endpoint request timed out" (in the 200-player
join, such late joins took seats for players who had left, and left others waiting).
One already running runs on to its own timeout, as on AWS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websocket

from workshop import cloud as lifecycle

QUEUED = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "queued.yaml"
TIMED_OUT = "Endpoint request timed out"


@pytest.fixture(scope="module")
def url(cloud: dict) -> str:
    return lifecycle.deploy(QUEUED, stack_name="queued")["outputs"]["WebSocketURL"]


def next_frame(ws: websocket.WebSocket) -> dict:
    return json.loads(ws.recv())


def until_ran(ws: websocket.WebSocket, action: str, n: int) -> list[dict]:
    """Every frame up to and including ``{"ran": action, "n": n}``."""
    frames = [next_frame(ws)]
    while frames[-1] != {"ran": action, "n": n}:
        frames.append(next_frame(ws))
    return frames


def test_a_message_still_queued_at_the_timeout_is_answered_and_never_run(url: str) -> None:
    ws = websocket.create_connection(url, timeout=30)
    try:
        ws.send(json.dumps({"action": "mark", "n": 0}))  # a warm worker for what follows
        until_ran(ws, "mark", 0)
        ws.send(json.dumps({"action": "hold", "n": 1, "seconds": 2.5}))
        assert next_frame(ws)["message"] == TIMED_OUT  # hold runs on, as on AWS
        ws.send(json.dumps({"action": "mark", "n": 2}))  # queued behind hold
        assert next_frame(ws)["message"] == TIMED_OUT
        assert next_frame(ws) == {"ran": "hold", "n": 1}
        # The queue is first come, first served: had mark 2 stayed queued, it would run
        # before mark 3.
        ws.send(json.dumps({"action": "mark", "n": 3}))
        assert until_ran(ws, "mark", 3) == [{"ran": "mark", "n": 3}]
    finally:
        ws.close()
