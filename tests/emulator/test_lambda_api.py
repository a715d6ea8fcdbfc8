"""The Lambda REST API answers boto3's lambda client as AWS Lambda does."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import aiohttp
import boto3
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from botocore.config import Config
from botocore.exceptions import ClientError

from workshop.emulator.lambda_api import lambda_routes
from workshop.emulator.lambda_runtime import FunctionConfig, LambdaRuntime
from workshop.emulator.settings import Settings

pytestmark = pytest.mark.asyncio

BEHAVIOURS = Path(__file__).parent.parent / "fixtures" / "functions" / "behaviours"
SETTINGS = Settings(port=45998)
ARN = SETTINGS.function_arn("echo")


@pytest_asyncio.fixture
async def runtime():
    runtime = LambdaRuntime(SETTINGS)
    for name in ("echo", "fail", "chatty"):
        runtime.put_function(FunctionConfig(name=name, handler=f"app.{name}", code_dir=BEHAVIOURS,
                                            environment={"STAGE": "test"}))
    yield runtime
    await runtime.shutdown()


@pytest_asyncio.fixture
async def server(runtime):
    app = web.Application()
    app.router.add_routes(lambda_routes(runtime))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def lambda_client(server):
    client = boto3.client(
        "lambda", endpoint_url=str(server.make_url("")), region_name=SETTINGS.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}))
    return Blocking(client)


class Blocking:
    """A boto3 client whose calls run on a thread, off the test's event loop."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        async def call(**kwargs):
            return await asyncio.to_thread(method, **kwargs)

        return call


async def test_invoke_returns_the_payload_and_a_request_id(lambda_client):
    response = await lambda_client.invoke(FunctionName="echo", Payload=b'{"action": "attack"}')
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"event": {"action": "attack"}}
    assert response["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize("name", [ARN, "123456789012:function:echo", "echo:$LATEST"])
async def test_invoke_accepts_arns_and_qualifiers(lambda_client, name):
    response = await lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(response["Payload"].read()) == {"event": {}}
    response = await lambda_client.invoke(FunctionName="echo", Qualifier="$LATEST", Payload=b"{}")
    assert response["StatusCode"] == 200


async def test_a_function_error_is_status_200_with_the_error_document(lambda_client):
    response = await lambda_client.invoke(FunctionName="fail", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the dice rolled a seven"
    assert error["stackTrace"] and error["requestId"] == response["ResponseMetadata"]["RequestId"]


async def test_log_type_tail_returns_the_end_of_the_log(lambda_client):
    response = await lambda_client.invoke(FunctionName="chatty", LogType="Tail", Payload=b"{}")
    tail = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST\n" in tail
    assert "hello from print\n" in tail
    assert tail.rstrip("\t\n").split("\n")[-1].startswith(f"REPORT RequestId: {request_id}\t")
    plain = await lambda_client.invoke(FunctionName="chatty", Payload=b"{}")
    assert "LogResult" not in plain


async def test_event_and_dry_run_invocations(lambda_client):
    queued = await lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202 and queued["Payload"].read() == b""
    dry = await lambda_client.invoke(FunctionName="echo", InvocationType="DryRun")
    assert dry["StatusCode"] == 204


async def test_an_unknown_function_is_resource_not_found(lambda_client):
    with pytest.raises(ClientError) as raised:
        await lambda_client.invoke(FunctionName="nope", Payload=b"{}")
    error = raised.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == f"Function not found: {SETTINGS.function_arn('nope')}"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        await lambda_client.get_function(FunctionName="nope")


async def test_a_payload_that_is_not_json_is_invalid_request_content(lambda_client):
    with pytest.raises(ClientError) as raised:
        await lambda_client.invoke(FunctionName="echo", Payload=b"joinroom")
    error = raised.value.response
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json:")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_error_replies_carry_lambdas_headers_and_body(server):
    async with aiohttp.ClientSession() as session:
        url = server.make_url("/2015-03-31/functions/nope/invocations")
        async with session.post(url, data=b"{}") as response:
            assert response.status == 404
            assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
            assert response.headers["x-amzn-RequestId"]
            body = await response.json()
    assert body["Type"] == "User" and body["Message"].startswith("Function not found: ")


async def test_get_function_and_list_functions(lambda_client, runtime):
    function = await lambda_client.get_function(FunctionName=ARN)
    configuration = function["Configuration"]
    assert configuration["FunctionName"] == "echo"
    assert configuration["FunctionArn"] == ARN
    assert configuration["Handler"] == "app.echo"
    assert configuration["Runtime"] == "python3.12"
    assert (configuration["Timeout"], configuration["MemorySize"]) == (3, 128)
    assert configuration["Environment"] == {"Variables": {"STAGE": "test"}}
    assert configuration["State"] == "Active"
    assert configuration["CodeSha256"] == runtime.describe_function("echo")["CodeSha256"]
    alone = await lambda_client.get_function_configuration(FunctionName="echo")
    assert alone["LastModified"] == configuration["LastModified"]
    listed = await lambda_client.list_functions()
    assert [f["FunctionName"] for f in listed["Functions"]] == ["chatty", "echo", "fail"]
    first = await lambda_client.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["chatty", "echo"]
    rest = await lambda_client.list_functions(Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in rest["Functions"]] == ["fail"]
    assert "NextMarker" not in rest


# -- a role's Invoke: its policies, or the function's own policy --------------------------------

ROLE = f"arn:aws:iam::{SETTINGS.account_id}:role/CallerRole"


class RolePolicies:
    def __init__(self, *documents: dict) -> None:
        self.by_role = {ROLE: list(documents)}

    def documents(self, role_arn: str) -> list:
        return self.by_role.get(role_arn, [])

    def boundary(self, role_arn: str) -> None:
        return None


@pytest_asyncio.fixture
async def as_role(runtime):
    """A Lambda API whose every request is made by a session of ROLE (no policies yet)."""
    from workshop.emulator.credentials import Identity
    from workshop.emulator.front_door import IDENTITY
    from workshop.emulator.iam_enforcement import IamEnforcer

    policies = RolePolicies()
    identity = Identity("ASIAEXAMPLE", f"arn:aws:sts::{SETTINGS.account_id}:assumed-role/"
                                       "CallerRole/caller", ROLE)

    @web.middleware
    async def signed_by_role(request, handler):
        request[IDENTITY] = identity
        return await handler(request)

    app = web.Application(middlewares=[signed_by_role])
    app.router.add_routes(lambda_routes(runtime, iam=IamEnforcer(SETTINGS, policies=policies)))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = boto3.client(
        "lambda", endpoint_url=str(server.make_url("")), region_name=SETTINGS.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}))
    yield Blocking(client), policies
    await server.close()


