"""Intrinsic functions, parameters and conditions, resolved against stand-in resources."""

from __future__ import annotations

from typing import Any

import pytest

from workshop.emulator.intrinsics import (
    NO_VALUE,
    Resolver,
    pseudo_parameters,
    references,
    resolve_parameters,
)
from workshop.emulator.template import TemplateError

RESOURCES = {
    "Table": {"Ref": "game-Table-ABC", "Arn": "arn:aws:dynamodb:us-east-1:123:table/t"},
    "Api": {"Ref": "abc123defg", "ApiEndpoint": "wss://abc123defg.execute-api.x"},
}


def resolver(*, parameters: dict[str, Any] | None = None, conditions: dict | None = None,
             mappings: dict | None = None, imports: dict | None = None) -> Resolver:
    values = pseudo_parameters(region="eu-west-1", account_id="123456789012",
                               stack_name="game")
    values.update(parameters or {})
    return Resolver(parameters=values, resources=frozenset(RESOURCES),
                    ref=lambda name: RESOURCES[name]["Ref"],
                    get_att=lambda name, attribute: RESOURCES[name][attribute],
                    region="eu-west-1", mappings=mappings, conditions=conditions,
                    imports=imports)


def resolve(value: Any, **kwargs: Any) -> Any:
    return resolver(**kwargs).resolve(value, where="Thing")


def test_ref_to_parameters_pseudo_parameters_and_resources() -> None:
    assert resolve({"Ref": "Stage"}, parameters={"Stage": "dev"}) == "dev"
    assert resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolve({"Ref": "AWS::StackName"}) == "game"
    assert resolve({"Ref": "Table"}) == "game-Table-ABC"


def test_stack_id_is_stable_for_a_stack_name() -> None:
    first = resolve({"Ref": "AWS::StackId"})
    assert first.startswith("arn:aws:cloudformation:eu-west-1:123456789012:stack/game/")
    assert resolve({"Ref": "AWS::StackId"}) == first


def test_unknown_ref_names_the_place_and_the_name() -> None:
    with pytest.raises(TemplateError) as caught:
        resolve({"Ref": "Tabel"})
    assert caught.value.resource == "Thing"
    assert "Ref to 'Tabel'" in str(caught.value)


def test_getatt_both_forms_and_unknown_resource() -> None:
    assert resolve({"Fn::GetAtt": ["Table", "Arn"]}).endswith(":table/t")
    assert resolve({"Fn::GetAtt": "Api.ApiEndpoint"}).startswith("wss://")
    with pytest.raises(TemplateError, match=r"Fn::GetAtt to Queue\.Arn.*no resource 'Queue'"):
        resolve({"Fn::GetAtt": ["Queue", "Arn"]})


def test_sub_string_list_getatt_and_literal_forms() -> None:
    assert resolve({"Fn::Sub": "wss://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}) \
        == "wss://abc123defg.execute-api.eu-west-1.amazonaws.com"
    assert resolve({"Fn::Sub": "${Table.Arn}/index/*"}).endswith(":table/t/index/*")
    assert resolve({"Fn::Sub": ["${Name}-${Count}", {"Name": {"Ref": "Table"}, "Count": 3}]}) \
        == "game-Table-ABC-3"
    assert resolve({"Fn::Sub": "${!NotAVariable} stays"}) == "${NotAVariable} stays"
    with pytest.raises(TemplateError, match="Ref to 'Missing'"):
        resolve({"Fn::Sub": "${Missing}"})


def test_join_select_split_base64_getazs() -> None:
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "AWS::NoValue"}, 2]]}) == "a-2"
    assert resolve({"Fn::Join": [",", {"Fn::Split": ["|", "x|y"]}]}) == "x,y"
    assert resolve({"Fn::Select": ["1", ["a", "b"]]}) == "b"
    assert resolve({"Fn::Base64": "hello"}) == "aGVsbG8="
    assert resolve({"Fn::GetAZs": ""}) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    with pytest.raises(TemplateError, match="Fn::Select index 5"):
        resolve({"Fn::Select": [5, ["a"]]})


def test_conditions_if_and_no_value() -> None:
    conditions = {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]},
    }
    value = {"Size": {"Fn::If": ["IsProd", 10, {"Ref": "AWS::NoValue"}]},
             "Names": ["a", {"Fn::If": ["Either", "b", "c"]}, {"Ref": "AWS::NoValue"}]}
    assert resolve(value, parameters={"Stage": "dev"}, conditions=conditions) == \
        {"Names": ["a", "b"]}
    assert resolve(value, parameters={"Stage": "prod"}, conditions=conditions) == \
        {"Size": 10, "Names": ["a", "b"]}


def test_condition_errors() -> None:
    loop = {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}}
    with pytest.raises(TemplateError, match="loop: A -> B -> A"):
        resolver(conditions=loop).condition("A", where="Conditions.A")
    with pytest.raises(TemplateError, match="condition 'Nope' is not defined"):
        resolve({"Fn::If": ["Nope", 1, 2]})


def test_find_in_map_and_imports() -> None:
    mappings = {"Sizes": {"dev": {"Memory": 128}}}
    assert resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
                   parameters={"Stage": "dev"}, mappings=mappings) == 128
    with pytest.raises(TemplateError, match=r"Mappings has no Sizes\.prod"):
        resolve({"Fn::FindInMap": ["Sizes", "prod", "Memory"]}, mappings=mappings)
    assert resolve({"Fn::ImportValue": "shared-url"}, imports={"shared-url": "ws://x"}) == "ws://x"
    with pytest.raises(TemplateError, match="no stack in the local cloud exports"):
        resolve({"Fn::ImportValue": "nothing"})


def test_unsupported_functions_say_so() -> None:
    with pytest.raises(TemplateError, match="Fn::Cidr is not supported"):
        resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]})


def test_no_value_at_the_top_is_returned_for_the_caller_to_drop() -> None:
    assert resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_parameters_defaults_given_values_and_types() -> None:
    declared = {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                "Limit": {"Type": "Number", "Default": 5},
                "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
                "Flag": {"Type": "String", "Default": True}}
    assert resolve_parameters(declared, {}) == {"Stage": "dev", "Limit": "5",
                                                "Zones": ["a", "b"], "Flag": "true"}
    assert resolve_parameters(declared, {"Stage": "prod"})["Stage"] == "prod"


@pytest.mark.parametrize(("given", "message"), [
    ({"Stage": "test"}, "'test' is not one of the AllowedValues"),
    ({"Limit": "many"}, "'many' is not a number"),
    ({"Other": "x"}, "Other are not declared"),
])
def test_parameter_values_are_checked(given: dict, message: str) -> None:
    declared = {"Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
                "Limit": {"Type": "Number", "Default": 5}}
    with pytest.raises(TemplateError, match=message):
        resolve_parameters(declared, given)


def test_parameter_without_default_or_value() -> None:
    with pytest.raises(TemplateError, match="no value given and no Default") as caught:
        resolve_parameters({"Token": {"Type": "String"}}, {})
    assert caught.value.resource == "Parameters.Token"


def test_references_finds_every_target_but_sub_variables() -> None:
    value = {"A": {"Ref": "Table"},
             "B": {"Fn::Sub": ["${Api}/${Local}/${Table.Arn}/${!Lit}", {"Local": "x"}]},
             "C": [{"Fn::GetAtt": "Queue.Arn"}, {"Fn::If": ["C", {"Ref": "P"}, "z"]}]}
    assert references(value) == {("Table", None), ("Api", None), ("Table", "Arn"),
                                 ("Queue", "Arn"), ("P", None)}
