"""docs/aws-learner-policy.json lets a learner deploy, play and delete the workshop, and
little else.

What the deploy needs is not guessed: CloudFormation creates each resource with the
caller's own permissions, and each resource type's provider schema lists the IAM actions
its create, read, update and delete handlers call (cfn-lint ships those schemas, and
IAM's own list of actions and their resource types). The SAM CLI's calls and the
notebooks' are listed here, from their code. Each needed action must be allowed, by
workshop.emulator.iam_policy, on the ARN that the workshop's resources will really have;
the handler actions a feature the templates do not use would need are excluded by name,
each with its reason, and a guard test fails if the templates start using one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from workshop.emulator.iam_policy import action_matches, evaluate
from workshop.emulator.sam import expand
from workshop.emulator.template import load_template

ROOT = Path(__file__).resolve().parents[1]
POLICY_FILE = ROOT / "docs" / "aws-learner-policy.json"
TEMPLATES = [ROOT / "template.yaml", ROOT / "website.yaml",
             ROOT / "solutions" / "statemachines" / "primer.yaml"]
# The SAM CLI's own stack (aws-sam-cli-managed-default), from samcli/lib/bootstrap.
SAM_MANAGED_STACK_TYPES = {"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}
# IAM's limit for a customer managed policy, whitespace not counted.
MANAGED_POLICY_LIMIT = 6144

A, R = "123456789012", "eu-west-1"
SAM_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-1a2b3c4d5e6f"
SITE_BUCKET = "workshop-website-ada-sitebucket-1a2b3c4d5e6f"
# The ARNs the workshop's resources get, by IAM resource type: names made by
# CloudFormation ({stack}-{LogicalId}-{suffix}; state machines {LogicalId}-{suffix}), for
# the plain stack names, a learner's (WORKSHOP_LEARNER=ada) and lab 1's SAM CLI project
# (hello-sam).
SAMPLES = {
    ("cloudformation", "stack"): [
        f"arn:aws:cloudformation:{R}:{A}:stack/{name}/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
        for name in ("workshop", "workshop-ada", "workshop-website", "stepfunctions-primer",
                     "stepfunctions-primer-ada", "hello-sam", "aws-sam-cli-managed-default")],
    ("s3", "bucket"): [f"arn:aws:s3:::{SAM_BUCKET}", f"arn:aws:s3:::{SITE_BUCKET}"],
    ("s3", "object"): [f"arn:aws:s3:::{SAM_BUCKET}/workshop-ada/0123abcd.template",
                       f"arn:aws:s3:::{SITE_BUCKET}/battle/index.html"],
    ("lambda", "function"): [f"arn:aws:lambda:{R}:{A}:function:workshop-ada-MainServerFunc-AB1",
                             f"arn:aws:lambda:{R}:{A}:function:stepfunctions-primer-PrimerG-C2",
                             f"arn:aws:lambda:{R}:{A}:function:hello-sam-MainServerFunction-D3"],
    ("lambda", "layer"): [f"arn:aws:lambda:{R}:{A}:layer:SharedCodeLayer"],
    ("lambda", "layerVersion"): [f"arn:aws:lambda:{R}:{A}:layer:SharedCodeLayer:3"],
    ("iam", "role"): [f"arn:aws:iam::{A}:role/workshop-ada-MainServerFunctionRole-AB1",
                      f"arn:aws:iam::{A}:role/stepfunctions-primer-PrimerStateMachineRo-C2",
                      f"arn:aws:iam::{A}:role/hello-sam-MainServerFunctionRole-D3"],
    ("dynamodb", "table"): [f"arn:aws:dynamodb:{R}:{A}:table/workshop-ada-RoomsTable-AB1",
                            f"arn:aws:dynamodb:{R}:{A}:table/stepfunctions-primer-Primer-C2",
                            f"arn:aws:dynamodb:{R}:{A}:table/hello-sam-ConnectionsTable-D3"],
    ("states", "statemachine"): [
        f"arn:aws:states:{R}:{A}:stateMachine:LotteryStateMachine-Ab1Cd2Ef3Gh4",
        f"arn:aws:states:{R}:{A}:stateMachine:PrimerStateMachine-Ab1Cd2Ef3Gh4"],
    ("states", "execution"): [
        f"arn:aws:states:{R}:{A}:execution:TriviaStateMachine-Ab1Cd2Ef3Gh4:game-42"],
    ("sns", "topic"): [f"arn:aws:sns:{R}:{A}:workshop-ada-LotteryTopic-AB1",
                       f"arn:aws:sns:{R}:{A}:workshop-ada-LotteryTopic-AB1:0f1e2d3c-aaaa"],
    ("sqs", "queue"): [f"arn:aws:sqs:{R}:{A}:workshop-ada-LotteryInboxQueue-AB1"],
    ("logs", "log-group"): [f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/workshop-ada-Main-AB1",
                            f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/hello-sam-Main-D3"],
    ("logs", "log-stream"): [f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/workshop-ada-Main-"
                             "AB1:log-stream:2026/12/05/[$LATEST]0123abcd"],
}
# API Gateway's actions are HTTP verbs on paths: these are the ones a WebSocket API uses.
APIGATEWAY_PATHS = [f"arn:aws:apigateway:{R}::/apis", f"arn:aws:apigateway:{R}::/apis/a1b2c3",
                    f"arn:aws:apigateway:{R}::/apis/a1b2c3/routes/r1",
                    f"arn:aws:apigateway:{R}::/apis/a1b2c3/stages/dev",
                    f"arn:aws:apigateway:{R}::/tags/arn%3Aaws%3Aapigateway%3A{R}%3A%3A%2Fapis"]

# What the SAM CLI calls beyond what CloudFormation does for it (samcli/lib/deploy,
# samcli/lib/delete, samcli/lib/package/s3_uploader.py, samcli/lib/utils/managed_stack).
SAM_CLI_ACTIONS = [
    "cloudformation:DescribeStacks", "cloudformation:GetTemplateSummary",
    "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
    "cloudformation:ListChangeSets", "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource", "cloudformation:DescribeStackResources",
    "cloudformation:GetTemplate", "cloudformation:UpdateStack",
    "cloudformation:RollbackStack", "cloudformation:DeleteStack",
    "cloudformation:ValidateTemplate",
    "s3:PutObject", "s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket", "s3:DeleteObject",
    # sam sync --code
    "lambda:UpdateFunctionCode", "lambda:GetFunction", "lambda:PublishLayerVersion",
    "states:UpdateStateMachine",
]
# What the notebooks and `workshop` call on the aws target (reading stacks, playing, the
# checks, and 99_cleanup listing and deleting what is left).
NOTEBOOK_ACTIONS = [
    "cloudformation:ListStacks", "cloudformation:ListStackResources",
    "s3:ListAllMyBuckets", "s3:ListBucketVersions", "s3:DeleteObjectVersion",
    "s3:DeleteBucket", "lambda:InvokeFunction", "lambda:ListFunctions",
    "dynamodb:Scan", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
    "states:ListStateMachines", "states:StartExecution", "states:DescribeExecution",
    "states:GetExecutionHistory", "states:ListExecutions", "states:StopExecution",
    "sns:Subscribe", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue",
    "logs:DescribeLogGroups", "logs:FilterLogEvents", "logs:GetLogEvents",
    "logs:DeleteLogGroup",
]

_NOT_USED = "a bucket feature neither bucket uses"
# (resource type pattern, action pattern): why the deploy never calls it.
EXCLUDED = {
    ("*", "kms:*"): "no key of the learner's own: the tables, the state machines and the SAM "
                    "bucket use AWS owned or AWS managed keys, whose key policies already let "
                    "the service use them for anyone in the account",
    ("AWS::Lambda::Function", "ec2:*"): "no function runs in a VPC",
    ("AWS::Lambda::Function", "elasticfilesystem:*"): "no function mounts a file system",
    ("AWS::Lambda::Function", "s3files:*"): "no function mounts a file system",
    ("AWS::Lambda::Function", "lambda:GetCodeSigningConfig"): "no code signing",
    ("AWS::Lambda::Function", "lambda:*FunctionCodeSigningConfig"): "no code signing "
        "(GetFunctionCodeSigningConfig, which reads that there is none, is allowed)",
    ("AWS::Lambda::Function", "lambda:PassCapacityProvider"): "no capacity provider",
    ("AWS::Lambda::Function", "lambda:PutFunctionScalingConfig"): "no capacity provider",
    ("AWS::Lambda::Function", "lambda:AssociateRuntimeAlias"): "no runtime alias",
    ("AWS::DynamoDB::Table", "s3:*"): "no table is imported from S3",
    ("AWS::DynamoDB::Table", "logs:*"): "no table is imported from S3 (imports log)",
    ("AWS::DynamoDB::Table", "dynamodb:*Import*"): "no table is imported from S3",
    ("AWS::DynamoDB::Table", "dynamodb:*TableReplica"): "no global tables",
    ("AWS::DynamoDB::Table", "iam:CreateServiceLinkedRole"): "no global tables or "
                                                             "contributor insights",
    ("AWS::DynamoDB::Table", "dynamodb:UpdateContributorInsights"): "no contributor insights",
    ("AWS::DynamoDB::Table", "kinesis:*"): "no table streams to Kinesis",
    ("AWS::DynamoDB::Table", "dynamodb:EnableKinesis*"): "no table streams to Kinesis",
    ("AWS::DynamoDB::Table", "dynamodb:DisableKinesis*"): "no table streams to Kinesis",
    ("AWS::DynamoDB::Table", "dynamodb:UpdateKinesis*"): "no table streams to Kinesis",
    ("AWS::DynamoDB::Table", "dynamodb:PutResourcePolicy"): "no table has a resource policy",
    ("AWS::DynamoDB::Table", "dynamodb:DeleteResourcePolicy"): "no table has a resource "
                                                               "policy",
    ("AWS::SNS::Topic", "sns:PutDataProtectionPolicy"): "no data protection policy",
    ("AWS::IAM::Role", "iam:*RolePermissionsBoundary"): "no permissions boundary",
    ("AWS::ApiGatewayV2::Api", "s3:getObject"): "only for an OpenAPI body in S3: the API is "
                                                "declared resource by resource",
    ("AWS::ApiGatewayV2::Stage", "apigateway:*TagResource"): "not an IAM action: tags are "
        "apigateway:POST and DELETE on /tags/…, which the policy allows",
    ("AWS::S3::Bucket", "s3tables:*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*BucketMetadata*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Accelerate*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Analytics*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*BucketAbac"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:PutBucketAcl"): _NOT_USED + " (ACLs are disabled)",
    ("AWS::S3::Bucket", "s3:PutObjectAcl"): _NOT_USED + " (ACLs are disabled)",
    ("AWS::S3::Bucket", "s3:*BucketCors"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:PutBucketLogging"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:PutBucketNotification"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*ObjectLockConfiguration"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*IntelligentTiering*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Inventory*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Lifecycle*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Metrics*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:*Replication*"): _NOT_USED,
    ("AWS::S3::Bucket", "s3:DeleteBucketEncryption"): _NOT_USED,
    ("AWS::S3::Bucket", "iam:PassRole"): "only for replication, which no bucket uses",
}
# Properties whose presence would bring an excluded action back: the guard below.
FEATURES_EXCLUDED = ["KMSMasterKeyId", "KmsKeyArn", "KmsKeyId", "VpcConfig",
                     "FileSystemConfigs", "CodeSigningConfigArn", "Replicas",
                     "ImportSourceSpecification", "KinesisStreamSpecification",
                     "ContributorInsightsSpecification", "ResourcePolicy",
                     "DataProtectionPolicy", "PermissionsBoundary", "BodyS3Location",
                     "AccelerateConfiguration", "AnalyticsConfigurations", "CorsConfiguration",
                     "LoggingConfiguration", "NotificationConfiguration",
                     "ObjectLockConfiguration", "IntelligentTieringConfigurations",
                     "InventoryConfigurations", "LifecycleConfiguration",
                     "MetricsConfigurations", "ReplicationConfiguration", "AccessControl"]


@cache
def policy() -> dict[str, Any]:
    return json.loads(POLICY_FILE.read_text())


@cache
def iam_actions() -> dict[str, Any]:
    """IAM's actions per service, with the resource types each acts on (from cfn-lint)."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource
    return load_resource(AdditionalSpecs, "Policies.json")


