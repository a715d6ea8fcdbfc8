"""The local cloud in any partition: cn-northwest-1 (the original lottery lab's region) is in
``aws-cn``, whose ARNs read ``arn:aws-cn:…`` and whose host names end in
``.amazonaws.com.cn``. Everything the local cloud writes follows its region's partition."""

from __future__ import annotations

import json

import botocore.session
import pytest

from workshop.emulator import aws_managed_policies, partitions
from workshop.emulator.credentials import CredentialStore
from workshop.emulator.execute_api_urls import local_url
from workshop.emulator.iam_enforcement import principals_of
from workshop.emulator.intrinsics import pseudo_parameters
from workshop.emulator.lambda_control import role_assumable_by_lambda, statement_of
from workshop.emulator.providers.s3 import website_host
from workshop.emulator.s3_public_access import PublicAccessBlock, RequestContext, anonymous_read
from workshop.emulator.s3_website import website_url
from workshop.emulator.settings import Settings, SettingsError

CHINA = "cn-northwest-1"
ACCOUNT = "123456789012"
BASIC = "iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.mark.parametrize(("region", "partition", "suffix"), [
    ("us-east-1", "aws", "amazonaws.com"), ("eu-west-1", "aws", "amazonaws.com"),
    (CHINA, "aws-cn", "amazonaws.com.cn"), ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com")])
def test_a_regions_partition_and_suffix_are_botocores(region: str, partition: str,
                                                      suffix: str) -> None:
    assert (partitions.partition_of(region), partitions.url_suffix_of(region)) == (
        partition, suffix)


def test_an_unknown_region_is_a_one_line_error_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_REGION", "mars-1")
    with pytest.raises(SettingsError, match=r"^region 'mars-1' is not an AWS region \(e\.g\."):
        Settings.from_env()


def test_the_arn_pattern_accepts_every_partition_botocore_knows() -> None:
    import re

    names = botocore.session.get_session().get_available_partitions()
    assert "aws-cn" in names
    assert all(re.fullmatch(partitions.ARN_PARTITION, name) for name in names)


def test_settings_build_arns_and_host_names_in_the_regions_partition() -> None:
    china = Settings(region=CHINA)
    assert (china.partition, china.url_suffix) == ("aws-cn", "amazonaws.com.cn")
    assert china.function_arn("f") == f"arn:aws-cn:lambda:{CHINA}:{ACCOUNT}:function:f"
    assert china.arn("iam", "role/r", in_region=False) == f"arn:aws-cn:iam::{ACCOUNT}:role/r"
    assert china.arn("s3", "b", account="", in_region=False) == "arn:aws-cn:s3:::b"
    assert china.execute_api_host("abc") == f"abc.execute-api.{CHINA}.amazonaws.com.cn"
    assert Settings().function_arn("f") == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"


def test_pseudo_parameters_follow_the_region() -> None:
    values = pseudo_parameters(region=CHINA, account_id=ACCOUNT, stack_name="game")
    assert values["AWS::Partition"] == "aws-cn"
    assert values["AWS::URLSuffix"] == "amazonaws.com.cn"
    assert values["AWS::StackId"].startswith(f"arn:aws-cn:cloudformation:{CHINA}:{ACCOUNT}:")


def test_identities_and_the_principals_that_admit_them_carry_the_partition() -> None:
    store = CredentialStore.ephemeral(account_id=ACCOUNT, partition="aws-cn")
    assert store.root.arn == f"arn:aws-cn:iam::{ACCOUNT}:root"
    role = f"arn:aws-cn:iam::{ACCOUNT}:role/game-Role"
    session = store.issue_role_session(role, session_name="f")
    identity, _ = store.identify(session["AWS_ACCESS_KEY_ID"], session["AWS_SESSION_TOKEN"])
    assert identity.arn == f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/game-Role/f"
    assert f"arn:aws-cn:iam::{ACCOUNT}:root" in principals_of(identity, ACCOUNT)
    statement = statement_of("s", {"principal": ACCOUNT, "action": "lambda:InvokeFunction"},
                             resource=f"arn:aws-cn:lambda:{CHINA}:{ACCOUNT}:function:f")
    assert statement["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}


def test_execute_api_and_website_addresses_in_china_map_to_the_local_cloud() -> None:
    endpoint = "http://127.0.0.1:4580"
    assert local_url(f"https://abc.execute-api.{CHINA}.amazonaws.com.cn/dev", endpoint) \
        == "http://127.0.0.1:4580/abc/dev"
    host = website_host("game", CHINA)
    assert host == f"game.s3-website.{CHINA}.amazonaws.com.cn"
    assert website_url(f"http://{host}/battle/", endpoint) == f"{endpoint}/_website/game/battle/"


def test_aws_managed_policies_exist_in_each_partitions_iam() -> None:
    """SAM names ``arn:aws-cn:iam::aws:policy/…`` in China; moto's aws-cn IAM must have it,
    and only there (each partition's IAM has its own ARNs)."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    aws_managed_policies.install()
    account = "210987654321"  # a backend of its own
    china = iam_backends[account]["aws-cn"].get_policy(f"arn:aws-cn:{BASIC}")
    assert china.arn == f"arn:aws-cn:{BASIC}"
    assert aws_managed_policies.policy_document(f"arn:aws-cn:{BASIC}") \
        == aws_managed_policies.policy_document(f"arn:aws:{BASIC}")
    with pytest.raises(NotFoundException):
        iam_backends[account]["aws"].get_policy(f"arn:aws-cn:{BASIC}")


def test_a_china_role_that_trusts_lambda_is_assumable() -> None:
    from moto.iam.models import iam_backends

    account = "210987654322"
    trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                            "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam_backends[account]["aws-cn"].create_role(
        "fn-role", json.dumps(trust), "/", None, "", [], None)
    assert role.arn == f"arn:aws-cn:iam::{account}:role/fn-role"
    assert role_assumable_by_lambda(role.arn, account=account)
    assert not role_assumable_by_lambda(f"arn:aws:iam::{account}:role/fn-role",
                                        account=account)
    assert not role_assumable_by_lambda("fn-role", account=account)


def test_a_china_bucket_policy_opens_the_website_to_everyone() -> None:
    """A public-read policy in China names ``arn:aws-cn:s3:::bucket/*``."""
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws-cn:s3:::game/*"}]}

    def readable(partition: str) -> bool:
        return anonymous_read(bucket="game", key="battle/index.html", policy=policy,
                              block=PublicAccessBlock(), acl_public=False, acls_enabled=False,
                              context=RequestContext(partition=partition))

    assert readable("aws-cn")
    assert not readable("aws")
