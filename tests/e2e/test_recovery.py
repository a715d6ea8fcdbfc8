"""Recovery, as AWS recovers: nothing already stored is lost, and whoever waits is told.

A worker killed mid-invocation, a handler that hangs past its Timeout, a socket that
drops without a close frame, and the local cloud restarted under a notebook's clients.
(A transient task failure under Retry: tests/e2e/test_fault_injection.py and
test_stepfunctions.py.)
"""

from __future__ import annotations

import os
import signal
import socket
import time
import warnings
from pathlib import Path

import boto3
import pytest
import websocket
from polling import eventually

import workshop
from workshop import cloud as lifecycle
from workshop.player import Player, PlayerClosed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECOVERY = FIXTURES / "e2e" / "recovery.yaml"


@pytest.fixture(scope="module")
def game(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(RECOVERY, stack_name="recovery")["outputs"]


def rows(game: dict[str, str]) -> list[dict]:
    table = boto3.resource("dynamodb").Table(game["PlayersTableName"])
    return table.scan(ConsistentRead=True)["Items"]


def log_text(game: dict[str, str], since_ms: int) -> str:
    logs = boto3.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{game['GameFunctionName']}",
                                    startTime=since_ms)["events"]
    return "".join(event["message"] for event in events)


def test_a_worker_killed_mid_invocation_fails_that_message_only(game: dict[str, str]) -> None:
    since = int(time.time() * 1000)
    with Player(game["WebSocketURL"], user_id="killed") as player:
        player.send("work", seconds=30)
        pid = player.wait_for("working", timeout=10)["pid"]
        os.kill(pid, signal.SIGKILL)   # as an out-of-memory kill would
        frames = eventually(lambda: [m for m in player.inbox if "message" in m])
        assert frames[0]["message"] == "Internal server error"  # API Gateway's own frame
        player.send("echo", data="still here")
        done = player.wait_for("done", timeout=10)  # served by a new worker
        assert done["data"] == "still here" and done["players"] >= 1
        assert {"connectionId", "userId"} <= set(next(
            r for r in rows(game) if r["userId"] == "killed"))  # the stored row is intact
    assert eventually(lambda: "Error: Runtime exited with error: signal: killed\n"
                              "Runtime.ExitError" in log_text(game, since))


def test_a_handler_hanging_past_its_timeout_is_ended_and_the_player_told(
        game: dict[str, str]) -> None:
    since = int(time.time() * 1000)
    with Player(game["WebSocketURL"], user_id="stuck") as player:
        started = time.monotonic()
        player.send("hang")
        frames = eventually(lambda: [m for m in player.inbox if "message" in m], timeout=15)
        assert frames[0]["message"] == "Internal server error"
        assert 1.5 < time.monotonic() - started < 12  # Timeout: 2, not the 29 s of the gateway
        player.send("echo", data="after")
        assert player.wait_for("done", timeout=10)["data"] == "after"
        assert any(r["userId"] == "stuck" for r in rows(game))
    assert eventually(lambda: "Task timed out after 2.00 seconds" in log_text(game, since))


def test_a_socket_dropped_without_a_close_frame_still_disconnects(game: dict[str, str]) -> None:
    since = int(time.time() * 1000)
    ws = websocket.create_connection(game["WebSocketURL"] + "?user_id=dropped", timeout=10)
    assert eventually(lambda: any(r["userId"] == "dropped" for r in rows(game)))
    ws.sock.shutdown(socket.SHUT_RDWR)   # the network goes: no close frame is ever sent
    ws.sock.close()
    # $disconnect still runs (API Gateway: 1006), and its handler deletes the stale row.
    assert eventually(lambda: not any(r["userId"] == "dropped" for r in rows(game)))
    assert eventually(lambda: "1006 Connection closed abnormally" in log_text(game, since))


def test_a_restarted_cloud_says_what_is_gone_and_what_to_run(cloud: dict) -> None:
    outer = dict(os.environ)
    try:
        with lifecycle.private_cloud(time_scale=0.01):
            workshop.up()
            outputs = lifecycle.deploy(RECOVERY, stack_name="before")["outputs"]
            player = Player(outputs["WebSocketURL"], user_id="restarted")
            lifecycle.down()          # the cloud stops under the player and this process
            assert eventually(lambda: not player.connected)
            with pytest.raises(PlayerClosed, match=r"restarted's connection is closed \(the "
                                                   r"server closed it: 1001 Going away\)"):
                player.send("echo")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                state = workshop.up()  # a new cloud: nothing of the old one is there
            (warning,) = [w for w in caught if issubclass(w.category, workshop.CloudRestarted)]
            assert "the stack before and every item" in str(warning.message)
            assert "re-run this notebook's deploy cell" in str(warning.message)
            assert state["stacks"] == []
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                workshop.up()      # said once: this process has seen the new cloud now
            player.close()
    finally:
        os.environ.clear()
        os.environ.update(outer)
        lifecycle.use_local_cloud()  # back to the session's cloud
