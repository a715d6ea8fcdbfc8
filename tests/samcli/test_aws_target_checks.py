"""What the aws target checks before `sam` runs, each said in one line with the next step.

Credentials are refused by the local cloud itself (its front door answers as AWS does),
so these run without the SAM CLI doing anything: the same calls, only the endpoint differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from workshop import aws_target
from workshop import cloud as local_cloud
from workshop.emulator.credentials import CredentialStore

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DESCRIPTION = "Serverless game backend, labs 1-6: a WebSocket API"


def workshop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)


def one_line_refusal(result: subprocess.CompletedProcess, command: str) -> str:
    """The CLI's refusal: exit 1, one line on stderr, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"workshop {command}: "), result.stderr
    return lines[0]


def expired_session() -> dict[str, str]:
    """A genuine session of this local cloud that expired a minute ago."""
    s = local_cloud.settings()
    store = CredentialStore.load(s.home, account_id=s.account_id, session_seconds=-60)
    return store.issue_role_session(f"arn:aws:iam::{s.account_id}:role/learner",
                                    session_name="ada")


def test_an_expired_session_is_said_in_one_line(cloud: dict, sam: Path) -> None:
    line = one_line_refusal(workshop("deploy", "--target", "aws",
                                     env={**os.environ, **expired_session()}), "deploy")
    assert line == ("workshop deploy: your AWS session has expired: sign in again (`aws sso "
                    "login`, or fresh keys from your administrator), then run this again")


def test_no_credentials_at_all_is_said_in_one_line(cloud: dict, sam: Path,
                                                  tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_PROFILE")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    line = one_line_refusal(workshop("delete", "--target", "aws", env=env), "delete")
    assert "no AWS credentials were found: run `aws configure`" in line


def test_keys_the_cloud_never_issued_are_refused_in_one_line(cloud: dict, sam: Path) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
           "AWS_SECRET_ACCESS_KEY": "x" * 40}
    line = one_line_refusal(workshop("deploy", "--target", "aws", env=env), "deploy")
    assert "AWS refused these credentials" in line


def _region_lacking_a_service() -> tuple[str, str]:
    """A region, from the installed botocore's own data, without a service template.yaml
    uses, and what the refusal must name (the data changes with botocore releases: in
    1.44.8 us-isof-east-1 had no API Gateway V2, in 1.44.18 it has)."""
    import boto3

    from workshop.emulator.template import load_template

    types = [spec.get("Type", "") for spec in
             load_template(TEMPLATE).body["Resources"].values()]
    services = aws_target.services_of(types)
    session = boto3.Session()
    for partition in session.get_available_partitions():
        for region in session.get_available_regions("cloudformation", partition):
            missing = [label for service, label in services
                       if region not in session.get_available_regions(service, partition)]
            if missing:
                verb, pronoun = ("is", "it") if len(missing) == 1 else ("are", "them")
                return region, (f"{' and '.join(missing)} {verb} not offered in {region}, and "
                                f"the template needs {pronoun}: choose a region that has every "
                                "service (for example us-east-1) with --region or AWS_REGION")
    raise AssertionError("botocore lists no region without one of the template's services: "
                         "choose another way to test this refusal")


@pytest.mark.parametrize("case", ["lacking", "unknown"])
def test_a_region_without_a_service_the_template_uses_is_refused(sam: Path, case: str) -> None:
    if case == "lacking":
        region, said = _region_lacking_a_service()
    else:
        region, said = "us-east-7", ("'us-east-7' is not an AWS region (botocore knows no "
                                     "region by that name): check AWS_REGION or --region, for "
                                     "example us-east-1")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    line = one_line_refusal(workshop("deploy", "--target", "aws", "--region", region,
                                     env=env), "deploy")
    assert line == f"workshop deploy: {said}"


def test_the_services_a_deploy_needs_come_from_the_template() -> None:
    assert aws_target.services_of(["AWS::Serverless::Function", "AWS::SNS::Topic"]) == [
        ("cloudformation", "CloudFormation"), ("s3", "S3"), ("lambda", "Lambda"),
        ("sns", "SNS")]


def test_a_missing_sam_cli_is_said_before_anything_else(tmp_path: Path) -> None:
    env = {**os.environ, "WORKSHOP_SAM": str(tmp_path / "sam")}
    line = one_line_refusal(workshop("deploy", "--target", "aws", env=env), "deploy")
    assert "is not an executable `sam`" in line and "`make sam`" in line


def stack(status: str = "CREATE_COMPLETE", **fields: Any) -> dict[str, Any]:
    return {"StackName": "workshop", "StackStatus": status, **fields}


def check(found: dict[str, Any] | None) -> None:
    aws_target.check_deployable(found, name="workshop", template=TEMPLATE,
                                description=DESCRIPTION + "  ...\n")


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"])
def test_a_stack_that_cannot_be_updated_says_delete_it(status: str) -> None:
    with pytest.raises(aws_target.AwsTargetError) as refused:
        check(stack(status, Description=DESCRIPTION))
    assert str(refused.value) == (
        f"stack workshop is in {status}, so CloudFormation will not update it: delete it "
        "with `python -m workshop delete --target aws` (or `sam delete --stack-name "
        "workshop`), then deploy again")


def test_a_busy_stack_says_wait() -> None:
    with pytest.raises(aws_target.AwsTargetError, match=r"busy \(UPDATE_IN_PROGRESS\): wait"):
        check(stack("UPDATE_IN_PROGRESS"))


@pytest.mark.parametrize("found", [
    None, stack("REVIEW_IN_PROGRESS"),
    stack(Tags=[{"Key": aws_target.TEMPLATE_TAG, "Value": "template.yaml"}],
          Description="an older description of it"),
    stack(Description=DESCRIPTION + " ...")])
def test_this_templates_own_stack_or_none_may_be_deployed(found: dict | None) -> None:
    check(found)


@pytest.mark.parametrize(("found", "said"), [
    (stack(Tags=[{"Key": aws_target.TEMPLATE_TAG, "Value": "website.yaml"}]),
     "it was made from website.yaml, not template.yaml"),
    (stack(Description="My team's billing pipeline"),
     "it is described as \"My team's billing pipeline\", not template.yaml"),
    (stack(), "it has no description, not template.yaml")])
def test_a_stack_name_taken_by_another_template_is_refused(found: dict, said: str) -> None:
    with pytest.raises(aws_target.AwsTargetError) as refused:
        check(found)
    assert refused.value.reason == "taken"
    assert str(refused.value) == (
        f"stack name workshop is already taken by another template ({said}): choose another "
        "name with --stack-name or WORKSHOP_LEARNER, or delete that stack if it is yours "
        "and unused")


def test_room_on_the_aws_target_takes_the_account_flags(cloud: dict) -> None:
    """`room --target aws` reads the stack from the account that --region/--profile name,
    as deploy and delete do (it used to refuse them as unrecognized arguments)."""
    env = {**os.environ, "AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3"}
    line = one_line_refusal(workshop("room", "--target", "aws", "--stack-name", "no-such-game",
                                     "--region", os.environ["AWS_REGION"], env=env), "room")
    assert line == (f"workshop room: stack no-such-game does not exist in "
                    f"{os.environ['AWS_REGION']}: deploy it with `python -m workshop deploy "
                    "--target aws`")
