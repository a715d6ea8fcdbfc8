"""The Lambda control plane on a private local cloud, through boto3 as on AWS.

Create, update and delete functions from zips (direct or from the local S3), with
Lambda's states, waiters and error words; permissions that the gateway follows; and the
policy of a function a template deployed.
"""

from __future__ import annotations

import io
import json
import os
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
import websocket
from botocore.config import Config
from botocore.exceptions import ClientError

from workshop import cloud as lifecycle

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"
TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def handler_zip(source: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def returning(value: str) -> bytes:
    return handler_zip(
        "import os\n"
        f"def handler(event, context):\n    return {{'value': {value!r}, "
        "'stage': os.environ.get('STAGE')}\n")


@pytest.fixture(scope="module")
def aws(cloud: dict) -> dict:
    config = Config(retries={"max_attempts": 0})
    return {name: boto3.client(name, config=config) for name in ("lambda", "iam", "s3")}


@pytest.fixture(scope="module")
def role(aws: dict) -> str:
    return aws["iam"].create_role(RoleName="control-plane-role",
                                  AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA)
                                  )["Role"]["Arn"]


def create(aws: dict, role: str, code: bytes, **extra) -> tuple[str, dict]:
    name = f"cp-{uuid.uuid4().hex[:8]}"
    reply = aws["lambda"].create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                          Handler="app.handler", Code={"ZipFile": code},
                                          **extra)
    return name, reply


def invoke(aws: dict, name: str) -> dict:
    reply = aws["lambda"].invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in reply, reply["Payload"].read()
    return json.loads(reply["Payload"].read())


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response
    return (error["Error"]["Code"], error["Error"]["Message"],
            error["ResponseMetadata"]["HTTPStatusCode"])


def test_create_invoke_update_code_and_the_next_invoke_runs_the_new_code(aws, role) -> None:
    name, created = create(aws, role, returning("one"))
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert created["FunctionArn"].endswith(f":function:{name}")
    aws["lambda"].get_waiter("function_active_v2").wait(FunctionName=name)
    assert invoke(aws, name)["value"] == "one"
    updated = aws["lambda"].update_function_code(FunctionName=name, ZipFile=returning("two"))
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["CodeSha256"] != created["CodeSha256"]
    aws["lambda"].get_waiter("function_updated_v2").wait(FunctionName=name)
    assert aws["lambda"].get_function(FunctionName=name)["Configuration"][
        "LastUpdateStatus"] == "Successful"
    assert invoke(aws, name)["value"] == "two"


def test_code_sha256_is_the_zips_as_on_lambda(aws, role) -> None:
    import base64
    import hashlib

    code = returning("sha")
    _name, created = create(aws, role, code)
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)


def test_code_from_the_local_s3(aws, role) -> None:
    aws["s3"].create_bucket(Bucket="control-plane-code")
    aws["s3"].put_object(Bucket="control-plane-code", Key="f.zip", Body=returning("s3"))
    name = f"cp-{uuid.uuid4().hex[:8]}"
    aws["lambda"].create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                  Handler="app.handler",
                                  Code={"S3Bucket": "control-plane-code", "S3Key": "f.zip"})
    assert invoke(aws, name)["value"] == "s3"
    code, message, _ = error_of(aws["lambda"].update_function_code, FunctionName=name,
                                S3Bucket="control-plane-code", S3Key="missing.zip")
    assert code == "InvalidParameterValueException"
    assert "S3 Error Code: NoSuchKey" in message


def test_update_configuration_environment_is_seen_by_the_next_invoke(aws, role) -> None:
    name, _ = create(aws, role, returning("env"), Environment={"Variables": {"STAGE": "a"}})
    assert invoke(aws, name)["stage"] == "a"
    reply = aws["lambda"].update_function_configuration(
        FunctionName=name, Environment={"Variables": {"STAGE": "b"}}, Timeout=10)
    assert reply["LastUpdateStatus"] == "InProgress"
    aws["lambda"].get_waiter("function_updated_v2").wait(FunctionName=name)
    configuration = aws["lambda"].get_function_configuration(FunctionName=name)
    assert configuration["Timeout"] == 10
    assert configuration["Environment"] == {"Variables": {"STAGE": "b"}}
    assert invoke(aws, name)["stage"] == "b"


def test_get_function_code_location_serves_the_code(aws, role) -> None:
    code = returning("location")
    name, _ = create(aws, role, code, Tags={"team": "games"})
    found = aws["lambda"].get_function(FunctionName=name)
    assert found["Tags"] == {"team": "games"}
    with urllib.request.urlopen(found["Code"]["Location"], timeout=10) as reply:
        served = zipfile.ZipFile(io.BytesIO(reply.read()))
    assert served.read("app.py") == zipfile.ZipFile(io.BytesIO(code)).read("app.py")