@cache
def expanded_templates() -> tuple[dict[str, Any], ...]:
    return tuple(expand(load_template(path), region=R) for path in TEMPLATES)


def handler_actions() -> dict[str, set[str]]:
    """Action -> the resource types whose CloudFormation handlers call it."""
    from cfnlint.data.schemas import providers, resources
    from cfnlint.helpers import load_resource
    schema_of = load_resource(providers, "us-east-1.json")
    types = SAM_MANAGED_STACK_TYPES | {spec["Type"] for body in expanded_templates()
                                       for spec in body["Resources"].values()}
    needed: dict[str, set[str]] = {}
    for kind in types:
        handlers = load_resource(resources, f"{schema_of[kind]}.json")["handlers"]
        for operation in ("create", "read", "update", "delete"):
            for action in handlers.get(operation, {}).get("permissions", []):
                needed.setdefault(action, set()).add(kind)
    return needed


def excluded(action: str, kinds: Iterable[str]) -> bool:
    """Is the action needed only for features the templates do not use, for every type?"""
    return all(any(re.fullmatch(kind_pattern.replace("*", ".*"), kind)
                   and action_matches(action_pattern, action)
                   for kind_pattern, action_pattern in EXCLUDED) for kind in kinds)


def resource_types(action: str) -> list[str]:
    service, name = action.split(":", 1)
    spec = iam_actions()[service.lower()]["Actions"].get(name.lower())
    assert spec is not None, f"{action} is not an IAM action"
    return spec.get("Resources", [])


