"""The other target: the learner's own AWS account, through the SAM CLI and CloudFormation.

The same template that the local cloud deploys is built and deployed with ``sam build``
and ``sam deploy`` (:mod:`.sam_cli`); the stack's outputs are then read with plain boto3
CloudFormation, so a notebook gets the same dictionary of outputs from either target.
Region and profile come from the standard settings (``AWS_REGION`` / ``AWS_DEFAULT_REGION``,
``AWS_PROFILE``, ``~/.aws/config``) or from ``--region`` / ``--profile``
(:func:`use_account`). With ``AWS_ENDPOINT_URL`` set (``python -m workshop env``) the very
same calls reach the local cloud instead: that is how the tests prove this path.

Before ``sam`` runs, what a learner can get wrong is checked and said in one line with the
next step: credentials (none, refused, expired), a region that lacks a service the template
uses, a stack that cannot be updated (rolled back, busy) and a stack name already taken by
another template. A stack is this template's when it carries the tag
``workshop:template=<template file name>`` (``workshop deploy --target aws`` adds it) or,
made without it (a plain ``sam deploy``), when its description is the template's.

Several learners on one AWS account each set ``WORKSHOP_LEARNER`` (``export
WORKSHOP_LEARNER=ada``): the stack the notebooks call ``workshop`` is then ``workshop-ada``
in the account, and so on for every stack. Every resource of the templates is named after
its stack (``${AWS::StackName}-…``) or by CloudFormation, so nothing else can collide.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import sam_cli, stack_reader
from .cloud import CloudError

__all__ = ["AwsTargetError", "CAPABILITIES", "LEARNER_VARIABLE", "TEMPLATE_TAG",
           "account_stack_name", "check_deployable", "check_region", "delete", "deploy",
           "describe_stack", "outputs", "region", "services_of", "use_account"]

LEARNER_VARIABLE = "WORKSHOP_LEARNER"
TEMPLATE_TAG = "workshop:template"
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
# Short, lowercase, letters, digits and hyphens: the stack name carries it, and generated
# bucket names (63 characters at most, lowercase) start with the stack name.
_LEARNER = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")
# Statuses from which CloudFormation accepts no update: the stack must go first.
_STUCK = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED",
          "IMPORT_ROLLBACK_FAILED"}
# The AWS service behind each kind of resource (botocore's name, and the one learners know).
_SERVICES = (
    (("AWS::Serverless::Function", "AWS::Lambda::", "AWS::Serverless::LayerVersion"),
     "lambda", "Lambda"),
    (("AWS::Serverless::StateMachine", "AWS::StepFunctions::"), "stepfunctions",
     "Step Functions"),
    (("AWS::ApiGatewayV2::", "AWS::Serverless::HttpApi"), "apigatewayv2", "API Gateway"),
    (("AWS::DynamoDB::", "AWS::Serverless::SimpleTable"), "dynamodb", "DynamoDB"),
    (("AWS::SNS::",), "sns", "SNS"),
    (("AWS::SQS::",), "sqs", "SQS"),
    (("AWS::Logs::",), "logs", "CloudWatch Logs"),
)
# Every deploy needs these two: the stack, and the bucket `sam deploy` uploads code to.
_ALWAYS = (("cloudformation", "CloudFormation"), ("s3", "S3"))


class AwsTargetError(CloudError):
    """The SAM CLI is missing or failed, or the stack cannot be read or deployed; the
    message says why and what to do."""

    def __init__(self, message: str, *, reason: str = "failed") -> None:
        super().__init__(message)
        self.reason = reason


def account_stack_name(name: str) -> str:
    """The stack's name in the AWS account: ``name``, or ``name-<learner>`` when
    ``WORKSHOP_LEARNER`` is set (learners sharing one account do not collide)."""
    learner = os.environ.get(LEARNER_VARIABLE, "").strip()
    if not learner:
        return name
    if not _LEARNER.match(learner):
        raise AwsTargetError(
            f"{LEARNER_VARIABLE}={learner!r} cannot be part of a stack name: use 1-16 "
            "lowercase letters, digits or hyphens (not first or last), such as ada or team-3")
    suffix = f"-{learner}"
    return name if name.endswith(suffix) else name + suffix


def use_account(*, region: str | None = None, profile: str | None = None) -> None:
    """Make ``--region`` / ``--profile`` the settings of this process (boto3 and ``sam``)."""
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    if profile:
        os.environ["AWS_PROFILE"] = profile


def _session() -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        # AWS_REGION as the AWS CLI v2 and the SDKs read it (botocore reads only
        # AWS_DEFAULT_REGION).
        return boto3.Session(region_name=os.environ.get("AWS_REGION") or None)
    except BotoCoreError as error:
        raise _explained(error) from None


def region() -> str:
    """The region in force; an error with the next step when none is set."""
    from botocore.exceptions import BotoCoreError

    try:
        name = _session().region_name
    except BotoCoreError as error:
        raise _explained(error) from None
    if not name:
        raise AwsTargetError("no AWS region is set: `export AWS_REGION=us-east-1` (or your "
                             "region), `aws configure`, or pass --region", reason="region")
    return name


def _explained(error: Exception, *, stack: str = "the stack") -> AwsTargetError:
    """A botocore error as one line with the next step."""
    known = sam_cli.recognise(f"{type(error).__name__}: {error}", stack=stack)
    if known:
        return AwsTargetError(known[1], reason=known[0])
    return AwsTargetError(f"AWS refused: {error}")


def services_of(resource_types: Iterable[str]) -> list[tuple[str, str]]:
    """The AWS services (botocore name, common name) that a deploy of these resources uses."""
    types = list(resource_types)
    used = [(service, label) for prefixes, service, label in _SERVICES
            if any(t.startswith(prefixes) for t in types)]
    return [*_ALWAYS, *used]


def check_region(name: str, services: Iterable[tuple[str, str]]) -> None:
    """Refuse a region botocore does not know, or one that lacks one of ``services``."""
    import boto3

    session = boto3.Session()
    partition = next((p for p in session.get_available_partitions()
                      if name in session.get_available_regions("cloudformation", p)), None)
    if partition is None:
        raise AwsTargetError(f"{name!r} is not an AWS region (botocore knows no region by that "
                             "name): check AWS_REGION or --region, for example us-east-1",
                             reason="region")
    missing = [label for service, label in services
               if name not in session.get_available_regions(service, partition)]
    if missing:
        raise AwsTargetError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                             f"not offered in {name}, and the template needs "
                             f"{'it' if len(missing) == 1 else 'them'}: choose a region that "
                             "has every service (for example us-east-1) with --region or "
                             "AWS_REGION", reason="region")


def describe_stack(name: str) -> dict[str, Any] | None:
    """The stack as CloudFormation describes it, or None if there is none by that name."""
    from botocore.exceptions import BotoCoreError, ClientError

    region()   # no region set: said first, with the next step
    try:
        return stack_reader.describe(name, target="aws")
    except (BotoCoreError, ClientError) as error:
        raise _explained(error, stack=name) from None


def _template(path: Path) -> dict[str, Any]:
    from .emulator.template import load_template

    return load_template(path).body


def _words(text: Any) -> str:
    return " ".join(str(text or "").split())


def check_deployable(stack: dict[str, Any] | None, *, name: str, template: Path,
                      description: str) -> None:
    """Refuse a stack CloudFormation will not update, or one made from another template."""
    if stack is None or stack.get("StackStatus") == "REVIEW_IN_PROGRESS":
        return
    status = stack["StackStatus"]
    if status in _STUCK:
        raise AwsTargetError(
            f"stack {name} is in {status}, so CloudFormation will not update it: delete it "
            f"with `python -m workshop delete --target aws` (or `sam delete --stack-name "
            f"{name}`), then deploy again", reason="rollback")
    if status.endswith("_IN_PROGRESS"):
        raise AwsTargetError(f"stack {name} is busy ({status}): wait until it finishes "
                             "(`aws cloudformation describe-stacks --stack-name "
                             f"{name}`), then run this again", reason="busy")
    tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags") or []}
    if tags.get(TEMPLATE_TAG) == template.name:
        return
    if TEMPLATE_TAG not in tags and _words(stack.get("Description")) == _words(description):
        return
    made_from = (f"was made from {tags[TEMPLATE_TAG]}" if TEMPLATE_TAG in tags else
                 f"is described as {_words(stack.get('Description'))[:60]!r}"
                 if stack.get("Description") else "has no description")
    raise AwsTargetError(
        f"stack name {name} is already taken by another template (it {made_from}, not "
        f"{template.name}): choose another name with --stack-name or {LEARNER_VARIABLE}, "
        "or delete that stack if it is yours and unused", reason="taken")


def deploy(template: Path, *, stack_name: str, parameters: Mapping[str, str] | None = None,
           build: bool = True) -> dict[str, Any]:
    """``sam build`` and ``sam deploy`` the template; return the stack's outputs.

    ``build=False`` deploys a template with no code to package (the website's) as it is.
    The result has the local deploy report's shape (``created``, ``updated``, ``deleted``,
    ``unchanged`` logical ids, ``seconds``, ``outputs``), read from CloudFormation's events,
    and says whether anything ``changed`` ("No changes to deploy" is a success).
    """
    started = time.perf_counter()
    sam_cli.find()   # a missing SAM CLI is said first, before any call to AWS
    template = Path(template)
    name = account_stack_name(stack_name)
    body = _template(template)
    where = region()
    check_region(where, services_of(spec.get("Type", "") for spec in
                                    (body.get("Resources") or {}).values()))
    check_deployable(describe_stack(name), name=name, template=template,
                      description=body.get("Description", ""))
    account = ["--region", where]
    deployed = template
    if build:
        build_dir = template.resolve().parent / ".aws-sam" / "build"
        sam_cli.run(["build", "--template-file", str(template), "--build-dir", str(build_dir),
                     *account])
        deployed = build_dir / "template.yaml"
    command = ["deploy", "--template-file", str(deployed), "--stack-name", name,
               "--resolve-s3", "--capabilities", *CAPABILITIES, "--no-confirm-changeset",
               "--no-fail-on-empty-changeset", "--no-progressbar",
               "--tags", f"{TEMPLATE_TAG}={template.name}", *account]
    if parameters:
        command += ["--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items())]
    changed = "No changes to deploy" not in sam_cli.run(command).output
    return {"stack_name": stack_name, "account_stack_name": name, "region": where,
            "changed": changed, **_changes(name, changed=changed), "warnings": [],
            "seconds": time.perf_counter() - started, "outputs": outputs(stack_name)}


_VERBS = {"CREATE_COMPLETE": "created", "UPDATE_COMPLETE": "updated",
          "DELETE_COMPLETE": "deleted"}


def _changes(name: str, *, changed: bool) -> dict[str, list[str]]:
    """The resources the last deploy created, updated and deleted, and the others."""
    found = (_touched(_session().client("cloudformation", region_name=region()), name)
             if changed else {verb: [] for verb in _VERBS.values()})
    current = [r["LogicalResourceId"] for r in stack_reader.resources(name, target="aws")]
    touched = set(found["created"]) | set(found["updated"])
    return {**found, "unchanged": [logical for logical in current if logical not in touched]}


def _touched(client: Any, name: str) -> dict[str, list[str]]:
    """From the stack's events, newest first, back to the one that started the operation."""
    found: dict[str, list[str]] = {verb: [] for verb in _VERBS.values()}
    pages = client.get_paginator("describe_stack_events").paginate(StackName=name)
    for event in (event for page in pages for event in page["StackEvents"]):
        if event["ResourceType"] == "AWS::CloudFormation::Stack" and \
                event["LogicalResourceId"] == name:
            if event["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
                break
            continue
        verb = _VERBS.get(event["ResourceStatus"])
        if verb and event["LogicalResourceId"] not in found[verb]:
            found[verb].insert(0, event["LogicalResourceId"])
    return found


def delete(stack_name: str) -> bool:
    """``sam delete`` the stack and the code ``sam deploy`` uploaded for it; False (and a
    line saying so) when there is no such stack."""
    sam_cli.find()
    name = account_stack_name(stack_name)
    where = region()
    if describe_stack(name) is None:
        print(f"stack {name} does not exist in {where}: nothing to delete")
        return False
    sam_cli.run(["delete", "--stack-name", name, "--no-prompts", "--region", where])
    return True


def outputs(stack_name: str) -> dict[str, str]:
    """The stack's outputs, as CloudFormation reports them (:func:`.stack_reader.outputs`:
    the same read as on the local cloud); a missing stack says how to deploy it."""
    region()
    return stack_reader.outputs(stack_name, target="aws")
