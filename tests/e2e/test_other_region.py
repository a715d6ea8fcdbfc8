"""The game deploys, battles and draws the lottery in regions other than us-east-1.

Nothing in the template, its state machines or its handlers names a region or a partition
(see tests/test_no_hardcoded_partition.py); this proves it by running the whole template
on a local cloud of its own (``WORKSHOP_REGION``) in eu-west-1 and in cn-northwest-1, the
original lottery lab's region, whose partition is ``aws-cn`` and whose host names end in
``.amazonaws.com.cn``: from the template to an announced draw and a played battle.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from workshop import cloud as lifecycle
from workshop import demo
from workshop.notebook import lottery

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# Each region and the partition its ARNs carry.
PARTITIONS = {"eu-west-1": "aws", "cn-northwest-1": "aws-cn"}


@pytest.fixture(scope="module", params=sorted(PARTITIONS))
def regional_game(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """The template deployed on a private cloud in one region: (region, outputs)."""
    region = request.param
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKSHOP_REGION", region)
    try:
        with lifecycle.private_cloud(time_scale=0.01):
            yield region, lifecycle.deploy(TEMPLATE, stack_name="game")["outputs"]
    finally:
        # private_cloud gives the environment back; boto3's default session and the
        # execute-api redirect must follow it to the session's cloud, if one runs.
        patch.undo()
        if os.environ.get("WORKSHOP_PORT"):
            lifecycle.use_local_cloud()
        else:
            boto3.DEFAULT_SESSION = None


def test_arns_are_in_the_regions_partition(
        regional_game: tuple[str, dict[str, str]]) -> None:
    region, outputs = regional_game
    partition = PARTITIONS[region]
    assert outputs["LotteryStateMachineArn"].startswith(f"arn:{partition}:states:{region}:")
    assert outputs["LotteryTopicArn"].startswith(f"arn:{partition}:sns:{region}:")
    function = boto3.client("lambda").get_function(
        FunctionName=outputs["BattleFunctionName"])["Configuration"]
    assert function["FunctionArn"].startswith(f"arn:{partition}:lambda:{region}:")
    assert function["Role"].startswith(f"arn:{partition}:iam::")
    stack = boto3.client("cloudformation").describe_stacks(StackName="game")["Stacks"][0]
    assert stack["StackId"].startswith(f"arn:{partition}:cloudformation:{region}:")


def test_the_lottery_draws_and_announces_once(
        regional_game: tuple[str, dict[str, str]]) -> None:
    region, outputs = regional_game
    partition = PARTITIONS[region]
    machine = outputs["LotteryStateMachineArn"]
    definition = json.loads(boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=machine)["definition"])
    notify = definition["States"]["Announce And Record"]["Branches"][0]["States"]
    assert notify["Notify Winners"]["Resource"] == f"arn:{partition}:states:::sns:publish"

    lottery.reset_pool(outputs["EmployeesTableName"], outputs["WinnersTableName"])
    inbox = lottery.Inbox(outputs["LotteryInboxQueueUrl"])
    execution = lottery.run_draw(machine, {"input": 2}, timeout=30)
    assert execution["status"] == "SUCCEEDED", execution
    assert execution["executionArn"].startswith(f"arn:{partition}:states:{region}:")
    assert set(json.loads(execution["output"])) == {"announced", "recorded"}
    inbox.fetch(expect=1, timeout=10.0)
    assert len(inbox.notifications) == 1


def test_a_battle_reaches_both_players(regional_game: tuple[str, dict[str, str]]) -> None:
    """The handlers post to ``https://{domainName}/{stage}``, a host in the region's DNS
    suffix: the workers' execute-api redirect must recognise it."""
    _, outputs = regional_game
    transcript = io.StringIO()
    assert demo.play_battle(outputs["WebSocketURL"], out=transcript) == {
        "alice": "WIN", "bob": "LOSE"}