def arns_for(action: str) -> list[str]:
    """Where the workshop calls this action: its resources' ARNs, or * if it takes none."""
    service = action.split(":", 1)[0].lower()
    if service == "apigateway":
        return APIGATEWAY_PATHS
    kinds = resource_types(action)
    arns = [arn for kind in kinds for arn in SAMPLES.get((service, kind), [])]
    return arns or ["*"]


def needed_actions() -> list[str]:
    needs = {action.lower(): action for action in [*SAM_CLI_ACTIONS, *NOTEBOOK_ACTIONS]}
    for action, kinds in handler_actions().items():
        if not excluded(action, kinds):
            needs.setdefault(action.lower(), action)
    return sorted(needs.values(), key=str.lower)


def statements() -> list[dict[str, Any]]:
    return policy()["Statement"]


def listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


# -- the document ------------------------------------------------------------------------


def test_it_is_an_iam_policy_of_allow_statements_that_fits_a_managed_policy() -> None:
    document = policy()
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in statements()]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids)
    for statement in statements():
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, statement["Sid"]
        assert statement["Effect"] == "Allow"
    size = len(re.sub(r"\s", "", POLICY_FILE.read_text()))
    assert size <= MANAGED_POLICY_LIMIT, f"{size} characters: IAM takes at most 6,144"


