"""Faults injected on purpose, seen where AWS would show them: Step Functions, the
WebSocket client, the Lambda API, and the command line that adds, lists and clears them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import websocket

from workshop import cloud as lifecycle
from workshop import faults

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def retry(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(FIXTURES / "e2e" / "retry.yaml", stack_name="retry")["outputs"]


@pytest.fixture(scope="module")
def echo(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(FIXTURES / "e2e" / "echo.yaml", stack_name="faultecho")["outputs"]


@pytest.fixture(autouse=True)
def no_faults_left(cloud: dict) -> Iterator[None]:
    yield
    faults.clear()


def run(arn: str) -> tuple[dict, list[dict]]:
    sfn = boto3.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=arn, name=f"turn-{uuid.uuid4().hex[:8]}",
                                  input=json.dumps({"turn": 0}))
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=started["executionArn"])
           )["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    return execution, sfn.get_execution_history(executionArn=started["executionArn"])["events"]


def failures(history: list[dict]) -> list[dict]:
    return [e["lambdaFunctionFailedEventDetails"] for e in history
            if e["type"] == "LambdaFunctionFailed"]


def test_two_service_exceptions_are_retried_and_the_execution_succeeds(
        retry: dict[str, str]) -> None:
    fault = faults.add_error("TurnFunction", count=2, stack_name="retry")
    assert str(fault) == f"{fault.id}: the next 2 invocations of " \
                         f"{retry['TurnFunctionName']} fail with Lambda.ServiceException"
    execution, history = run(retry["StateMachineArn"])
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"turn": 1}
    failed = failures(history)
    assert [f["error"] for f in failed] == ["Lambda.ServiceException"] * 2
    assert f"Fault {fault.id} injected by the local cloud" in failed[0]["cause"]
    assert "Status Code: 500; Error Code: ServiceException" in failed[0]["cause"]
    assert faults.current() == []  # spent


def test_failures_beyond_the_retries_are_caught(retry: dict[str, str]) -> None:
    faults.add_error("TurnFunction", error="Lambda.TooManyRequestsException", count=5,
                     stack_name="retry")
    execution, history = run(retry["StateMachineArn"])
    assert (execution["status"], execution["error"]) == ("FAILED", "GaveUp")
    assert [f["error"] for f in failures(history)] == ["Lambda.TooManyRequestsException"] * 3
    (left,) = faults.current()
    assert (left["injected"], left["remaining"]) == (3, 2)


def test_a_function_error_is_not_retried(retry: dict[str, str]) -> None:
    faults.add_error("TurnFunction", error="GameBroken", count=1, stack_name="retry")
    execution, history = run(retry["StateMachineArn"])
    assert execution["status"] == "FAILED"
    assert [f["error"] for f in failures(history)] == ["GameBroken"]


def test_the_lambda_api_answers_as_lambda_does(retry: dict[str, str]) -> None:
    client = boto3.client("lambda")
    with faults.add_error(retry["TurnFunctionName"]):  # by function name; cleared on exit
        with pytest.raises(client.exceptions.ServiceException) as failed:
            client.invoke(FunctionName=retry["TurnFunctionName"], Payload=b"{}")
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    reply = client.invoke(FunctionName=retry["TurnFunctionName"], Payload=b"{}")
    assert json.loads(reply["Payload"].read()) == {"turn": 1}


def test_a_websocket_client_gets_api_gateways_error_and_stays_connected(
        echo: dict[str, str]) -> None:
    ws = websocket.create_connection(echo["WebSocketURL"], timeout=10)
    try:
        faults.add_error("EchoFunction", count=1, stack_name="faultecho")
        ws.send(json.dumps({"action": "echo", "data": 1}))
        assert json.loads(ws.recv())["message"] == "Internal server error"
        ws.send(json.dumps({"action": "echo", "data": 2}))
        assert json.loads(ws.recv())["data"] == 2
    finally:
        ws.close()


def test_an_unknown_function_or_bad_fault_is_one_clear_line(retry: dict[str, str]) -> None:
    with pytest.raises(lifecycle.CloudError, match="no function 'NoSuchFunction'"):
        faults.add_error("NoSuchFunction")
    with pytest.raises(lifecycle.CloudError, match="count 0 is out of range"):
        faults.add_error("TurnFunction", count=0, stack_name="retry")
    with pytest.raises(lifecycle.CloudError, match="stack 'nope' has not been deployed"):
        faults.add_delay("TurnFunction", 10, stack_name="nope")
    lifecycle.deploy(FIXTURES / "e2e" / "retry.yaml", stack_name="retrytwin")
    try:
        for call in (lambda: faults.add_error("TurnFunction"),
                     lambda: faults.clear("TurnFunction")):
            with pytest.raises(lifecycle.CloudError, match="TurnFunction is a function of the "
                                                           "stacks retry, retrytwin: say which"):
                call()
    finally:
        lifecycle.delete(stack_name="retrytwin")


def workshop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workshop", "fault", *args],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_the_command_line_adds_lists_and_clears(retry: dict[str, str]) -> None:
    added = workshop("add", "TurnFunction", "--error", "--count", "2", "--stack-name", "retry")
    assert added.returncode == 0, added.stderr
    assert "the next 2 invocations" in added.stdout
    delayed = workshop("add", "TurnFunction", "--delay", "1500", "--duration", "PT5M",
                       "--percentage", "50", "--stack-name", "retry")
    assert delayed.returncode == 0, delayed.stderr
    listed = json.loads(workshop("list", "--json").stdout)
    assert [(f["action"], f["error"], f["delay_ms"], f["remaining"], f["percentage"])
            for f in listed] == [
        ("aws:lambda:invocation-error", "Lambda.ServiceException", 0, 2, 100),
        ("aws:lambda:invocation-add-delay", None, 1500, None, 50)]
    assert 290 < listed[1]["seconds_left"] <= 300
    status = subprocess.run([sys.executable, "-m", "workshop", "status"], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ))
    assert "faults injected: 2" in status.stdout
    table = workshop("list")
    assert "Lambda.ServiceException" in table.stdout and "+1500 ms" in table.stdout
    cleared = workshop("clear", "TurnFunction", "--stack-name", "retry")
    assert cleared.returncode == 0 and "cleared 2 faults" in cleared.stdout
    assert "no faults injected" in workshop("list").stdout
    refused = workshop("add", "TurnFunction", "--error", "States.ALL", "--stack-name", "retry")
    assert refused.returncode == 1
    assert refused.stderr.startswith("workshop fault: error 'States.ALL'")
