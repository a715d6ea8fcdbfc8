"""A SAM Schedule event fires its function on the local cloud's time scale."""

from __future__ import annotations

import time
from pathlib import Path

import boto3

from workshop import cloud as lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_rate_schedule_fires_on_the_time_scale(cloud: dict) -> None:
    # rate(1 minute) at the tests' time scale of 0.01 fires every 0.6 s.
    outputs = lifecycle.deploy(FIXTURES / "e2e" / "tick.yaml", stack_name="tick")["outputs"]
    table = boto3.resource("dynamodb").Table(outputs["TicksTableName"])
    deadline = time.monotonic() + 30
    items: list = []
    while len(items) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        items = table.scan()["Items"]
    assert len(items) >= 3
    assert {item["source"] for item in items} == {"tick-test"}


def test_removing_the_schedule_from_the_stack_deletes_rule_function_and_table(cloud: dict
                                                                            ) -> None:
    outputs = lifecycle.deploy(FIXTURES / "e2e" / "tick.yaml", stack_name="tock")["outputs"]
    resources = lifecycle.stack(stack_name="tock")["resources"]
    function = next(r["physical_id"] for r in resources if r["logical_id"] == "TickFunction")
    report = lifecycle.deploy(FIXTURES / "e2e" / "echo.yaml", stack_name="tock")
    assert {"TickFunction", "TicksTable"} <= set(report["deleted"])
    assert outputs["TicksTableName"] not in boto3.client("dynamodb").list_tables()["TableNames"]
    assert function not in lifecycle.status()["functions"]
