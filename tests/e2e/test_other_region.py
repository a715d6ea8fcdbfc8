"""The game deploys and the lottery draws in a region other than us-east-1.

Nothing in the template, its state machines or its handlers names a region (see
tests/test_no_hardcoded_partition.py); this proves it by running lab 6 in eu-west-1 on a
local cloud of its own (``WORKSHOP_REGION``), from the template to an announced draw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from workshop import cloud as lifecycle
from workshop.notebook import lottery

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
REGION = "eu-west-1"


@pytest.fixture
def regional_cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    monkeypatch.setenv("WORKSHOP_REGION", REGION)
    try:
        with lifecycle.private_cloud(time_scale=0.01) as state:
            yield state
    finally:
        # private_cloud gives the environment back; boto3's default session and the
        # execute-api redirect must follow it to the session's cloud, if one runs.
        monkeypatch.undo()
        if os.environ.get("WORKSHOP_PORT"):
            lifecycle.use_local_cloud()
        else:
            boto3.DEFAULT_SESSION = None


def test_lab6_deploys_and_draws_in_eu_west_1(regional_cloud: dict) -> None:
    outputs = lifecycle.deploy(TEMPLATE, stack_name="game")["outputs"]
    machine = outputs["LotteryStateMachineArn"]
    assert machine.startswith(f"arn:aws:states:{REGION}:")
    definition = json.loads(boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=machine)["definition"])
    notify = definition["States"]["Announce And Record"]["Branches"][0]["States"]
    assert notify["Notify Winners"]["Resource"] == "arn:aws:states:::sns:publish"

    lottery.reset_pool(outputs["EmployeesTableName"], outputs["WinnersTableName"])
    inbox = lottery.Inbox(outputs["LotteryInboxQueueUrl"])
    execution = lottery.run_draw(machine, {"input": 2}, timeout=30)
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["executionArn"].startswith(f"arn:aws:states:{REGION}:")
    assert set(json.loads(execution["output"])) == {"announced", "recorded"}
    inbox.fetch(expect=1, timeout=10.0)
    assert len(inbox.notifications) == 1
