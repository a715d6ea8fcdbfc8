"""Reading a deployed stack — its outputs and its resources — with plain boto3 CloudFormation.

Two calls, the ones a learner would type, on both targets::

    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
    resources = [r for page in pages for r in page["StackResourceSummaries"]]

The local cloud serves the CloudFormation API (its outputs carry the local ``ws://`` URL),
so the only difference between the targets is the endpoint: the local cloud's, signed
with this installation's keys, or AWS's from the standard settings. On AWS the stack's
name carries the learner's suffix (``WORKSHOP_LEARNER``), as :mod:`.aws_target` deploys it.
"""

from __future__ import annotations

import os
from typing import Any

from . import sam_cli
from .cloud import CloudError, local_client, settings

__all__ = ["StackMissing", "StackReadError", "client", "deployed_name", "describe",
           "outputs", "resources"]

_GONE = "DELETE_COMPLETE"


class StackReadError(CloudError):
    """CloudFormation could not be asked about a stack; the message says what to do."""

    def __init__(self, message: str, *, reason: str = "failed") -> None:
        super().__init__(message)
        self.reason = reason


class StackMissing(StackReadError):
    """No stack by that name is deployed; the message says how to deploy it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="missing")


def _target(target: str | None) -> str:
    if target is not None:
        return target
    from .notebook.target import chosen  # the notebooks' choice (imports pandas: lazily)

    return chosen()


def client(*, target: str | None = None, port: int | None = None) -> Any:
    """``boto3.client("cloudformation")`` for the target: the local cloud's endpoint and
    keys (even in a process whose boto3 points elsewhere), or AWS's standard settings."""
    import boto3

    if _target(target) == "aws":
        # AWS_REGION as the AWS CLI v2 and the SDKs read it (botocore reads only
        # AWS_DEFAULT_REGION); AWS_ENDPOINT_URL, when set, still applies.
        return boto3.Session(region_name=os.environ.get("AWS_REGION") or None).client(
            "cloudformation")
    return local_client("cloudformation", port=port)


def deployed_name(stack_name: str, *, target: str | None = None) -> str:
    """The stack's name where it is deployed: with a learner's suffix on AWS."""
    if _target(target) != "aws":
        return stack_name
    from .aws_target import account_stack_name  # aws_target reads stacks through here

    return account_stack_name(stack_name)


def _how_to_deploy(target: str) -> str:
    return ("`python -m workshop deploy --target aws`" if target == "aws"
            else "`python -m workshop deploy` (or the lab's deploy cell)")


def _unreachable(error: Exception, target: str, port: int | None) -> StackReadError:
    """One line for a CloudFormation that did not answer, with the next step."""
    from botocore.exceptions import EndpointConnectionError

    if target != "aws" and isinstance(error, EndpointConnectionError):
        return StackReadError(f"no local cloud is running on port {settings(port=port).port}: "
                              "start it with `python -m workshop up`", reason="down")
    # No credentials, an expired session, a refused key: said as the SAM CLI path says it.
    known = sam_cli.recognise(f"{type(error).__name__}: {error}")
    if known:
        return StackReadError(known[1], reason=known[0])
    return StackReadError(f"CloudFormation refused: {error}")


def describe(stack_name: str, *, target: str | None = None, port: int | None = None,
             cloudformation: Any = None) -> dict[str, Any] | None:
    """DescribeStacks: the live stack, or None when there is none by that name.

    Errors other than a missing stack are raised as botocore raises them, for the
    caller to explain (:mod:`.aws_target` says what an expired session means).
    """
    from botocore.exceptions import ClientError

    target = _target(target)
    cloudformation = cloudformation or client(target=target, port=port)
    try:
        found = cloudformation.describe_stacks(
            StackName=deployed_name(stack_name, target=target))["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise
    live = [stack for stack in found if stack["StackStatus"] != _GONE]
    return live[0] if live else None


def _existing(stack_name: str, target: str, port: int | None) -> tuple[Any, dict[str, Any]]:
    """The client and the stack; a missing stack or an unreachable cloud in one line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cloudformation = client(target=target, port=port)
        stack = describe(stack_name, target=target, cloudformation=cloudformation)
    except (BotoCoreError, ClientError) as error:
        raise _unreachable(error, target, port) from None
    if stack is None:
        name = deployed_name(stack_name, target=target)
        where = f" in {cloudformation.meta.region_name}" if target == "aws" else ""
        raise StackMissing(f"stack {name} does not exist{where}: deploy it with "
                           f"{_how_to_deploy(target)}")
    return cloudformation, stack


def outputs(stack_name: str = "workshop", *, target: str | None = None,
            port: int | None = None) -> dict[str, str]:
    """The stack's Outputs (DescribeStacks) as a dictionary of key → value."""
    _, stack = _existing(stack_name, _target(target), port)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def resources(stack_name: str = "workshop", *, target: str | None = None,
              port: int | None = None) -> list[dict[str, Any]]:
    """The stack's resources (ListStackResources, every page): logical id, type,
    physical id and status, as CloudFormation's StackResourceSummaries."""
    from botocore.exceptions import BotoCoreError, ClientError

    target = _target(target)
    cloudformation, stack = _existing(stack_name, target, port)
    pages = cloudformation.get_paginator("list_stack_resources").paginate(
        StackName=stack["StackId"])
    try:
        return [row for page in pages for row in page["StackResourceSummaries"]]
    except (BotoCoreError, ClientError) as error:
        raise _unreachable(error, target, port) from None
