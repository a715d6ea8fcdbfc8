"""Notebook 99's inventory: everything left behind, found and removed with plain boto3.

On a local cloud of its own, because it creates and deletes the SAM CLI's managed stack,
whose name is the same for every SAM project (and for other tests' ``sam deploy``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pandas as pd
import pytest
from sam_required import without_sam_cli

from workshop import cloud as lifecycle
from workshop.notebook import cleanup, leftovers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "e2e"
# What `sam deploy --resolve-s3` creates (samcli/lib/bootstrap/bootstrap.py), in short.
SAM_MANAGED_TEMPLATE = {
    "Resources": {"SamCliSourceBucket": {
        "Type": "AWS::S3::Bucket",
        "Properties": {"VersioningConfiguration": {"Status": "Enabled"},
                       "Tags": [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}]}}},
    "Outputs": {"SourceBucket": {"Value": {"Ref": "SamCliSourceBucket"}}},
}


@pytest.fixture(scope="module")
def own_cloud() -> Iterator[dict]:
    try:
        with lifecycle.private_cloud(time_scale=0.01) as state:
            yield state
    finally:
        # Back to the session's cloud, if one runs (private_cloud restored the variables).
        if os.environ.get("WORKSHOP_PORT"):
            lifecycle.use_local_cloud()
        else:
            boto3.DEFAULT_SESSION = None


def sam_managed_stack() -> str:
    """Make the SAM CLI's stack and put two versions of one package in its bucket."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=leftovers.SAM_MANAGED_STACK,
                                TemplateBody=json.dumps(SAM_MANAGED_TEMPLATE))
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=leftovers.SAM_MANAGED_STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    bucket = cloudformation.describe_stacks(StackName=leftovers.SAM_MANAGED_STACK)[
        "Stacks"][0]["Outputs"][0]["OutputValue"]
    s3 = boto3.client("s3")
    for body in (b"first", b"second"):
        s3.put_object(Bucket=bucket, Key="lingering/0123abcd", Body=body)
    return bucket


def kinds(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return sorted(zip(frame["kind"], frame["name"], strict=True))


def test_everything_left_is_listed_then_removed(own_cloud: dict) -> None:
    outputs = lifecycle.deploy(FIXTURES / "lingering.yaml", stack_name="lingering")["outputs"]
    boto3.client("lambda").invoke(FunctionName=outputs["FunctionName"], Payload=b"{}")
    running = boto3.client("stepfunctions").start_execution(
        stateMachineArn=outputs["StateMachineArn"], name="game-1")["executionArn"]
    bucket = sam_managed_stack()
    lifecycle.deploy(FIXTURES / "lingering.yaml", stack_name="hello-sam")

    before = leftovers.find(stacks=["lingering"])
    assert list(before.columns) == leftovers.COLUMNS
    assert kinds(before) == sorted([
        ("stack", "lingering"), ("stack", "hello-sam"), ("stack", leftovers.SAM_MANAGED_STACK),
        ("running execution", running), ("bucket", bucket),
        ("log group", f"/aws/lambda/{outputs['FunctionName']}")])
    assert bucket.startswith(leftovers.SAM_BUCKET_PREFIX)
    assert before.set_index("name").loc[bucket, "state"].startswith("2 object versions")

    assert leftovers.stop_executions(before) == 1
    assert boto3.client("stepfunctions").describe_execution(
        executionArn=running)["status"] == "ABORTED"
    assert cleanup.delete_stack("lingering").startswith("stack lingering deleted")
    assert leftovers.delete_sam_lab_stacks() == ["stack hello-sam deleted"]
    assert leftovers.delete_log_groups(before) == 1
    assert kinds(leftovers.find(stacks=["lingering"])) == [
        ("bucket", bucket), ("stack", leftovers.SAM_MANAGED_STACK)]

    assert leftovers.delete_sam_managed_stack() == (
        f"stack {leftovers.SAM_MANAGED_STACK} deleted, with its bucket (2 object versions "
        "removed first)")
    assert leftovers.find(stacks=["lingering"]).empty
    assert leftovers.delete_sam_managed_stack() == (
        f"stack {leftovers.SAM_MANAGED_STACK} does not exist here: nothing to delete")


def test_on_aws_only_this_learners_stacks_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leftovers.target, "chosen", lambda: "aws")
    monkeypatch.setenv("WORKSHOP_LEARNER", "ada")
    assert leftovers.stack_names() == ["workshop-ada", "stepfunctions-primer-ada",
                                       "workshop-website-ada", "hello-sam-ada"]
    monkeypatch.setattr(leftovers.target, "chosen", lambda: "local")
    assert leftovers.stack_names() == ["workshop", "stepfunctions-primer", "workshop-website",
                                       "hello-sam"]


