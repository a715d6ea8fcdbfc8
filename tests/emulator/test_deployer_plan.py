"""The deploy plan is plain data: it pickles, dumps to JSON, executes after a round trip,
and shows itself as CloudFormation's change set would."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path
from typing import Any

import test_deployer
from cloudformation_helpers import INLINE_FUNCTION_RESOURCE
from test_deployer import Cloud, write

from workshop.emulator.deployer import Plan

moto_port, aws, cloud = test_deployer.moto_port, test_deployer.aws, test_deployer.cloud

_PLAIN = (str, int, float, bool, type(None), Path)


def assert_plain(value: Any, where: str = "plan") -> None:
    """Only values, lists, mappings and dataclasses of those: nothing live."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{where}: key {key!r}"
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple, frozenset)):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            assert_plain(getattr(value, field.name), f"{where}.{field.name}")
    else:
        raise AssertionError(f"{where} is a live {type(value).__name__}")


def test_a_plan_is_data_and_runs_after_a_round_trip(cloud: Cloud, project: Path) -> None:
    plan = cloud.deployer.plan(project / "full.yaml", stack_name="game")
    assert_plain(plan)
    json.dumps(plan.to_json())
    copied = pickle.loads(pickle.dumps(plan))
    assert copied == plan
    assert cloud.calls() == 0  # planning called nothing
    report = cloud.deployer.execute(copied)
    assert len(report.created) == 33 and report.outputs["WebSocketURL"].startswith("ws://")
    again = cloud.deployer.plan(project / "full.yaml", stack_name="game")
    assert again.describe() == [] and {c.action for c in again.changes} == {"unchanged"}


project = test_deployer.project

BEFORE = """
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 30}
  Named:
    Type: AWS::SQS::Queue
    Properties: {QueueName: first}
  Alerts:
    Type: AWS::SNS::Topic
""" + INLINE_FUNCTION_RESOURCE


def test_describe_shows_adds_modifies_and_removes(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, BEFORE)
    cloud.deployer.deploy(path)
    ids = {r["logical_id"]: r["physical_id"] for r in cloud.deployer.describe()["resources"]}
    write(tmp_path, BEFORE.replace("VisibilityTimeout: 30", "VisibilityTimeout: 60")
          .replace("QueueName: first", "QueueName: second")
          .replace("  Alerts:\n    Type: AWS::SNS::Topic\n",
                   "  Files:\n    Type: AWS::S3::Bucket\n")
          .replace("context): pass", "context): return 2"))
    plan: Plan = cloud.deployer.plan(path)

    def modify(name: str, replacement: str, *details: tuple[str, str]) -> dict[str, Any]:
        return {"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": name, "PhysicalResourceId": ids[name],
            "ResourceType": plan.template["Resources"][name]["Type"],
            "Replacement": replacement, "Scope": ["Properties"], "Details": [
                {"Target": {"Attribute": "Properties", "Name": prop,
                            "RequiresRecreation": recreation},
                 "Evaluation": "Static", "ChangeSource": "DirectModification"}
                for prop, recreation in details]}}

    assert plan.describe() == [
        modify("Jobs", "False", ("VisibilityTimeout", "Never")),
        modify("Named", "True", ("QueueName", "Always")),
        {"Type": "Resource", "ResourceChange": {
            "Action": "Add", "LogicalResourceId": "Files", "ResourceType": "AWS::S3::Bucket",
            "Scope": [], "Details": []}},
        modify("Fn", "False", ("Code", "Never")),
        {"Type": "Resource", "ResourceChange": {
            "Action": "Remove", "LogicalResourceId": "Alerts", "ResourceType": "AWS::SNS::Topic",
            "PhysicalResourceId": ids["Alerts"], "Scope": [], "Details": []}},
    ]
    assert json.loads(json.dumps(plan.to_json()))["change_set"] == plan.describe()
    report = cloud.deployer.execute(plan)
    assert report.updated == ["Jobs", "Named", "Fn"] and report.created == ["Files"]
    assert report.deleted == ["Alerts"]
