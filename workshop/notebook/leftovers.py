"""Everything the workshop may have left behind, found and removed with plain boto3.

The same calls work on both targets (the local cloud serves the CloudFormation, S3,
CloudWatch Logs and Step Functions APIs), so what notebook 99 shows locally is what it
shows in an AWS account: the workshop's stacks, the SAM CLI's own stack and its artifact
bucket (with every stored version), the website bucket, the functions' log groups, the
layer versions ``sam sync`` published for the functions' dependencies, and any state
machine execution still running. Only this learner's resources are listed:
with ``WORKSHOP_LEARNER`` set, another learner's stacks in a shared account are not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
from botocore.exceptions import ClientError

from .. import stack_reader, website
from ..emulator.template import load_template
from ..lab import TEMPLATE
from . import cleanup, target

__all__ = ["COLUMNS", "SAM_BUCKET_PREFIX", "SAM_LAB_STACKS", "SAM_MANAGED_STACK", "STACKS",
           "delete_layer_versions", "delete_log_groups", "delete_sam_lab_stacks",
           "delete_sam_managed_stack", "dependency_layer_prefix", "empty_bucket", "find",
           "template_layer_names",
           "stack_names", "stop_executions"]

# The stacks the labs deploy, by the name the notebooks use.
STACKS = ("workshop", "stepfunctions-primer")
# Lab 1's SAM CLI project, deployed and deleted with `sam` under this very name.
SAM_LAB_STACKS = ("hello-sam",)
# `sam deploy --resolve-s3` makes this stack once per account and region, for every SAM
# project there: its bucket holds the code packages each deploy uploads.
SAM_MANAGED_STACK = "aws-sam-cli-managed-default"
SAM_BUCKET_PREFIX = "aws-sam-cli-managed-default-samclisourcebucket-"
COLUMNS = ["kind", "name", "state", "removed by"]
_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


def _account_name(name: str) -> str:
    """The stack's name where it is deployed (a learner's suffix, on AWS)."""
    return stack_reader.deployed_name(name, target=target.chosen())


def stack_names(stacks: Sequence[str] = STACKS) -> list[str]:
    """This learner's workshop stacks: the game's, its website's, the primer's, and lab 1's
    SAM CLI project."""
    names = [*stacks, website.site_stack_name(stacks[0])]
    return [_account_name(name) for name in [*names, *SAM_LAB_STACKS]]


def _describe(stack: str) -> dict[str, Any] | None:
    return stack_reader.describe(stack, cloudformation=boto3.client("cloudformation"))


def _stacks(names: Iterable[str]) -> Iterator[dict[str, Any]]:
    for name in [*names, SAM_MANAGED_STACK]:
        stack = _describe(name)
        if stack is not None:
            removed_by = ("optional: section 5 (shared by every SAM project here)"
                          if name == SAM_MANAGED_STACK else "section 3")
            yield _row("stack", name, stack["StackStatus"], removed_by)


def _running_executions(stacks: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Executions still running on the stacks' state machines (a game mid-question)."""
    cloudformation, sfn = boto3.client("cloudformation"), boto3.client("stepfunctions")
    for stack in stacks:
        if _describe(stack) is None:
            continue
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
        machines = [r["PhysicalResourceId"] for page in pages
                    for r in page["StackResourceSummaries"]
                    if r["ResourceType"] == _STATE_MACHINE and r.get("PhysicalResourceId")]
        for machine in machines:
            listing = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine, statusFilter="RUNNING")
            for page in listing:
                for execution in page["executions"]:
                    yield _row("running execution", execution["executionArn"], "RUNNING",
                               "section 2")


def _bucket_contents(bucket: str) -> str:
    """How many stored versions (and delete markers) a bucket holds, and their size."""
    versions = markers = size = 0
    pages = boto3.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        versions += len(page.get("Versions", []))
        size += sum(v.get("Size", 0) for v in page.get("Versions", []))
        markers += len(page.get("DeleteMarkers", []))
    extra = f", {markers} delete markers" if markers else ""
    return f"{versions} object versions, {size / 1024:.0f} KiB{extra}"


def _buckets(stacks: Sequence[str]) -> Iterator[dict[str, Any]]:
    # CloudFormation names the website's bucket {stack}-{logical id}-{suffix}, lowercased.
    site = f"{_account_name(website.site_stack_name(stacks[0]))}-sitebucket-"
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if name.startswith(SAM_BUCKET_PREFIX):
            # ListBuckets lists every region's; the SAM CLI makes one bucket per region.
            region = s3.get_bucket_location(Bucket=name).get("LocationConstraint") \
                or "us-east-1"
            here = region == boto3.session.Session().region_name
            yield _row("bucket", name, _bucket_contents(name),
                       "optional: section 5, with the SAM CLI's stack" if here else
                       f"optional: section 5, run in {region}")
        elif name.startswith(site):
            yield _row("bucket", name, _bucket_contents(name), "section 3, with the website")


def _log_groups(stacks: Sequence[str]) -> Iterator[dict[str, Any]]:
    logs = boto3.client("logs")
    for stack in [_account_name(name) for name in [*stacks, *SAM_LAB_STACKS]]:
        prefix = f"/aws/lambda/{stack}-"
        for page in logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=prefix):
            for group in page["logGroups"]:
                yield _row("log group", group["logGroupName"],
                           f"{group.get('storedBytes', 0)} bytes stored", "section 4")