def test_a_sam_bucket_of_another_region_says_where_to_delete_it(own_cloud: dict) -> None:
    name = f"{leftovers.SAM_BUCKET_PREFIX}elsewhere"
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        found = leftovers.find(stacks=["lingering"]).set_index("name")
        assert found.loc[name, "removed by"] == "optional: section 5, run in eu-west-1"
    finally:
        boto3.client("s3", region_name="eu-west-1").delete_bucket(Bucket=name)


def publish_layer(name: str) -> str:
    """Publish a version of a layer through the Lambda API, as `sam sync --code` does."""
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("python/dependency.py", "VALUE = 1\n")
    return boto3.client("lambda").publish_layer_version(
        LayerName=name, Content={"ZipFile": package.getvalue()},
        CompatibleRuntimes=["python3.12"])["LayerVersionArn"]


def test_layer_versions_sam_sync_published_are_listed_then_deleted(own_cloud: dict) -> None:
    ours = f"{leftovers.dependency_layer_prefix('hello-sam')}MainServerFunctiona1b2c3d4-DepLayer"
    others = f"{leftovers.dependency_layer_prefix('hello-bob')}MainServerFunctiona1b2c3d4-DepLayer"
    versions = [publish_layer(ours), publish_layer(ours)]   # two syncs: two versions
    foreign = [publish_layer(others), publish_layer("NotTheWorkshopsLayer")]
    try:
        found = leftovers.find(stacks=["lingering"])
        listed = found[found["kind"] == "layer version"]
        assert sorted(listed["name"]) == sorted(versions)
        assert set(listed["removed by"]) == {"section 4"}
        assert leftovers.delete_layer_versions(found) == 2
        assert boto3.client("lambda").list_layer_versions(LayerName=ours)["LayerVersions"] == []
        assert "layer version" not in set(leftovers.find(stacks=["lingering"])["kind"])
    finally:
        for arn in foreign:
            layer, version = arn.rsplit(":", 1)
            boto3.client("lambda").delete_layer_version(LayerName=layer,
                                                         VersionNumber=int(version))


def test_the_dependency_layer_prefix_is_the_sam_clis(sam: Path) -> None:
    """The SAM CLI's own name for a dependency layer starts with the prefix (its tool
    environment's Python, when it is installed)."""
    python = sam.resolve().parent / "python"
    if not python.exists():
        # A SAM CLI from AWS's standalone installer has no importable samcli beside it.
        without_sam_cli(f"no Python next to the SAM CLI ({python.parent})")
    named = subprocess.run(
        [str(python), "-c", "from samcli.lib.bootstrap.nested_stack.nested_stack_builder "
         "import NestedStackBuilder as B; print(B.get_layer_name("
         "'workshop-a-rather-long-name', 'MainServerFunction'))"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert named.startswith(leftovers.dependency_layer_prefix("workshop-a-rather-long-name"))
    assert named.endswith("-DepLayer")


def test_a_synced_version_of_the_templates_layer_is_listed_not_the_stacks(
        own_cloud: dict, tmp_path: Path) -> None:
    """`sam sync --code` publishes a new version of SharedCodeLayer (named by its logical
    id) through the Lambda API: that version is a leftover, the stack's own is not."""
    assert "SharedCodeLayer" in leftovers.template_layer_names()
    (tmp_path / "shared" / "python").mkdir(parents=True)
    (tmp_path / "shared" / "python" / "connections.py").write_text("VALUE = 1\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  SharedCodeLayer:\n"
        "    Type: AWS::Serverless::LayerVersion\n    Properties:\n"
        "      ContentUri: shared/\n      RetentionPolicy: Delete\n")
    lifecycle.deploy(tmp_path / "template.yaml", stack_name="layered")
    [owned] = [r["PhysicalResourceId"] for r in boto3.client("cloudformation")
               .list_stack_resources(StackName="layered")["StackResourceSummaries"]]
    synced = publish_layer("SharedCodeLayer")
    found = leftovers.find(stacks=["layered"])
    assert list(found.loc[found["kind"] == "layer version", "name"]) == [synced]
    assert leftovers.delete_layer_versions(found) == 1
    remaining = boto3.client("lambda").list_layer_versions(LayerName="SharedCodeLayer")
    assert [v["LayerVersionArn"] for v in remaining["LayerVersions"]] == [owned]
    assert cleanup.delete_stack("layered").startswith("stack layered deleted")
