"""workshop.lab: a lab's slice of the template, and what the notebooks show of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websocket

from workshop import lab
from workshop.emulator.template import load_template

TEMPLATE = Path(__file__).resolve().parent / "fixtures" / "labs" / "template.yaml"


@pytest.fixture(scope="module")
def body() -> dict:
    return load_template(TEMPLATE).body


def test_a_lab_takes_its_resources_and_what_they_reference(body: dict) -> None:
    sliced = lab.select(body, 1)
    # ConnectionsTable is lab 2, but the lab-1 function references it.
    assert set(sliced["Resources"]) == {"EchoApi", "Stage", "EchoFunction", "EchoIntegration",
                                        "DefaultRoute", "EchoPermission", "ConnectionsTable"}
    assert set(sliced["Outputs"]) == {"WebSocketURL"}          # EchoRoute is lab 3
    assert set(lab.select(body, 3)["Outputs"]) == {"WebSocketURL", "EchoRouteId"}


def test_leaving_out_and_overriding(body: dict) -> None:
    sliced = lab.select(body, 1, without=["EchoPermission"],
                        override={"Stage": {"AutoDeploy": False}})
    assert "EchoPermission" not in sliced["Resources"]
    assert sliced["Resources"]["Stage"]["Properties"]["AutoDeploy"] is False
    assert body["Resources"]["Stage"]["Properties"]["AutoDeploy"] is True   # not mutated


def test_what_cannot_be_left_out_is_named(body: dict) -> None:
    with pytest.raises(lab.LabError, match="EchoIntegration needs EchoFunction"):
        lab.select(body, 1, without=["EchoFunction"])
    with pytest.raises(lab.LabError, match="not resources of the template: Nope"):
        lab.select(body, 1, override={"Nope": {}})


def test_resource_yaml_is_the_text_as_written() -> None:
    text = lab.resource_yaml("ConnectionsTable", "EchoRoute", template=TEMPLATE)
    assert text.startswith("  # Lab 2: where connections are recorded.\n  ConnectionsTable:")
    assert "  # Lab 3: a second route.\n  EchoRoute:" in text
    assert "Outputs" not in text and "RouteKey: echo" in text
    with pytest.raises(lab.LabError, match="Missing"):
        lab.resource_yaml("Missing", template=TEMPLATE)


def test_handler_source_follows_globals_code_uri() -> None:
    assert "def handler(event, context):" in lab.handler_source("EchoFunction",
                                                                 template=TEMPLATE)


def test_deploying_lab_by_lab(cloud: dict) -> None:
    assert lab.catch_up(1, stack_name="labs", template=TEMPLATE) is None
    report = lab.catch_up(2, stack_name="labs", template=TEMPLATE)
    assert "EchoRoute" not in report["created"] + report["unchanged"]
    ws = websocket.create_connection(report["outputs"]["WebSocketURL"], timeout=10)
    ws.send(json.dumps({"action": "echo", "data": 1}))     # no echo route yet: $default
    assert json.loads(ws.recv()) == {"action": "error", "data": "unknown action"}
    report = lab.deploy(3, stack_name="labs", template=TEMPLATE)
    assert report["created"] == ["EchoRoute"]
    ws.send(json.dumps({"action": "echo", "data": 2}))
    assert json.loads(ws.recv())["data"] == 2
    ws.close()


def test_cli_catch_up(cloud: dict) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workshop", "deploy", "--template",
                               str(TEMPLATE), "--stack-name", "catchup", *args],
                              capture_output=True, text=True, timeout=120)

    assert "nothing to catch up on" in run("--lab", "1").stdout
    caught_up = run("--lab", "3")
    assert caught_up.returncode == 0, caught_up.stderr
    assert "created  ConnectionsTable" in caught_up.stdout
    assert "EchoRoute" not in caught_up.stdout


def test_policies_without_takes_one_policy_away_and_reads_only() -> None:
    before = TEMPLATE.read_text()
    kept = lab.policies_without("EchoFunction", "DynamoDBCrudPolicy", template=TEMPLATE)
    assert len(kept) == 1 and "Statement" in kept[0]
    assert TEMPLATE.read_text() == before
    with pytest.raises(lab.LabError, match="none of the policies SNSPublishMessagePolicy"):
        lab.policies_without("EchoFunction", "SNSPublishMessagePolicy", template=TEMPLATE)
    with pytest.raises(lab.LabError, match="NoSuchFunction is not a resource"):
        lab.policies_without("NoSuchFunction", "DynamoDBCrudPolicy", template=TEMPLATE)
