"""Cleaning up: the stack goes, and so do the log groups its functions leave behind."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import websocket

from workshop import cloud as lifecycle
from workshop.notebook import cleanup

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"


def test_deleting_the_stack_and_its_log_groups_leaves_nothing(cloud: dict) -> None:
    outputs = lifecycle.deploy(ECHO, stack_name="tidy")["outputs"]
    ws = websocket.create_connection(outputs["WebSocketURL"], timeout=10)
    ws.send(json.dumps({"action": "echo", "data": 1}))  # so the function writes logs
    ws.recv()
    ws.close()
    functions = cleanup.function_names("tidy")
    assert len(functions) == 1 and functions[0].startswith("tidy-EchoFunction-")

    assert cleanup.delete_stack("tidy").startswith("stack tidy deleted: ")
    assert not cleanup.stack_exists("tidy")
    assert cleanup.function_names("tidy") == []
    # The stack is gone; its function's log group is not, as on AWS.
    groups = cleanup.log_groups(functions)
    assert groups == [f"/aws/lambda/{functions[0]}"]
    assert cleanup.delete_log_groups([*groups, *groups]) == 1
    assert cleanup.log_groups(functions) == []
    remaining = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/tidy")
    assert remaining["logGroups"] == []


def test_deleting_a_stack_that_is_not_there_says_so(cloud: dict) -> None:
    assert cleanup.delete_stack("never-deployed") == (
        "stack never-deployed is not deployed: nothing to delete")


def test_deleting_a_game_stack_takes_its_website_and_pages_too(cloud: dict) -> None:
    from workshop import website

    outputs = lifecycle.deploy(ECHO, stack_name="paged")["outputs"]
    site = website.publish(stack_name="paged", target="local", game_outputs=outputs)
    resources = len(lifecycle.stack(stack_name="paged")["resources"])
    assert cleanup.delete_stack("paged") == (
        f"stack paged deleted: {resources} resources (and paged-website, the website with "
        "its pages)")
    assert not cleanup.stack_exists("paged-website")
    assert site["SiteBucketName"] not in {
        b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
