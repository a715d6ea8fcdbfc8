"""Function logs in the local cloud's CloudWatch Logs stay bounded: the newest are kept."""

from __future__ import annotations

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
