"""CloudFormation's stack record, apart from HTTP: statuses, events, change sets, and what
a template asks for (capabilities, parameters, where a TemplateURL points)."""

from __future__ import annotations

import itertools

import pytest

from workshop.emulator.cloudformation_stacks import CloudFormationError, StackStore
from workshop.emulator.cloudformation_templates import (
    capability_needs,
    missing_capabilities,
    parameter_declarations,
    s3_location,
    stack_parameters,
)
from workshop.errors import WorkshopError


@pytest.fixture
def store() -> StackStore:
    ticks = itertools.count(1000)
    return StackStore(region="us-east-1", account_id="123456789012",
                      clock=lambda: float(next(ticks)))


def stack_statuses(stack) -> list[str]:
    return [e.status for e in stack.events if e.logical_id == stack.name]


def test_a_stack_goes_through_cloudformations_statuses(store: StackStore) -> None:
    stack = store.create("game", status="REVIEW_IN_PROGRESS")
    assert stack.stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/game/")
    for status in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS",
                   "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
                   "DELETE_IN_PROGRESS", "DELETE_COMPLETE"):
        store.set_status(stack, status)
    assert stack_statuses(stack)[0] == "REVIEW_IN_PROGRESS"
    assert stack_statuses(stack)[-1] == "DELETE_COMPLETE"
    assert stack.updated is not None and stack.deleted is not None
    assert stack.events[0].resource_type == "AWS::CloudFormation::Stack"
    assert stack.events[0].physical_id == stack.stack_id


def test_a_status_cloudformation_never_reaches_is_refused(store: StackStore) -> None:
    stack = store.create("game", status="CREATE_IN_PROGRESS")
    with pytest.raises(CloudFormationError, match="can not go to UPDATE_COMPLETE"):
        store.set_status(stack, "UPDATE_COMPLETE")
    assert stack.status == "CREATE_IN_PROGRESS"