def dependency_layer_prefix(stack: str) -> str:
    """How the SAM CLI's dependency layers of ``stack`` are named: ``sam sync`` puts each
    function's requirements in a layer ``<stack[:16]><md5(stack)[:8]>-<function…>-DepLayer``
    (samcli/lib/bootstrap/nested_stack/nested_stack_builder.py)."""
    digest = hashlib.md5(stack.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{stack[:16]}{digest[:8]}-"


def template_layer_names(*, template: Path = TEMPLATE) -> list[str]:
    """The template's layers named by their logical id (SAM's default ``LayerName``), such
    as ``SharedCodeLayer``: the names `sam sync --code` publishes new versions under."""
    resources = load_template(template).body.get("Resources") or {}
    return sorted(name for name, spec in resources.items()
                  if spec.get("Type") in _LAYER_TYPES
                  and not (spec.get("Properties") or {}).get("LayerName"))


def _in_use(stacks: Sequence[str]) -> set[str]:
    """Layer versions a live stack of these owns, or any function here runs with: kept
    (in an account shared by learners, another learner's functions may use them)."""
    cloudformation, lambda_ = boto3.client("cloudformation"), boto3.client("lambda")
    used = {layer["Arn"] for page in lambda_.get_paginator("list_functions").paginate()
            for function in page["Functions"] for layer in function.get("Layers") or []}
    for stack in stacks:
        if _describe(stack) is not None:
            pages = cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack)
            used.update(r.get("PhysicalResourceId", "") for page in pages
                        for r in page["StackResourceSummaries"]
                        if r["ResourceType"] == "AWS::Lambda::LayerVersion")
    return used


def _layer_versions(stacks: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Layer versions `sam sync --code` published through the Lambda API (a template's
    layer, or a stack's dependency layer): no stack owns them, so they outlive
    `sam delete`, on AWS as here."""
    lambda_ = boto3.client("lambda")
    prefixes = tuple(dependency_layer_prefix(stack) for stack in stacks)
    templates = set(template_layer_names())
    names = [layer["LayerName"] for page in lambda_.get_paginator("list_layers").paginate()
             for layer in page["Layers"] if layer["LayerName"] in templates or
             (layer["LayerName"].startswith(prefixes) and
              layer["LayerName"].endswith("-DepLayer"))]
    kept = _in_use(stacks) if names else set()
    for name in names:
        for page in lambda_.get_paginator("list_layer_versions").paginate(LayerName=name):
            for version in page["LayerVersions"]:
                if version["LayerVersionArn"] not in kept:
                    yield _row("layer version", version["LayerVersionArn"],
                               f"published {version.get('CreatedDate', '')[:19]}",
                               "section 4")


def _row(kind: str, name: str, state: str, removed_by: str) -> dict[str, Any]:
    return {"kind": kind, "name": name, "state": state, "removed by": removed_by}


def find(*, stacks: Sequence[str] = STACKS) -> pd.DataFrame:
    """One table of everything left: stacks, running executions, buckets, log groups,
    layer versions no stack owns.

    ``stacks`` are the names the notebooks deploy under (the game's first).
    """
    names = stack_names(stacks)
    rows = [*_stacks(names), *_running_executions(names), *_buckets(stacks),
            *_log_groups(stacks), *_layer_versions(names)]
    return pd.DataFrame(rows, columns=COLUMNS)


def stop_executions(leftovers: pd.DataFrame) -> int:
    """Stop the running executions listed: a state machine is deleted only once none runs."""
    sfn = boto3.client("stepfunctions")
    arns = leftovers.loc[leftovers["kind"] == "running execution", "name"]
    for arn in arns:
        try:
            sfn.stop_execution(executionArn=arn, error="WorkshopCleanup",
                               cause="stopped by notebook 99 before deleting its stack")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise
    return len(arns)


def delete_log_groups(leftovers: pd.DataFrame) -> int:
    """Delete the log groups listed; returns how many were deleted."""
    return cleanup.delete_log_groups(leftovers.loc[leftovers["kind"] == "log group", "name"])


def delete_layer_versions(leftovers: pd.DataFrame) -> int:
    """Delete the layer versions listed (DeleteLayerVersion); returns how many."""
    lambda_ = boto3.client("lambda")
    arns = list(leftovers.loc[leftovers["kind"] == "layer version", "name"])
    for arn in arns:   # arn:…:layer:<name>:<version>; a deleted one is no error
        layer, version = arn.rsplit(":", 1)
        lambda_.delete_layer_version(LayerName=layer, VersionNumber=int(version))
    return len(arns)


def empty_bucket(bucket: str) -> int:
    """Delete every object version and delete marker, so the bucket itself can go."""
    s3 = boto3.client("s3")
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]]
        if keys:  # at most 1,000 a page, as DeleteObjects takes
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted


def _delete_stack(name: str) -> None:
    """CloudFormation's DeleteStack, then wait until it is done (or say why it failed)."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 150})


def delete_sam_lab_stacks() -> list[str]:
    """Delete lab 1's SAM CLI project stack if it is still there; a line per stack."""
    lines = []
    for name in map(_account_name, SAM_LAB_STACKS):
        if _describe(name) is None:
            lines.append(f"stack {name} is not deployed: nothing to delete")
            continue
        _delete_stack(name)
        lines.append(f"stack {name} deleted")
    return lines


def delete_sam_managed_stack() -> str:
    """Empty the SAM CLI's bucket and delete its stack; one line says what happened."""
    if _describe(SAM_MANAGED_STACK) is None:
        return f"stack {SAM_MANAGED_STACK} does not exist here: nothing to delete"
    resources = boto3.client("cloudformation").describe_stack_resources(
        StackName=SAM_MANAGED_STACK)["StackResources"]
    buckets = [r["PhysicalResourceId"] for r in resources
               if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")]
    emptied = sum(empty_bucket(bucket) for bucket in buckets)
    _delete_stack(SAM_MANAGED_STACK)
    return (f"stack {SAM_MANAGED_STACK} deleted, with its bucket ({emptied} object versions "
            "removed first)")
