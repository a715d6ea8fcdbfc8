"""Notebook 05's fault helpers: how many attempts a Retry makes, and the aws target."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import cloud as lifecycle
from workshop import faults as injected
from workshop.notebook import faults
from workshop.notebook.target import Target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "e2e"


@pytest.fixture(scope="module")
def outputs(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(FIXTURES / "retry.yaml", stack_name="nbfaults")["outputs"]


@pytest.fixture(scope="module")
def turn_flow(outputs: dict[str, str]) -> str:
    return outputs["StateMachineArn"]


def test_retry_attempts_reads_the_deployed_retrier(turn_flow: str) -> None:
    assert faults.retry_attempts(turn_flow, "Turn") == 3                  # 1 + MaxAttempts 2
    assert faults.retry_attempts(turn_flow, "Turn", "GameBroken") == 1    # not retried
    assert faults.retry_attempts(turn_flow, "GaveUp") == 1               # no Retry at all


def test_on_aws_nothing_is_injected_and_the_checks_only_report(cloud: dict) -> None:
    aws = Target("aws", "AWS account 123456789012")
    told = faults.inject_errors(aws, "TriviaQuestionFunction", count=2)
    assert not told and "aws:lambda:invocation-error" in told.message
    assert injected.current() == []
    game = faults.SoloGame("g", "arn:aws:states:us-east-1:123456789012:execution:m:game-g")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(faults.state_machines, "wait", lambda arn: {"status": "SUCCEEDED"})
        for judge in (faults.retried, faults.caught):
            verdict = judge(game, told)
            assert not verdict and str(verdict).startswith("ℹ️ no fault was injected")


def test_locally_the_errors_are_injected(outputs: dict[str, str]) -> None:
    local = Target("local", "local cloud")
    fault = faults.inject_errors(local, outputs["TurnFunctionName"], count=2)
    try:
        assert isinstance(fault, injected.Fault)
        assert fault.details["remaining"] == 2 and fault.details["error"] == \
            "Lambda.ServiceException"
    finally:
        injected.clear()
