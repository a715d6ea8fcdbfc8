"""Code in the local S3, as ``sam deploy`` uploads it: ``CodeUri: s3://…`` and
``Code: {S3Bucket, S3Key}`` unpacked safely for the runtime; templates given as text may not
name local folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_deployer
from test_deployer import Cloud, write
from zip_packages import zipped

from workshop.emulator.deployer import TemplateError

moto_port, aws, cloud = test_deployer.moto_port, test_deployer.aws, test_deployer.cloud

BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-1"

FUNCTION = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::123456789012:role/r
      Code: {S3Bucket: %s, S3Key: %s}
"""

SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: %s
      Layers: [!Ref Shared]
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: s3://%s/layer.zip
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: s3://%s/machine.asl.json
      Role: arn:aws:iam::123456789012:role/states
"""


def upload(cloud: Cloud, key: str, data: bytes) -> None:
    s3 = cloud.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)


def handler(result: str) -> dict[str, str]:
    return {"app.py": f"def handler(event, context):\n    return {result!r}\n"}


def test_code_from_s3_runs_and_a_new_object_redeploys(cloud: Cloud, tmp_path: Path) -> None:
    upload(cloud, "fn.zip", zipped(handler("one")))
    path = write(tmp_path, FUNCTION % (BUCKET, "fn.zip"))
    assert cloud.deployer.deploy(path).created == ["Fn"]
    [config] = cloud.runtime.functions.values()
    assert config.code_dir.is_relative_to(cloud.settings.home / "deploy-code")
    assert "'one'" in (config.code_dir / "app.py").read_text()

    calls = cloud.calls()
    assert cloud.deployer.deploy(path).unchanged == ["Fn"] and cloud.calls() == calls

    upload(cloud, "fn.zip", zipped(handler("two")))  # the same key, new content
    assert cloud.deployer.deploy(path).updated == ["Fn"]
    config = cloud.runtime.functions[config.name]
    assert "'two'" in (config.code_dir / "app.py").read_text()


def test_sam_deploy_locations_for_code_layers_and_definitions(cloud: Cloud,
                                                              tmp_path: Path) -> None:
    upload(cloud, "fn.zip", zipped(handler("sam")))
    upload(cloud, "layer.zip", zipped({"python/shared.py": "X = 1\n"}))
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    upload(cloud, "machine.asl.json", json.dumps(definition).encode())
    published: list[tuple[str, Path]] = []
    cloud.runtime.publish_layer = lambda arn, folder: published.append((arn, folder))
    cloud.runtime.layer_dir = lambda arn: dict(published)[arn]
    path = write(tmp_path, SAM % (f"s3://{BUCKET}/fn.zip", BUCKET, BUCKET))
    report = cloud.deployer.deploy(path)
    assert sorted(report.created) == ["Fn", "FnRole", "Machine", "Shareda90e5cc126"]
    [(arn, folder)] = published
    assert (folder / "python" / "shared.py").is_file()
    [config] = cloud.runtime.functions.values()
    assert config.layers == (folder,) and (config.code_dir / "app.py").is_file()
    [machine] = cloud.client("stepfunctions").list_state_machines()["stateMachines"]
    described = cloud.client("stepfunctions").describe_state_machine(
        stateMachineArn=machine["stateMachineArn"])
    assert json.loads(described["definition"]) == definition


@pytest.mark.parametrize(("key", "data", "problem"), [
    ("missing.zip", None, "Fn: Code s3://.*/missing.zip: Error occurred while GetObject. S3 "
     "Error Code: NoSuchKey"),
    ("text.zip", b"not a zip", "Could not unzip uploaded file"),
    ("evil.zip", zipped({**handler("x"), "../../evil.py": "boom"}),
     "entry '../../evil.py' points outside the package"),
    ("nohandler.zip", zipped({"other.py": "x = 1\n"}), "there is no app.py"),
])
def test_bad_packages_are_refused_when_planning(cloud: Cloud, tmp_path: Path, key: str,
                                                data: bytes | None, problem: str) -> None:
    upload(cloud, "present.zip", b"")
    if data is not None:
        upload(cloud, key, data)
    path = write(tmp_path, FUNCTION % (BUCKET, key))
    with pytest.raises(TemplateError, match=problem):
        cloud.deployer.plan(path)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()
    assert cloud.runtime.calls == []


def test_a_missing_bucket_is_named(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, FUNCTION % ("no-such-bucket", "fn.zip"))
    with pytest.raises(TemplateError, match="S3 Error Code: NoSuchBucket"):
        cloud.deployer.plan(path)


def test_a_template_given_as_text_may_not_name_local_folders(cloud: Cloud,
                                                             tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context): pass\n")
    path = write(tmp_path, SAM % ("src/", BUCKET, BUCKET))
    with pytest.raises(TemplateError, match=r"template.yaml:\d+: Fn: CodeUri 'src/' is a local "
                       "path: package it with sam package/deploy first"):
        cloud.deployer.plan(path, local_code=False)
    inline = write(tmp_path, FUNCTION.replace("Code: {S3Bucket: %s, S3Key: %s}", "Code: src/"))
    with pytest.raises(TemplateError, match="Fn: Code 'src/' is a local path"):
        cloud.deployer.plan(inline, local_code=False)
