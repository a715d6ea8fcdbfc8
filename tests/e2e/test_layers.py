"""A SAM layer's python/ folder is importable by the functions that name it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
from zip_packages import zipped

from workshop import cloud as lifecycle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "e2e"


def greet(function: str, name: str) -> str:
    reply = boto3.client("lambda").invoke(FunctionName=function,
                                          Payload=json.dumps({"name": name}))
    assert "FunctionError" not in reply, reply["Payload"].read()
    return json.loads(reply["Payload"].read())


def test_a_function_imports_from_its_layer_and_sees_new_layer_content(cloud: dict,
                                                                     tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "layered.yaml", tmp_path)
    shutil.copytree(FIXTURES / "layered", tmp_path / "layered")
    template = tmp_path / "layered.yaml"
    outputs = lifecycle.deploy(template, stack_name="layers")["outputs"]
    assert greet(outputs["GreeterFunctionName"], "ada") == "hello, ada"

    module = tmp_path / "layered" / "shared" / "python" / "greeting.py"
    module.write_text(module.read_text().replace("hello", "welcome"))
    report = lifecycle.deploy(template, stack_name="layers")
    assert "GreeterFunction" in report["updated"]
    assert greet(outputs["GreeterFunctionName"], "ada") == "welcome, ada"


def test_a_function_reports_its_layer_versions_as_lambda_does(cloud: dict,
                                                              tmp_path: Path) -> None:
    """``sam sync --code`` compares GetFunction's ``Configuration.Layers`` ARNs with the
    template's: without them it says the function "does not have layer …"."""
    shutil.copy(FIXTURES / "layered.yaml", tmp_path)
    shutil.copytree(FIXTURES / "layered", tmp_path / "layered")
    outputs = lifecycle.deploy(tmp_path / "layered.yaml", stack_name="layers-listed")["outputs"]
    client = boto3.client("lambda")
    layers = client.get_function(FunctionName=outputs["GreeterFunctionName"]
                                 )["Configuration"]["Layers"]
    published = client.list_layer_versions(LayerName=layers[0]["Arn"].split(":")[6])
    assert len(layers) == 1
    assert layers[0]["Arn"] in [version["LayerVersionArn"]
                                for version in published["LayerVersions"]]
    assert layers[0]["CodeSize"] > 0



def test_two_stacks_publishing_one_layer_name_get_versions_of_their_own(
        cloud: dict, tmp_path: Path) -> None:
    """Lambda numbers a layer's versions as they are published. Two stacks with the same
    layer name and content (notebook 01's ``hello-sam`` and the game) must not share a
    version: ``sam sync --code`` deleting one stack's version left the other's functions
    naming a layer version that no longer existed (lab 3 failed to deploy)."""
    shutil.copy(FIXTURES / "layered.yaml", tmp_path)
    shutil.copytree(FIXTURES / "layered", tmp_path / "layered")
    template = tmp_path / "layered.yaml"
    template.write_text(template.read_text().replace(
        "Value: !Ref GreeterFunction", "Value: !Ref GreeterFunction\n  Layer:\n"
        "    Value: !Ref SharedLayer"))
    first = lifecycle.deploy(template, stack_name="layer-one")["outputs"]["Layer"]
    second = lifecycle.deploy(template, stack_name="layer-two")["outputs"]["Layer"]
    name, number = first.rsplit(":", 1)
    assert second.rsplit(":", 1)[0] == name and int(second.rsplit(":", 1)[1]) > int(number)

    lambda_client = boto3.client("lambda")
    lambda_client.delete_layer_version(LayerName=name, VersionNumber=int(number))
    assert lambda_client.get_layer_version_by_arn(Arn=second)["LayerVersionArn"] == second
    published = lambda_client.publish_layer_version(
        LayerName=name, Content={"ZipFile": zipped({"python/greeting.py": "X = 1\n"})})
    assert published["Version"] > int(second.rsplit(":", 1)[1])  # never a number given before


def test_the_same_layer_content_from_another_folder_keeps_the_layer(cloud: dict,
                                                                    tmp_path: Path) -> None:
    """A layer version is numbered by its content, so the same content deployed from another
    folder (each lab builds its own copy) replaces the layer with itself: the clean-up
    must not then delete it from under the functions (a regression seen in lab 3)."""
    shutil.copy(FIXTURES / "layered.yaml", tmp_path)
    shutil.copytree(FIXTURES / "layered", tmp_path / "layered")
    template = tmp_path / "layered.yaml"
    outputs = lifecycle.deploy(template, stack_name="layer-moved")["outputs"]
    shutil.copytree(tmp_path / "layered" / "shared", tmp_path / "moved")
    template.write_text(template.read_text().replace("layered/shared/", "moved/"))
    template.write_text(template.read_text().replace("Value: !Ref GreeterFunction",
                                                     "Value: !Ref GreeterFunction\n"
                                                     "  Layer:\n    Value: !Ref SharedLayer"))
    second = lifecycle.deploy(template, stack_name="layer-moved")
    arn = second["outputs"]["Layer"]
    assert greet(outputs["GreeterFunctionName"], "ada") == "hello, ada"
    lambda_client = boto3.client("lambda")
    assert lambda_client.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
