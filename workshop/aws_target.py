"""The other target: the learner's own AWS account, through the SAM CLI and CloudFormation.

The same template that the local cloud deploys is built and deployed with ``sam``; the
stack's outputs are then read from CloudFormation, so a notebook gets the same dictionary
of outputs from either target.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .cloud import CloudError

__all__ = ["AwsTargetError", "delete", "deploy", "outputs"]


class AwsTargetError(CloudError):
    """The SAM CLI is missing or failed, or the stack cannot be read; the message says why."""


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
           parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``sam build`` and ``sam deploy`` the template; return the stack's outputs."""
    _require_sam()
    build_dir = Path(template).resolve().parent / ".aws-sam" / "build"
    _run(["sam", "build", "--template-file", str(template), "--build-dir", str(build_dir)])
    command = ["sam", "deploy", "--template-file", str(build_dir / "template.yaml"),
               "--stack-name", stack_name, "--resolve-s3", "--capabilities",
               "CAPABILITY_IAM", "--no-confirm-changeset", "--no-fail-on-empty-changeset"]
    if parameters:
        command += ["--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items())]
    _run(command)
    return {"stack_name": stack_name, "outputs": outputs(stack_name)}


def delete(stack_name: str) -> None:
    """``sam delete`` the stack, and the code artifacts ``sam deploy`` uploaded for it."""
    _require_sam()
    _run(["sam", "delete", "--stack-name", stack_name, "--no-prompts"])


def outputs(stack_name: str) -> dict[str, str]:
    """The stack's outputs, as CloudFormation reports them."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as error:
        raise AwsTargetError(f"cannot read stack {stack_name}: {error}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
