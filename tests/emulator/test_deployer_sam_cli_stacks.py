"""Stacks the SAM CLI makes for itself: its managed bucket's template deploys, with the
properties the local cloud applies applied and the others accepted and recorded."""

from __future__ import annotations

from pathlib import Path

import test_deployer
from test_deployer import Cloud, write

moto_port, aws, cloud = test_deployer.moto_port, test_deployer.aws, test_deployer.cloud

# What `sam deploy --resolve-s3` (SAM CLI 1.170, samcli/lib/bootstrap/bootstrap.py) creates
# as stack aws-sam-cli-managed-default; the CloudFormation API's tests deploy it too.
MANAGED_STACK = (Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation"
                 / "sam-cli-managed-stack.json").read_text()


def test_the_sam_cli_managed_bucket_deploys_as_on_aws(cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, MANAGED_STACK, "managed.json")
    stack = "aws-sam-cli-managed-default"
    report = cloud.deployer.deploy(path, stack_name=stack)
    assert report.created == ["SamCliSourceBucket", "SamCliSourceBucketBucketPolicy"]
    assert report.warnings == []
    bucket = report.outputs["SourceBucket"]
    assert bucket.startswith("aws-sam-cli-managed-default-samclisourcebucket-")
    s3 = cloud.client("s3")
    [rule] = s3.get_bucket_encryption(Bucket=bucket)[
        "ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "ManagedStackSource", "Value": "AwsSamCli"}]
    calls = cloud.calls()
    assert cloud.deployer.deploy(path, stack_name=stack).unchanged == [
        "SamCliSourceBucket", "SamCliSourceBucketBucketPolicy"]
    assert cloud.calls() == calls


def test_properties_not_emulated_are_recorded_and_warned_about_if_missed(
        cloud: Cloud, tmp_path: Path) -> None:
    path = write(tmp_path, """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules: [{Id: old, Status: Enabled, ExpirationInDays: 7}]
      NotificationConfiguration:
        QueueConfigurations: [{Event: "s3:ObjectCreated:*", Queue: arn:aws:sqs:us-east-1:1:q}]
""")
    report = cloud.deployer.deploy(path)
    assert report.created == ["Bucket"]
    assert report.warnings == ["Bucket: NotificationConfiguration is recorded but not "
                               "emulated: the local S3 sends no event notifications"]
    write(tmp_path, """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules: [{Id: old, Status: Enabled, ExpirationInDays: 30}]
""")
    assert cloud.deployer.deploy(path).updated == ["Bucket"]  # a change is still a change
