"""A state machine deployed from SAM, run by moto's interpreter against our Lambda."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import boto3
import pytest

from workshop import cloud as lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

FLOW = FIXTURES / "e2e" / "flow.yaml"


@pytest.fixture(scope="module")
def flow(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(FLOW, stack_name="flow")["outputs"]


def run(arn: str, payload: dict, *, timeout: float = 30.0) -> tuple[dict, list[dict]]:
    sfn = boto3.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=arn, name=f"run-{uuid.uuid4().hex[:8]}",
                                  input=json.dumps(payload))
    deadline = time.monotonic() + timeout
    while True:
        execution = sfn.describe_execution(executionArn=started["executionArn"])
        if execution["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    return execution, history


def count(history: list[dict], event_type: str) -> int:
    return sum(event["type"] == event_type for event in history)


def test_high_score_is_retried_waited_on_and_announced(flow: dict[str, str]) -> None:
    execution, history = run(flow["StateMachineArn"], {"id": "ada", "points": 7})
    assert execution["status"] == "SUCCEEDED"
    assert count(history, "LambdaFunctionFailed") == 1      # TransientError, then retried
    assert count(history, "LambdaFunctionSucceeded") == 1
    assert count(history, "WaitStateEntered") == 1
    assert count(history, "ParallelStateSucceeded") == 1
    messages = boto3.client("sqs").receive_message(
        QueueUrl=flow["QueueUrl"], WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in messages] == ["ada scored 14"]
    item = boto3.resource("dynamodb").Table(flow["ResultsTableName"]).get_item(
        Key={"id": "ada"})["Item"]
    assert item["score"] == 14


def test_low_score_ends_in_the_fail_state(flow: dict[str, str]) -> None:
    execution, history = run(flow["StateMachineArn"], {"id": "bo", "points": 2})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ScoreTooLow"
    assert count(history, "WaitStateEntered") == 0


def test_handler_error_is_caught_without_retry(flow: dict[str, str]) -> None:
    execution, history = run(flow["StateMachineArn"], {"id": "cy", "explode": True})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "HandlerFailed"
    assert count(history, "LambdaFunctionFailed") == 1
    failed = next(e for e in history if e["type"] == "LambdaFunctionFailed")
    assert failed["lambdaFunctionFailedEventDetails"]["error"] == "ValueError"


def test_unnamed_executions_get_distinct_generated_names(flow: dict[str, str]) -> None:
    sfn = boto3.client("stepfunctions")
    arns = [sfn.start_execution(stateMachineArn=flow["StateMachineArn"],
                                input=json.dumps({"id": "dee", "points": 2}))["executionArn"]
            for _ in range(2)]
    names = [arn.rsplit(":", 1)[1] for arn in arns]
    assert names[0] != names[1]
    assert all(uuid.UUID(name) for name in names)
