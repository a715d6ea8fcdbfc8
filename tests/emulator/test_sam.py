"""SAM expansion: the real translator, offline, with local code folders and ASL files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop.emulator.sam import expand, is_sam
from workshop.emulator.template import Template, TemplateError, load_template

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"


@pytest.fixture(scope="module")
def full() -> dict:
    return expand(load_template(TEMPLATES / "full.yaml"), region="us-east-1")


def of_type(body: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in body["Resources"].items() if v["Type"] == kind}


def write(tmp_path: Path, text: str, name: str = "template.yaml") -> Template:
    (tmp_path / name).write_text(text)
    return load_template(tmp_path / name)


def test_only_plain_cloudformation_types_remain(full: dict) -> None:
    assert not [r for r in full["Resources"].values() if r["Type"].startswith("AWS::Serverless")]
    assert "Transform" not in full and "Globals" not in full


def test_functions_get_their_local_folder_back_and_the_globals(full: dict) -> None:
    game = full["Resources"]["GameFunction"]["Properties"]
    assert game["Code"] == "src/game/"
    assert (game["Runtime"], game["Timeout"], game["Handler"]) == ("python3.12", 5, "app.handler")
    assert game["MemorySize"] == {"Fn::FindInMap": ["Sizes", {"Ref": "StageName"}, "Memory"]}
    assert game["Environment"]["Variables"]["STAGE"] == {"Ref": "StageName"}
    assert game["Environment"]["Variables"]["PLAYERS_TABLE"] == {"Ref": "PlayersTable"}
    assert full["Resources"]["TickFunction"]["Properties"]["Code"] == "src/ticker/"


def test_simple_table_and_policy_templates(full: dict) -> None:
    table = full["Resources"]["PlayersTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "playerId", "KeyType": "HASH"}]
    role = full["Resources"]["GameFunctionRole"]["Properties"]
    actions = json.dumps(role["Policies"])
    assert "dynamodb:PutItem" in actions and "sns:Publish" in actions
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]


def test_schedule_event_becomes_a_rule_and_a_permission(full: dict) -> None:
    rule = full["Resources"]["TickFunctionEveryMinute"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    assert rule["Properties"]["Targets"][0]["Input"] == '{"source": "schedule"}'
    permission = full["Resources"]["TickFunctionEveryMinutePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"


def test_auto_publish_alias_gives_a_version_and_an_alias(full: dict) -> None:
    assert len(of_type(full, "AWS::Lambda::Version")) == 1
    assert list(of_type(full, "AWS::Lambda::Alias")) == ["TickFunctionAliaslive"]


def test_state_machine_definition_is_inlined_with_substitutions_kept(full: dict) -> None:
    machine = full["Resources"]["GameFlow"]["Properties"]
    text = "\n".join(machine["DefinitionString"]["Fn::Join"][1])
    assert json.loads(text)["States"]["Tick"]["Resource"] == "${TickFunctionArn}"
    assert machine["DefinitionSubstitutions"]["TopicArn"] == {"Ref": "Announcements"}
    assert machine["RoleArn"] == {"Fn::GetAtt": ["GameFlowRole", "Arn"]}


def test_plain_cloudformation_passes_through(tmp_path: Path) -> None:
    template = write(tmp_path, "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    assert not is_sam(template.body)
    assert expand(template, region="us-east-1") is template.body


def test_yaml_asl_files_are_read_too(tmp_path: Path) -> None:
    (tmp_path / "flow.asl.yaml").write_text(
        "StartAt: Done\nStates:\n  Done: {Type: Succeed}\n")
    template = write(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n"
                     "  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
                     "      DefinitionUri: flow.asl.yaml\n      Role: arn:aws:iam::1:role/r\n")
    machine = expand(template, region="us-east-1")["Resources"]["Flow"]["Properties"]
    assert '"StartAt": "Done"' in "".join(machine["DefinitionString"]["Fn::Join"][1])


def test_broken_asl_names_file_line_and_resource() -> None:
    with pytest.raises(TemplateError) as caught:
        expand(load_template(TEMPLATES / "broken_asl.yaml"), region="us-east-1")
    error = caught.value
    assert error.file.endswith("statemachines/broken.asl.json")
    assert error.line == 6
    assert error.resource.startswith("GameFlow (DefinitionUri in ")
    assert "not valid JSON" in str(error)


def test_missing_definition_file(tmp_path: Path) -> None:
    template = write(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n"
                     "  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
                     "      DefinitionUri: nowhere.json\n")
    with pytest.raises(TemplateError, match="DefinitionUri file .*nowhere.json does not exist") \
            as caught:
        expand(template, region="us-east-1")
    assert (caught.value.resource, caught.value.line) == ("Flow", 3)


def test_translator_errors_name_the_resource(tmp_path: Path) -> None:
    template = write(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n"
                     "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                     "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
                     "      Events:\n        Tick:\n          Type: Schedule\n"
                     "          Properties: {Input: '{}'}\n")
    with pytest.raises(TemplateError) as caught:
        expand(template, region="us-east-1")
    assert caught.value.resource == "Fn"
    assert str(caught.value).startswith(f"{tmp_path / 'template.yaml'}:3: Fn: SAM cannot "
                                        "translate this:")


def test_other_transforms_are_refused(tmp_path: Path) -> None:
    template = write(tmp_path, "Transform: [AWS::LanguageExtensions]\nResources:\n"
                     "  Q:\n    Type: AWS::SQS::Queue\n")
    with pytest.raises(TemplateError, match="Transform AWS::LanguageExtensions is not supported"):
        expand(template, region="us-east-1")