def test_list_functions_pages_with_marker(aws, role) -> None:
    for _ in range(3):
        create(aws, role, returning("list"))
    names = []
    for page in aws["lambda"].get_paginator("list_functions").paginate(
            PaginationConfig={"PageSize": 2}):
        assert len(page["Functions"]) <= 2
        names += [f["FunctionName"] for f in page["Functions"]]
    assert len(names) == len(set(names)) >= 3


def test_delete_then_invoke_is_not_found(aws, role) -> None:
    name, created = create(aws, role, returning("gone"))
    aws["lambda"].delete_function(FunctionName=name)
    code, message, status = error_of(aws["lambda"].invoke, FunctionName=name)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"Function not found: {created['FunctionArn']}"


def test_a_taken_name_is_a_conflict(aws, role) -> None:
    name, _ = create(aws, role, returning("taken"))
    code, message, status = error_of(
        aws["lambda"].create_function, FunctionName=name, Runtime="python3.12", Role=role,
        Handler="app.handler", Code={"ZipFile": returning("again")})
    assert (code, message, status) == ("ResourceConflictException",
                                       f"Function already exist: {name}", 409)


def test_a_bad_zip_is_refused_in_lambdas_words(aws, role) -> None:
    code, message, status = error_of(
        aws["lambda"].create_function, FunctionName="cp-badzip", Runtime="python3.12",
        Role=role, Handler="app.handler", Code={"ZipFile": b"this is not a zip"})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Could not unzip uploaded file.")


def test_a_zip_entry_outside_the_package_is_refused(aws, role) -> None:
    evil = handler_zip("def handler(e, c): pass\n", extra={"../../escaped.py": b"x = 1\n"})
    code, message, _ = error_of(
        aws["lambda"].create_function, FunctionName="cp-traversal", Runtime="python3.12",
        Role=role, Handler="app.handler", Code={"ZipFile": evil})
    assert code == "InvalidParameterValueException"
    assert "'../../escaped.py' points outside the package" in message
    assert not any(Path(os.environ["WORKSHOP_HOME"]).rglob("escaped.py"))
    code, _, _ = error_of(aws["lambda"].get_function, FunctionName="cp-traversal")
    assert code == "ResourceNotFoundException"