def test_after_a_rolled_back_create_only_delete_is_allowed(store: StackStore) -> None:
    stack = store.create("game", status="CREATE_IN_PROGRESS")
    store.set_status(stack, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed")
    store.set_status(stack, "ROLLBACK_COMPLETE")
    with pytest.raises(CloudFormationError) as refused:
        store.check_updatable(stack)
    assert str(refused.value) == (f"Stack:{stack.stack_id} is in ROLLBACK_COMPLETE state and "
                                  "can not be updated.")
    assert isinstance(refused.value, WorkshopError) and refused.value.code == "ValidationError"
    store.check_deletable(stack)
    store.set_status(stack, "DELETE_IN_PROGRESS")


def test_a_stack_in_progress_can_be_neither_updated_nor_deleted(store: StackStore) -> None:
    stack = store.create("game", status="CREATE_IN_PROGRESS")
    with pytest.raises(CloudFormationError, match="CREATE_IN_PROGRESS state and can not be "
                                                  "deleted"):
        store.check_deletable(stack)
    with pytest.raises(CloudFormationError, match="can not be updated"):
        store.check_updatable(stack)


def test_deleted_stacks_are_found_by_id_only_and_the_name_is_free_again(store: StackStore
                                                                         ) -> None:
    first = store.create("game", status="CREATE_IN_PROGRESS")
    with pytest.raises(CloudFormationError) as taken:
        store.create("game", status="CREATE_IN_PROGRESS")
    assert (taken.value.code, str(taken.value)) == ("AlreadyExistsException",
                                                    "Stack [game] already exists")
    store.set_status(first, "CREATE_COMPLETE")
    store.set_status(first, "DELETE_IN_PROGRESS")
    store.set_status(first, "DELETE_COMPLETE")
    with pytest.raises(CloudFormationError, match="^Stack with id game does not exist$"):
        store.get("game")
    assert store.get(first.stack_id) is first
    second = store.create("game", status="REVIEW_IN_PROGRESS")
    assert second.stack_id != first.stack_id and store.get("game") is second
    assert store.stacks() == [second]
    assert store.stacks(include_deleted=True) == [first, second]


def test_resource_events_keep_each_resources_latest_status(store: StackStore) -> None:
    stack = store.create("game", status="CREATE_IN_PROGRESS")
    store.resource_event(stack, logical_id="Queue", resource_type="AWS::SQS::Queue",
                         physical_id="", status="CREATE_IN_PROGRESS")
    store.resource_event(stack, logical_id="Queue", resource_type="AWS::SQS::Queue",
                         physical_id="http://q", status="CREATE_COMPLETE")
    assert stack.resource_status["Queue"][0] == "CREATE_COMPLETE"
    store.resource_event(stack, logical_id="Queue", resource_type="AWS::SQS::Queue",
                         physical_id="http://q", status="DELETE_COMPLETE")
    assert "Queue" not in stack.resource_status
    assert [e.timestamp for e in stack.events] == sorted(e.timestamp for e in stack.events)


def test_change_sets_by_name_within_a_stack_or_by_arn(store: StackStore) -> None:
    stack = store.create("game", status="REVIEW_IN_PROGRESS")
    change_set = store.add_change_set(stack, name="first", kind="CREATE", template_body="{}")
    assert change_set.change_set_id.startswith(
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/first/")
    assert store.change_set("first", "game") == (stack, change_set)
    assert store.change_set(change_set.change_set_id) == (stack, change_set)
    with pytest.raises(CloudFormationError) as missing:
        store.change_set("second", "game")
    assert (missing.value.code, missing.value.status) == ("ChangeSetNotFound", 404)
    assert str(missing.value) == "ChangeSet [second] does not exist"
    with pytest.raises(CloudFormationError, match="StackName must be specified"):
        store.change_set("first")
    with pytest.raises(CloudFormationError, match="already exists"):
        store.add_change_set(stack, name="first", kind="CREATE", template_body="{}")
    store.add_change_set(stack, name="other", kind="CREATE", template_body="{}")
    store.executed(stack, change_set)  # all go from the list, as CloudFormation deletes them
    assert stack.change_sets == {}
    assert store.change_set(change_set.change_set_id) == (stack, change_set)
    with pytest.raises(CloudFormationError, match="ChangeSet \\[first\\] does not exist"):
        store.change_set("first", "game")


IAM_ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}


def test_iam_resources_need_capability_iam_and_named_ones_capability_named_iam() -> None:
    needs = capability_needs({"Resources": {"Role": IAM_ROLE}})
    assert needs.capabilities == ["CAPABILITY_IAM"]
    assert needs.reason == "The following resource(s) require capabilities: [AWS::IAM::Role]"
    assert missing_capabilities(needs, []) == ["CAPABILITY_IAM"]
    assert missing_capabilities(needs, ["CAPABILITY_NAMED_IAM"]) == []
    named = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "fixed"}}
    needs = capability_needs({"Resources": {"Role": named}})
    assert missing_capabilities(needs, ["CAPABILITY_IAM"]) == ["CAPABILITY_NAMED_IAM"]
    queue_only = capability_needs({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    assert queue_only.capabilities == [] and queue_only.reason == ""


def test_a_transform_needs_auto_expand_outside_a_change_set() -> None:
    body = {"Transform": "AWS::Serverless-2016-10-31",
            "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    assert capability_needs(body).capabilities == []
    needs = capability_needs(body, transform_needs_expand=True)
    assert needs.capabilities == ["CAPABILITY_AUTO_EXPAND"]
    assert "[AWS::Serverless-2016-10-31]" in needs.reason


def test_parameters_are_declared_and_described_with_defaults_and_no_echo() -> None:
    body = {"Parameters": {"Stage": {"Type": "String", "Default": "dev",
                                     "AllowedValues": ["dev", "prod"]},
                           "Secret": {"Type": "String", "NoEcho": True},
                           "Size": {"Type": "Number"}}}
    declared = parameter_declarations(body)
    assert declared[0] == {"ParameterKey": "Stage", "ParameterType": "String",
                           "NoEcho": False, "Description": "", "DefaultValue": "dev",
                           "ParameterConstraints": {"AllowedValues": ["dev", "prod"]}}
    assert stack_parameters(body, {"Secret": "s3cret", "Size": "3"}) == [
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
        {"ParameterKey": "Secret", "ParameterValue": "****"},
        {"ParameterKey": "Size", "ParameterValue": "3"}]


@pytest.mark.parametrize(("url", "location"), [
    ("http://127.0.0.1:4580/bucket/dir/template.yaml", ("bucket", "dir/template.yaml")),
    ("https://s3.us-east-1.amazonaws.com/bucket/t.yaml", ("bucket", "t.yaml")),
    ("https://s3.amazonaws.com/bucket/t.yaml", ("bucket", "t.yaml")),
    ("https://bucket.s3.us-east-1.amazonaws.com/a%20b.yaml", ("bucket", "a b.yaml")),
    ("https://bucket.s3.amazonaws.com/t.yaml", ("bucket", "t.yaml")),
])
def test_template_urls_name_a_bucket_and_key(url: str, location: tuple[str, str]) -> None:
    assert s3_location(url) == location


@pytest.mark.parametrize("url", ["ftp://host/bucket/key", "http://127.0.0.1:4580/bucket",
                                 "not a url"])
def test_other_template_urls_are_refused_in_cloudformations_words(url: str) -> None:
    with pytest.raises(CloudFormationError, match="^TemplateURL must be a supported URL.$"):
        s3_location(url)
