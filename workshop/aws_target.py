"""The other target: the learner's own AWS account, through the SAM CLI and CloudFormation.

The same template that the local cloud deploys is built and deployed with ``sam``; the
stack's outputs are then read from CloudFormation, so a notebook gets the same dictionary
of outputs from either target.

Several learners on one AWS account each set ``WORKSHOP_LEARNER`` (``export
WORKSHOP_LEARNER=ada``): the stack the notebooks call ``workshop`` is then ``workshop-ada``
in the account, and so on for every stack. Every resource of the templates is named after
its stack (``${AWS::StackName}-…``) or by CloudFormation, so nothing else can collide.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .cloud import CloudError

__all__ = ["AwsTargetError", "LEARNER_VARIABLE", "account_stack_name", "delete", "deploy",
           "outputs"]

LEARNER_VARIABLE = "WORKSHOP_LEARNER"
# Short, lowercase, letters, digits and hyphens: the stack name carries it, and generated
# bucket names (63 characters at most, lowercase) start with the stack name.
_LEARNER = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")


class AwsTargetError(CloudError):
    """The SAM CLI is missing or failed, or the stack cannot be read; the message says why."""


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


def _run(command: list[str]) -> None:
    print("$", shlex.join(command), flush=True)
    if subprocess.call(command) != 0:
        raise AwsTargetError(f"`{shlex.join(command[:2])}` failed; see its output above")


def _require_sam() -> None:
    if not shutil.which("sam"):
        raise AwsTargetError(
            "the aws target needs the AWS SAM CLI (`pip install aws-sam-cli`) and credentials "
            "for your account (`aws configure`); then run this again")


def deploy(template: Path, *, stack_name: str,
           parameters: Mapping[str, str] | None = None, build: bool = True) -> dict[str, Any]:
    """``sam build`` and ``sam deploy`` the template; return the stack's outputs.

    ``build=False`` deploys a template with no code to package (the website's) as it is.
    """
    _require_sam()
    deployed = template
    if build:
        build_dir = Path(template).resolve().parent / ".aws-sam" / "build"
        _run(["sam", "build", "--template-file", str(template), "--build-dir", str(build_dir)])
        deployed = build_dir / "template.yaml"
    command = ["sam", "deploy", "--template-file", str(deployed),
               "--stack-name", account_stack_name(stack_name), "--resolve-s3", "--capabilities",
               "CAPABILITY_IAM", "--no-confirm-changeset", "--no-fail-on-empty-changeset"]
    if parameters:
        command += ["--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items())]
    _run(command)
    return {"stack_name": stack_name, "outputs": outputs(stack_name)}


def delete(stack_name: str) -> None:
    """``sam delete`` the stack, and the code artifacts ``sam deploy`` uploaded for it."""
    _require_sam()
    _run(["sam", "delete", "--stack-name", account_stack_name(stack_name), "--no-prompts"])


def outputs(stack_name: str) -> dict[str, str]:
    """The stack's outputs, as CloudFormation reports them."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    name = account_stack_name(stack_name)
    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except (BotoCoreError, ClientError) as error:
        raise AwsTargetError(f"cannot read stack {name}: {error}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
