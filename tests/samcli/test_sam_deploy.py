"""The real SAM CLI against the local cloud: `sam build && sam deploy` of template.yaml, the
game played through the stack it made, `sam sync --code`, `sam delete`, and the aws target
(`workshop deploy/delete --target aws`) end to end. Only the endpoint differs from AWS.

One private cloud and one `sam build` of the whole template serve the module; the tests run
in file order (deploy, play, read, redeploy, sync, delete).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import WaiterError

from tests.conftest import TEST_TIME_SCALE
from workshop import aws_target, demo, sam_cli
from workshop import cloud as local_cloud

ROOT = Path(__file__).resolve().parents[2]
STACK = "samgame"
DEPLOY = ["--resolve-s3", "--capabilities", *aws_target.CAPABILITIES,
          "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--no-progressbar"]


@dataclass
class Deployed:
    project: Path        # a copy of template.yaml and solutions/, which tests may edit
    built: Path          # sam build's template
    region: str
    seconds: dict[str, float]


def copy_project(into: Path) -> Path:
    """template.yaml and the code it names, in a folder of the test's own."""
    shutil.copy2(ROOT / "template.yaml", into / "template.yaml")
    shutil.copytree(ROOT / "solutions", into / "solutions",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def run_sam(*arguments: str, project: Path, answers: str | None = None) -> sam_cli.SamRun:
    try:
        return sam_cli.run(list(arguments), cwd=project, echo=False, timeout=300,
                           answers=answers)
    except sam_cli.SamCliError as error:   # the SAM CLI's own words, to see why
        pytest.fail(f"{error}\n--- what sam printed (the end) ---\n{error.output[-6000:]}")


@pytest.fixture(scope="module")
def deployed(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    project = copy_project(tmp_path_factory.mktemp("samproject"))
    with local_cloud.private_cloud(time_scale=TEST_TIME_SCALE):
        os.environ["SAM_CLI_POLL_DELAY"] = "0.1"
        # The SAM CLI's own settings (which stacks `sam sync` may touch) stay in the test.
        os.environ["__SAM_CLI_APP_DIR"] = str(tmp_path_factory.mktemp("samconfig"))
        region = os.environ["AWS_DEFAULT_REGION"]
        seconds = {}
        started = time.perf_counter()
        run_sam("build", "--region", region, project=project)
        seconds["build"] = time.perf_counter() - started
        started = time.perf_counter()
        run_sam("deploy", "--stack-name", STACK, "--region", region, *DEPLOY, project=project)
        seconds["deploy"] = time.perf_counter() - started
        yield Deployed(project, project / ".aws-sam" / "build" / "template.yaml", region,
                       seconds)


def outputs() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_sam_build_and_deploy_make_the_stack(deployed: Deployed) -> None:
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs()["WebSocketURL"].startswith("ws://127.0.0.1:")
    print(f"sam build {deployed.seconds['build']:.1f} s, "
          f"sam deploy {deployed.seconds['deploy']:.1f} s")


def test_a_battle_and_a_trivia_game_play_through_the_deployed_stack(
        deployed: Deployed) -> None:
    url = outputs()["WebSocketURL"]
    with open(os.devnull, "w") as quiet:
        settled = demo.play_battle(url, out=quiet)
        # 100 scaled seconds to answer: one real second at the tests' time scale.
        scores = demo.play_trivia(url, out=quiet, waitseconds=100, questioncount=2)
    assert settled == {"alice": "WIN", "bob": "LOSE"}
    assert list(scores)[0] == "Ada" and scores["Ada"] >= 2 and scores["Linus"] == 0


def resources_by_cloudformation() -> set[tuple[str, str, str]]:
    pages = boto3.client("cloudformation").get_paginator("list_stack_resources").paginate(
        StackName=STACK)
    return {(r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
            for page in pages for r in page["StackResourceSummaries"]}


def test_cloudformation_agrees_with_workshop_status(deployed: Deployed) -> None:
    assert STACK in local_cloud.status()["stacks"]
    described = local_cloud.stack(stack_name=STACK)["resources"]
    assert resources_by_cloudformation() == {
        (r["logical_id"], r["type"], r["physical_id"]) for r in described}
    status = subprocess.run([sys.executable, "-m", "workshop", "status"], text=True,
                            capture_output=True, timeout=60)
    assert status.returncode == 0 and STACK in status.stdout


def test_deploying_again_with_no_changes_is_a_success(deployed: Deployed) -> None:
    again = run_sam("deploy", "--template-file", str(deployed.built), "--stack-name", STACK,
                "--region", deployed.region, *DEPLOY, project=deployed.project)
    assert "No changes to deploy" in again.output


def test_sam_sync_code_puts_a_changed_handler_live(deployed: Deployed) -> None:
    import websocket

    handler = deployed.project / "solutions" / "main_server" / "app.py"
    text = handler.read_text()
    assert 'else f"unknown action {json.dumps(action)}")' in text
    handler.write_text(text.replace('else f"unknown action {json.dumps(action)}")',
                                    'else f"synced: no action {json.dumps(action)}")'))
    run_sam("sync", "--code", "--stack-name", STACK, "--resource-id", "MainServerFunction",
        "--region", deployed.region, project=deployed.project, answers="y\n")
    ws = websocket.create_connection(outputs()["WebSocketURL"], timeout=10)
    try:
        ws.send(json.dumps({"action": "fly"}))
        assert json.loads(ws.recv()) == {"action": "error", "data": 'synced: no action "fly"'}
    finally:
        ws.close()


def uploaded_code() -> tuple[str, set[str]]:
    """The SAM bucket and the keys of what `sam deploy` uploaded for the stack (its
    template names them: ``s3://bucket/key``)."""
    template = boto3.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    text = template if isinstance(template, str) else json.dumps(template)
    found = re.findall(r"s3://(aws-sam-cli-managed-default-[\w-]+)/([\w./-]+)", text)
    assert found, "the deployed template names no code in the SAM bucket"
    buckets = {bucket for bucket, _ in found}
    assert len(buckets) == 1, buckets
    return buckets.pop(), {key for _, key in found}


def test_sam_delete_leaves_nothing(deployed: Deployed) -> None:
    made = resources_by_cloudformation()
    bucket, keys = uploaded_code()
    s3 = boto3.client("s3")
    present = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys <= present
    run_sam("delete", "--stack-name", STACK, "--no-prompts", "--region", deployed.region,
            project=deployed.project)
    assert aws_target.describe_stack(STACK) is None
    assert STACK not in local_cloud.status()["stacks"]
    names = {f["FunctionName"] for page in boto3.client("lambda").get_paginator(
        "list_functions").paginate() for f in page["Functions"]}
    tables = set(boto3.client("dynamodb").list_tables()["TableNames"])
    for logical, kind, physical in made:
        assert physical not in names and physical not in tables, (logical, kind)
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert not keys & left


def workshop(*args: str, project: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workshop", *args], text=True,
                          capture_output=True, timeout=600, cwd=project,
                          env={**os.environ, **env})


def test_the_aws_target_deploys_and_deletes_end_to_end(deployed: Deployed) -> None:
    """`workshop deploy --target aws` and `delete --target aws`, as on an account."""
    deploy = workshop("deploy", "--target", "aws", "--stack-name", "onaws",
                      project=deployed.project, WORKSHOP_LEARNER="ada")
    assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr
    assert "$ sam build" in deploy.stdout and "$ sam deploy" in deploy.stdout
    assert "stack onaws-ada deployed in us-east-1 in " in deploy.stdout
    assert "  created  MainServerFunction\n" in deploy.stdout   # read from CloudFormation
    site = boto3.client("cloudformation").describe_stacks(
        StackName="onaws-website-ada")["Stacks"][0]
    game: dict[str, Any] = boto3.client("cloudformation").describe_stacks(
        StackName="onaws-ada")["Stacks"][0]
    assert {"Key": aws_target.TEMPLATE_TAG, "Value": "template.yaml"} in game["Tags"]
    assert {"Key": aws_target.TEMPLATE_TAG, "Value": "website.yaml"} in site["Tags"]
    again = workshop("deploy", "--target", "aws", "--stack-name", "onaws",
                     "--no-website", project=deployed.project, WORKSHOP_LEARNER="ada")
    assert again.returncode == 0, again.stderr
    assert re.search(r"stack onaws-ada deployed in us-east-1 in [\d.]+ s \(0 created, 0 "
                     r"updated, 0 deleted, \d+ unchanged\); no changes: it was up to date",
                     again.stdout), again.stdout
    delete = workshop("delete", "--target", "aws", "--stack-name", "onaws",
                      project=deployed.project, WORKSHOP_LEARNER="ada")
    assert delete.returncode == 0, delete.stdout[-3000:] + delete.stderr
    assert "stack onaws-ada deleted" in delete.stdout
    assert aws_target.describe_stack("onaws-ada") is None
    assert aws_target.describe_stack("onaws-website-ada") is None



# API Gateway refuses a Deployment of an API with no route: the create fails and rolls back.
FAILING = """Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: ws, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Nothing:
    Type: AWS::ApiGatewayV2::Deployment
    Properties: {ApiId: !Ref Api}
"""
SOMEONE_ELSES = """Description: The billing team's queue
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""
FAST = {"Delay": 0.1, "MaxAttempts": 300}


def create_stack(name: str, template: str) -> str:
    """Create ``name`` from ``template`` with a change set, as `sam deploy` does; its status."""
    cfn = boto3.client("cloudformation")
    cfn.create_change_set(StackName=name, ChangeSetName="first", TemplateBody=template,
                          ChangeSetType="CREATE")
    cfn.get_waiter("change_set_create_complete").wait(StackName=name, ChangeSetName="first",
                                                      WaiterConfig=FAST)
    cfn.execute_change_set(StackName=name, ChangeSetName="first")
    with contextlib.suppress(WaiterError):   # a failed create ends the waiter too
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def test_a_rolled_back_stack_is_refused_with_the_delete_that_fixes_it(
        deployed: Deployed) -> None:
    assert create_stack("broken", FAILING) == "ROLLBACK_COMPLETE"
    refused = workshop("deploy", "--target", "aws", "--stack-name", "broken", "--no-website",
                       project=deployed.project)
    assert refusal(refused) == (
        "workshop deploy: stack broken is in ROLLBACK_COMPLETE, so CloudFormation will not "
        "update it: delete it with `python -m workshop delete --target aws` (or `sam delete "
        "--stack-name broken`), then deploy again")
    assert "$ sam" not in refused.stdout   # refused before anything ran
    deleted = workshop("delete", "--target", "aws", "--stack-name", "broken",
                       project=deployed.project)
    assert deleted.returncode == 0, deleted.stdout[-3000:] + deleted.stderr
    assert aws_target.describe_stack("broken") is None


def test_a_stack_name_taken_by_another_template_is_refused(deployed: Deployed) -> None:
    assert create_stack("taken", SOMEONE_ELSES) == "CREATE_COMPLETE"
    refused = workshop("deploy", "--target", "aws", "--stack-name", "taken", "--no-website",
                       project=deployed.project)
    assert refusal(refused) == (
        "workshop deploy: stack name taken is already taken by another template (it is "
        "described as \"The billing team's queue\", not template.yaml): choose another name "
        "with --stack-name or WORKSHOP_LEARNER, or delete that stack if it is yours and "
        "unused")
    assert boto3.client("cloudformation").describe_stacks(
        StackName="taken")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