def test_every_action_is_one_iam_knows_and_every_resource_is_one_it_can_name() -> None:
    for statement in statements():
        for pattern in listed(statement["Action"]):
            service, name = pattern.split(":", 1)
            known = iam_actions()[service.lower()]["Actions"]
            matched = [a for a in known if action_matches(pattern, f"{service}:{a}")]
            assert matched, f"{statement['Sid']}: {pattern} matches no IAM action"
            if statement["Resource"] != "*":
                # An action that takes no resource is allowed only by Resource "*".
                assert all(known[a].get("Resources") for a in matched), (
                    f"{statement['Sid']}: {pattern} takes no resource: move it to "
                    "the NoResource statement")
        for resource in listed(statement["Resource"]):
            assert resource == "*" or resource.startswith("arn:aws:"), resource


def test_the_policy_grants_nothing_outside_the_workshop() -> None:
    """No * action, and * resources only for the actions that cannot name one."""
    for statement in statements():
        assert not any(a == "*" or a.endswith(":*") for a in listed(statement["Action"]))
    everywhere = next(s for s in statements() if s["Resource"] == "*")
    for action in listed(everywhere["Action"]):
        assert "delete" not in action.lower() and "put" not in action.lower(), action
    for arn in ["arn:aws:lambda:eu-west-1:123456789012:function:payroll",
                "arn:aws:dynamodb:eu-west-1:123456789012:table/Customers",
                "arn:aws:iam::123456789012:role/Admin",
                "arn:aws:s3:::company-data/secret.csv",
                "arn:aws:cloudformation:eu-west-1:123456789012:stack/prod/abc"]:
        for action in ["lambda:UpdateFunctionCode", "dynamodb:Scan", "iam:PassRole",
                       "s3:GetObject", "cloudformation:DeleteStack"]:
            assert not evaluate([policy()], action=action, resource=arn).allowed, (action, arn)


# -- what the deploy, the SAM CLI and the notebooks need ----------------------------------


def test_the_handlers_of_the_templates_resource_types_were_read() -> None:
    needed = handler_actions()
    assert {"lambda:CreateFunction", "iam:PassRole", "states:CreateStateMachine",
            "apigateway:POST", "dynamodb:CreateTable", "s3:PutBucketWebsite"} <= set(needed)
    assert "AWS::S3::BucketPolicy" in needed["s3:PutBucketPolicy"]


@pytest.mark.parametrize("action", needed_actions())
def test_each_action_the_workshop_needs_is_allowed_where_it_needs_it(action: str) -> None:
    for arn in arns_for(action):
        decision = evaluate([policy()], action=action, resource=arn)
        assert decision.allowed, f"{action} on {arn} is not allowed"


def test_the_transform_may_be_used() -> None:
    transform = "arn:aws:cloudformation:eu-west-1:aws:transform/Serverless-2016-10-31"
    assert evaluate([policy()], action="cloudformation:CreateChangeSet",
                    resource=transform).allowed


def test_the_templates_use_no_feature_whose_actions_were_left_out() -> None:
    text = json.dumps(expanded_templates())
    used = [name for name in FEATURES_EXCLUDED if f'"{name}"' in text]
    assert not used, (f"the templates now use {used}: the policy must allow what they "
                      "need; update EXCLUDED and docs/aws-learner-policy.json")