def test_a_role_lambda_cannot_assume_is_refused(aws, role) -> None:
    ec2 = aws["iam"].create_role(RoleName="control-plane-ec2",
                                 AssumeRolePolicyDocument=json.dumps(TRUST_EC2))["Role"]["Arn"]
    missing = role.rsplit("/", 1)[0] + "/no-such-role"
    for arn in (ec2, missing):
        assert error_of(aws["lambda"].create_function, FunctionName="cp-role",
                        Runtime="python3.12", Role=arn, Handler="app.handler",
                        Code={"ZipFile": returning("role")}) == (
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.", 400)


def test_timeout_and_reserved_variables_are_checked(aws, role) -> None:
    name, _ = create(aws, role, returning("limits"))
    code, message, _ = error_of(aws["lambda"].update_function_configuration,
                                FunctionName=name, Timeout=901)
    assert code == "ValidationException"
    assert "less than or equal to 900" in message
    code, message, _ = error_of(aws["lambda"].update_function_configuration,
                                FunctionName=name,
                                Environment={"Variables": {"AWS_REGION": "x"}})
    assert code == "InvalidParameterValueException"
    assert "AWS_REGION" in message


def test_permissions_make_a_policy_as_lambda_writes_it(aws, role) -> None:
    name, created = create(aws, role, returning("policy"))
    assert error_of(aws["lambda"].get_policy, FunctionName=name) == (
        "ResourceNotFoundException", "The resource you requested does not exist.", 404)
    source = "arn:aws:execute-api:us-east-1:123456789012:abc1234567/*"
    added = aws["lambda"].add_permission(FunctionName=name, StatementId="gw",
                                         Action="lambda:InvokeFunction",
                                         Principal="apigateway.amazonaws.com",
                                         SourceArn=source)
    statement = {"Sid": "gw", "Effect": "Allow",
                 "Principal": {"Service": "apigateway.amazonaws.com"},
                 "Action": "lambda:InvokeFunction", "Resource": created["FunctionArn"],
                 "Condition": {"ArnLike": {"AWS:SourceArn": source}}}
    assert json.loads(added["Statement"]) == statement
    policy = json.loads(aws["lambda"].get_policy(FunctionName=name)["Policy"])
    assert policy == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    code, _, status = error_of(aws["lambda"].add_permission, FunctionName=name,
                               StatementId="gw", Action="lambda:InvokeFunction",
                               Principal="sns.amazonaws.com")
    assert (code, status) == ("ResourceConflictException", 409)
    aws["lambda"].remove_permission(FunctionName=name, StatementId="gw")
    assert error_of(aws["lambda"].remove_permission, FunctionName=name, StatementId="gw") == (
        "ResourceNotFoundException", "Statement gw is not found in resource policy.", 404)


def test_the_policy_of_a_deployed_function(aws, cloud) -> None:
    outputs = lifecycle.deploy(ECHO, stack_name="cp-policy")["outputs"]
    policy = json.loads(aws["lambda"].get_policy(
        FunctionName=outputs["EchoFunctionName"])["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"].endswith(f":function:{outputs['EchoFunctionName']}")
    api_id = outputs["WebSocketURL"].split("/")[3]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api_id}/*")


def test_the_gateway_follows_add_and_remove_permission(aws, cloud) -> None:
    outputs = lifecycle.deploy(ECHO, stack_name="cp-grant",
                               parameters={"GrantInvoke": "false"})["outputs"]
    url, name = outputs["WebSocketURL"], outputs["EchoFunctionName"]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10)
    assert refused.value.status_code == 500
    aws["lambda"].add_permission(FunctionName=name, StatementId="lab-fix",
                                 Action="lambda:InvokeFunction",
                                 Principal="apigateway.amazonaws.com")
    websocket.create_connection(url, timeout=10).close()
    aws["lambda"].remove_permission(FunctionName=name, StatementId="lab-fix")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10)
    assert refused.value.status_code == 500


def test_update_code_of_a_deployed_function_replaces_its_workers(aws, cloud) -> None:
    outputs = lifecycle.deploy(ECHO, stack_name="cp-sync")["outputs"]
    name = outputs["EchoFunctionName"]
    source = ("def handler(event, context):\n"
              "    return {'statusCode': 200, 'body': 'synced'}\n")
    aws["lambda"].update_function_code(FunctionName=name, ZipFile=handler_zip(source))
    aws["lambda"].get_waiter("function_updated_v2").wait(FunctionName=name)
    assert json.loads(aws["lambda"].invoke(FunctionName=name, Payload=b"{}")[
        "Payload"].read()) == {"statusCode": 200, "body": "synced"}


def layer_zip(value: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/shared_helper.py", f"VALUE = {value!r}\n")
    return buffer.getvalue()


USES_LAYER = handler_zip("import shared_helper\n"
                         "def handler(event, context):\n"
                         "    return {'value': shared_helper.VALUE}\n")


def test_layer_versions_are_published_used_listed_and_deleted(aws, role) -> None:
    layer = f"deps-{uuid.uuid4().hex[:6]}"
    one = aws["lambda"].publish_layer_version(LayerName=layer, Content={"ZipFile": layer_zip("1")},
                                              CompatibleRuntimes=["python3.12"])
    assert one["Version"] == 1 and one["LayerVersionArn"].endswith(f":layer:{layer}:1")
    name, _ = create(aws, role, USES_LAYER, Layers=[one["LayerVersionArn"]])
    assert invoke(aws, name) == {"value": "1"}
    two = aws["lambda"].publish_layer_version(LayerName=layer, Content={"ZipFile": layer_zip("2")})
    assert two["Version"] == 2
    aws["lambda"].update_function_configuration(FunctionName=name,
                                                Layers=[two["LayerVersionArn"]])
    assert invoke(aws, name) == {"value": "2"}
    listed = aws["lambda"].list_layer_versions(LayerName=layer)["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    found = aws["lambda"].get_layer_version(LayerName=layer, VersionNumber=1)
    assert found["Content"]["CodeSha256"] == one["Content"]["CodeSha256"]
    with urllib.request.urlopen(found["Content"]["Location"], timeout=10) as reply:
        assert zipfile.ZipFile(io.BytesIO(reply.read())).read(
            "python/shared_helper.py") == b"VALUE = '1'\n"
    aws["lambda"].delete_layer_version(LayerName=layer, VersionNumber=1)
    assert [v["Version"] for v in aws["lambda"].list_layer_versions(
        LayerName=layer)["LayerVersions"]] == [2]
    code, message, _ = error_of(aws["lambda"].update_function_configuration,
                                FunctionName=name, Layers=[one["LayerVersionArn"]])
    assert (code, message) == ("InvalidParameterValueException",
                               f"Layer version {one['LayerVersionArn']} does not exist.")


def test_other_lambda_operations_are_named_and_refused_not_left_to_moto(aws, role) -> None:
    name, created = create(aws, role, returning("tags"))
    code, message, status = error_of(aws["lambda"].list_tags, Resource=created["FunctionArn"])
    assert (code, status) == ("NotImplementedException", 501)
    assert message.startswith("ListTags is not emulated by the local cloud")
    code, message, _ = error_of(aws["lambda"].list_event_source_mappings, FunctionName=name)
    assert message.startswith("ListEventSourceMappings is not emulated")
