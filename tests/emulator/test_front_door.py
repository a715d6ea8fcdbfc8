"""The front door's own rules: which Host names are the cloud's, no CORS ever leaves an
AWS or admin API, and each refusal is in the service's own words."""

from __future__ import annotations

import json
import logging
from xml.etree import ElementTree

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from workshop.emulator.aws_refusals import Protocol, protocol_of, signature_refusal
from workshop.emulator.credentials import ADMIN_TOKEN_HEADER, CredentialStore
from workshop.emulator.front_door import IDENTITY, FrontDoor, host_allowed, is_loopback_host
from workshop.emulator.settings import Settings
from workshop.emulator.sigv4 import Problem, RequestParts, SignatureError

STORE = CredentialStore.ephemeral(account_id="123456789012")


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "game.localhost", "127.0.0.1",
                                  "127.1.2.3", "::1", "[::1]"])
def test_loopback_names(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["attacker.example", "localhost.attacker.example",
                                  "127.0.0.1.nip.io", "10.0.0.1", "0.0.0.0", "", "[::2]"])
def test_foreign_names(host: str) -> None:
    assert not is_loopback_host(host)


def test_host_headers_with_ports_and_the_exposed_address() -> None:
    assert host_allowed("127.0.0.1:4580") and host_allowed("[::1]:4580")
    assert host_allowed("localhost")
    assert not host_allowed(None) and not host_allowed("attacker.example:4580")
    assert not host_allowed("192.168.1.20:4580")
    assert host_allowed("192.168.1.20:4580", exposed="192.168.1.20")


# -- the middleware, in front of a stand-in service ------------------------------------------


async def service(request: web.Request) -> web.Response:
    # moto answers with CORS headers when it sees an Origin; a service might regardless.
    return web.json_response({"identity": str(request.get(IDENTITY))}, headers={
        "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-amz-target"})


@pytest_asyncio.fixture
async def client():
    app = web.Application()
    door = FrontDoor(Settings(), STORE, public=lambda r: r.path.startswith("/game/"),
                     execute_api=lambda r: False)
    door.install(app)
    app.router.add_route("*", "/{tail:.*}", service)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.mark.asyncio
async def test_no_cors_header_leaves_an_admin_api(client: TestClient) -> None:
    reply = await client.get("/_workshop/status",
                             headers={ADMIN_TOKEN_HEADER: STORE.installation.admin_token})
    assert reply.status == 200
    assert not [name for name in reply.headers if name.lower().startswith("access-control-")]


@pytest.mark.asyncio
async def test_public_parts_keep_their_own_headers(client: TestClient) -> None:
    reply = await client.get("/game/index.html", headers={"Origin": "http://evil.example"})
    assert reply.status == 200 and reply.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.asyncio
async def test_the_admin_api_wants_the_token(client: TestClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="workshop.access")
    missing = await client.post("/_workshop/reset")
    wrong = await client.post("/_workshop/reset", headers={ADMIN_TOKEN_HEADER: "guess"})
    assert (missing.status, wrong.status) == (401, 403)
    assert (await missing.json())["refused"] == "token"
    assert [r.getMessage().split("[")[1][:5] for r in caplog.records] == ["token", "token"]


@pytest.mark.asyncio
async def test_an_unsigned_aws_call_never_reaches_the_service(client: TestClient) -> None:
    reply = await client.post("/", data=b"{}", headers={
        "X-Amz-Target": "DynamoDB_20120810.DeleteTable",
        "Content-Type": "application/x-amz-json-1.0"})
    assert reply.status == 400
    assert json.loads(await reply.read()) == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token"}


# -- the refusals, per protocol ----------------------------------------------------------------


def parts(**headers: str) -> RequestParts:
    return RequestParts("POST", "/", "", list(headers.items()), b"Action=Publish&"
                        b"Version=2010-03-31" if "Content-Type" in headers else b"")


def test_protocols_are_told_apart_as_aws_front_ends_do() -> None:
    assert protocol_of(parts(**{"X-Amz-Target": "DynamoDB_20120810.Scan"})) is Protocol.JSON
    assert protocol_of(parts(**{"X-Amz-Target": "AmazonSQS.SendMessage"})) is \
        Protocol.SQS_JSON
    assert protocol_of(parts(**{"Content-Type": "application/x-www-form-urlencoded"})) is \
        Protocol.QUERY
    assert protocol_of(RequestParts("POST", "/2015-03-31/functions/f/invocations", "", [])) \
        is Protocol.REST_JSON
    assert protocol_of(RequestParts("PUT", "/bucket/key", "", [])) is Protocol.S3
    assert protocol_of(parts(), execute_api=True) is Protocol.EXECUTE_API


def test_query_refusals_are_xml_error_responses_of_the_service() -> None:
    request = parts(**{"Content-Type": "application/x-www-form-urlencoded"})
    reply = signature_refusal(SignatureError(Problem.UNKNOWN_KEY, "key"), request,
                              Protocol.QUERY)
    root = ElementTree.fromstring(reply.body)
    namespace = "{http://sns.amazonaws.com/doc/2010-03-31/}"
    assert reply.status == 403 and root.tag == f"{namespace}ErrorResponse"
    assert root.find(f"{namespace}Error/{namespace}Code").text == "InvalidClientTokenId"


def test_sqs_json_refusals_carry_the_query_code_as_aws_does() -> None:
    reply = signature_refusal(SignatureError(Problem.MISSING, "unsigned"),
                              parts(**{"X-Amz-Target": "AmazonSQS.ListQueues"}),
                              Protocol.SQS_JSON)
    assert reply.headers["x-amzn-query-error"] == "MissingAuthenticationToken;Sender"


def test_s3_refusals_report_what_s3_reports() -> None:
    error = SignatureError(Problem.MISMATCH, "wrong", "AKIAEXAMPLE", "s3",
                           {"StringToSign": "AWS4-HMAC-SHA256\n…", "SignatureProvided": "ab"})
    reply = signature_refusal(error, RequestParts("GET", "/b/k", "", [("Authorization", "x")]),
                              Protocol.S3)
    root = ElementTree.fromstring(reply.body)
    assert reply.status == 403 and root.find("Code").text == "SignatureDoesNotMatch"
    assert root.find("AWSAccessKeyId").text == "AKIAEXAMPLE"
    assert root.find("StringToSign").text.startswith("AWS4-HMAC-SHA256")
