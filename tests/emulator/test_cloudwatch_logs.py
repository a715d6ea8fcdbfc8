"""Function logs in the local cloud's CloudWatch Logs stay bounded: the newest are kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workshop.emulator.cloudwatch_logs import CloudWatchLogsSink
from workshop.emulator.settings import Settings

SETTINGS = Settings(port=45998)
GROUP = "/aws/lambda/busy"
NOW = int(time.time() * 1000)  # CloudWatch refuses events older than 14 days


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("logs", region_name=SETTINGS.region,
                           endpoint_url=f"https://logs.{SETTINGS.region}.amazonaws.com",
                           aws_access_key_id="testing", aws_secret_access_key="testing")


def messages(logs: Any) -> dict[str, list[str]]:
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    return {s["logStreamName"]: [e["message"] for e in logs.get_log_events(
        logGroupName=GROUP, logStreamName=s["logStreamName"], startFromHead=True,
        limit=10_000)["events"]] for s in streams}


def test_a_group_keeps_its_newest_events_and_drops_emptied_streams(logs: Any) -> None:
    sink = CloudWatchLogsSink(SETTINGS, max_events_per_group=300)
    # Three workers' streams, written in turn: an old one, then two that go on.
    for n in range(100):
        sink.put_events(GROUP, "old", [(NOW + n, f"old {n}\n")])
    for n in range(300):
        stream = ("a", "b")[n % 2]
        sink.put_events(GROUP, stream, [(NOW + 1_000 + n, f"{stream} {n}\n")])
    kept = messages(logs)
    assert "old" not in kept  # emptied: its events were the oldest
    assert sum(map(len, kept.values())) == 300
    assert kept["a"][-1] == "a 298\n" and kept["b"][-1] == "b 299\n"


def test_below_the_limit_nothing_is_dropped(logs: Any) -> None:
    sink = CloudWatchLogsSink(SETTINGS, max_events_per_group=10_000)
    for n in range(400):
        sink.put_events(GROUP, "s", [(NOW + n, f"line {n}\n")])
    assert messages(logs)["s"] == [f"line {n}\n" for n in range(400)]


@pytest.mark.asyncio
async def test_in_the_server_loop_lines_are_written_together_soon_after(logs: Any) -> None:
    sink = CloudWatchLogsSink(SETTINGS, flush_delay=0.05)
    for n in range(3):
        sink.put_events(GROUP, "s", [(NOW + n, f"line {n}\n")])
    assert GROUP not in {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    await asyncio.sleep(0.3)  # the flush delay, and then some: nothing reads meanwhile
    assert messages(logs)["s"] == ["line 0\n", "line 1\n", "line 2\n"]


@pytest.mark.asyncio
async def test_flush_writes_queued_lines_at_once(logs: Any) -> None:
    sink = CloudWatchLogsSink(SETTINGS, flush_delay=3600)
    sink.put_events(GROUP, "s", [(NOW, "START\n"), (NOW + 1, "END\n")])
    sink.flush()  # what the server does before a request reaches moto
    assert messages(logs)["s"] == ["START\n", "END\n"]


@pytest.mark.asyncio
async def test_a_clock_that_stepped_back_between_invocations_loses_no_line(logs: Any) -> None:
    # CloudWatch refuses a batch out of time order: the queued lines of two invocations
    # whose clock went back in between must not be sent as one.
    sink = CloudWatchLogsSink(SETTINGS, flush_delay=3600)
    sink.put_events(GROUP, "s", [(NOW + 500, "first\n"), (NOW + 501, "first done\n")])
    sink.put_events(GROUP, "s", [(NOW + 100, "second\n")])
    sink.flush()
    assert sorted(messages(logs)["s"]) == ["first\n", "first done\n", "second\n"]
