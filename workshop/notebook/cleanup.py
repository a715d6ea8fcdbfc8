"""Leaving nothing behind: delete the workshop's stacks, then the log groups they leave.

Deleting a CloudFormation stack deletes what the stack created, but not what its
resources created on their own: each Lambda function's ``/aws/lambda/<name>`` log group
outlives it, on AWS as in the local cloud. So the function names are read *before* the
stack goes, and their log groups are deleted after.
"""

from __future__ import annotations

from collections.abc import Iterable

import boto3

from .. import aws_target, cloud, stack_reader, website
from . import tables, target

__all__ = ["delete_log_groups", "delete_stack", "function_names", "log_groups",
           "stack_exists"]


def stack_exists(stack_name: str = "workshop") -> bool:
    """Is the stack deployed on the chosen target?"""
    if target.chosen() == "local" and cloud.status() is None:
        return False   # no local cloud running: nothing is deployed on it
    return stack_reader.describe(stack_reader.deployed_name(stack_name)) is not None


def function_names(stack_name: str = "workshop") -> list[str]:
    """The deployed names of the stack's Lambda functions (none if it is not deployed)."""
    if not stack_exists(stack_name):
        return []
    frame = tables.stack_frame(stack_name)
    return sorted(frame.loc[frame["type"] == "AWS::Lambda::Function", "physical_id"])


def delete_stack(stack_name: str = "workshop") -> str:
    """Delete the stack on the chosen target, and the website that hosts its pages (its
    bucket emptied first, as a bucket with objects cannot be deleted); one line says what
    happened."""
    pages = website.delete(stack_name=stack_name, target=target.chosen())
    also = (f" (and {website.site_stack_name(stack_name)}, the website with its pages)"
            if pages else "")
    if not stack_exists(stack_name):
        return f"stack {stack_name} is not deployed: nothing to delete{also}"
    if target.chosen() == "local":
        report = cloud.delete(stack_name=stack_name)
        return f"stack {stack_name} deleted: {len(report['deleted'])} resources{also}"
    aws_target.delete(stack_name)
    return f"stack {stack_name} deleted{also}"


def log_groups(functions: Iterable[str]) -> list[str]:
    """The log groups that still exist for these functions."""
    logs = boto3.client("logs")
    found = []
    for name in functions:
        group = f"/aws/lambda/{name}"
        pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=group)
        found += [g["logGroupName"] for page in pages for g in page["logGroups"]
                  if g["logGroupName"] == group]
    return found


def delete_log_groups(groups: Iterable[str]) -> int:
    """Delete these log groups; returns how many were deleted."""
    logs = boto3.client("logs")
    deleted = 0
    for group in groups:
        try:
            logs.delete_log_group(logGroupName=group)
            deleted += 1
        except logs.exceptions.ResourceNotFoundException:
            pass  # already gone: that is what we wanted
    return deleted
