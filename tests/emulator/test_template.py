"""Loading templates: CloudFormation short tags, JSON, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop.emulator.template import DeployError, TemplateError, load_template

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"


def load_text(tmp_path: Path, text: str, name: str = "template.yaml") -> dict:
    path = tmp_path / name
    path.write_text(text)
    return load_template(path).body


def resources_with(value_yaml: str) -> str:
    return ("Resources:\n  Thing:\n    Type: AWS::SQS::Queue\n    Properties:\n"
            f"      Value: {value_yaml}\n")


@pytest.mark.parametrize(("short", "long"), [
    ("!Ref Name", {"Ref": "Name"}),
    ("!GetAtt Table.Arn", {"Fn::GetAtt": ["Table", "Arn"]}),
    ("!GetAtt [Table, Arn]", {"Fn::GetAtt": ["Table", "Arn"]}),
    ("!GetAtt Db.Endpoint.Address", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
    ("!Sub 'arn:${AWS::Partition}:x'", {"Fn::Sub": "arn:${AWS::Partition}:x"}),
    ("!Sub ['${A}-b', {A: !Ref P}]", {"Fn::Sub": ["${A}-b", {"A": {"Ref": "P"}}]}),
    ("!Join [',', [a, b]]", {"Fn::Join": [",", ["a", "b"]]}),
    ("!If [Cond, a, !Ref AWS::NoValue]", {"Fn::If": ["Cond", "a", {"Ref": "AWS::NoValue"}]}),
    ("!Select [1, !Split [',', 'a,b']]",
     {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}),
    ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
    ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
    ("!And [!Condition A, !Condition B]",
     {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
    ("!FindInMap [Map, Key, Value]", {"Fn::FindInMap": ["Map", "Key", "Value"]}),
    ("!GetAZs ''", {"Fn::GetAZs": ""}),
    ("!Base64 hello", {"Fn::Base64": "hello"}),
    ("!ImportValue shared-url", {"Fn::ImportValue": "shared-url"}),
    ("!ImportValue {'Fn::Sub': '${S}-url'}", {"Fn::ImportValue": {"Fn::Sub": "${S}-url"}}),
])
def test_short_tags_become_long_forms(tmp_path: Path, short: str, long: dict) -> None:
    body = load_text(tmp_path, resources_with(short))
    assert body["Resources"]["Thing"]["Properties"]["Value"] == long


def test_dates_stay_strings_as_in_cloudformation(tmp_path: Path) -> None:
    body = load_text(tmp_path, 'AWSTemplateFormatVersion: 2010-09-09\n'
                     + resources_with("{Version: 2012-10-17}"))
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"
    assert body["Resources"]["Thing"]["Properties"]["Value"] == {"Version": "2012-10-17"}


def test_json_templates_load(tmp_path: Path) -> None:
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    assert load_text(tmp_path, json.dumps(template), "template.json") == template


def test_json_error_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        load_text(tmp_path, '{"Resources": {\n  "Q": {"Type": "AWS::SQS::Queue",}\n}}',
                  "bad.json")
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{tmp_path / 'bad.json'}:2:")


def test_yaml_syntax_error_names_file_line_and_resource() -> None:
    with pytest.raises(TemplateError) as caught:
        load_template(TEMPLATES / "broken_yaml.yaml")
    error = caught.value
    assert (error.line, error.resource) == (15, "GameFunction")
    assert str(error).startswith(f"{TEMPLATES / 'broken_yaml.yaml'}:15:6: GameFunction: "
                                 "YAML error:")


def test_unknown_tag_is_an_error_with_its_place(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        load_text(tmp_path, resources_with("!Reference Name"))
    assert caught.value.resource == "Thing"
    assert caught.value.line == 5
    assert "unknown tag !Reference" in str(caught.value)


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    text = ("Resources:\n  Thing:\n    Type: AWS::SQS::Queue\n    Properties: {}\n"
            "    Properties: {VisibilityTimeout: 5}\n")
    with pytest.raises(TemplateError, match="duplicate key 'Properties'") as caught:
        load_text(tmp_path, text)
    assert caught.value.resource == "Thing"


def test_missing_file_and_missing_resources(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="nowhere.yaml: template file not found"):
        load_template(tmp_path / "nowhere.yaml")
    with pytest.raises(TemplateError, match="the template has no Resources"):
        load_text(tmp_path, "Description: nothing here\n")


def test_template_errors_are_deploy_errors() -> None:
    assert issubclass(TemplateError, DeployError)


def test_resource_lines_are_recorded() -> None:
    template = load_template(TEMPLATES / "full.yaml")
    text = (TEMPLATES / "full.yaml").read_text().splitlines()
    line = template.line_of("Resources", "GameFunction")
    assert line is not None and text[line - 1].strip() == "GameFunction:"
    assert template.line_of("Outputs", "WebSocketURL") is not None