async def test_a_role_without_invoke_permission_is_refused(as_role):
    client, _ = as_role
    with pytest.raises(ClientError) as refused:
        await client.invoke(FunctionName="echo", Payload=b"{}")
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("AccessDeniedException", 403)
    assert error["Error"]["Message"] == (
        f"User: arn:aws:sts::{SETTINGS.account_id}:assumed-role/CallerRole/caller is not "
        f"authorized to perform: lambda:InvokeFunction on resource: {ARN} because no "
        "identity-based policy allows the lambda:InvokeFunction action")
    with pytest.raises(ClientError, match="lambda:GetFunction on resource"):
        await client.get_function(FunctionName="echo")


async def test_a_role_may_invoke_what_its_policy_names(as_role):
    client, policies = as_role
    policies.by_role[ROLE] = [{"Statement": [{"Effect": "Allow",
                                              "Action": "lambda:InvokeFunction",
                                              "Resource": f"{ARN}*"}]}]
    response = await client.invoke(FunctionName="echo", Payload=b"{}")
    assert response["StatusCode"] == 200
    with pytest.raises(ClientError, match="AccessDeniedException"):
        await client.invoke(FunctionName="fail", Payload=b"{}")


async def test_the_functions_own_policy_may_let_a_role_of_the_account_in(as_role, runtime):
    client, _ = as_role
    runtime.add_permission("echo", statement_id="caller", action="lambda:InvokeFunction",
                           principal=ROLE)
    assert (await client.invoke(FunctionName="echo", Payload=b"{}"))["StatusCode"] == 200
    # A statement for a service on behalf of a source ARN does not admit a role.
    runtime.add_permission("fail", statement_id="gateway", action="lambda:InvokeFunction",
                           principal="apigateway.amazonaws.com",
                           source_arn=f"arn:aws:execute-api:us-east-1:{SETTINGS.account_id}:a/*")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        await client.invoke(FunctionName="fail", Payload=b"{}")
