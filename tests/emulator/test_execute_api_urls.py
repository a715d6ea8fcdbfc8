"""execute-api addresses reach the local cloud: as URLs, and from botocore (in workers too)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import boto3
import botocore.handlers
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from workshop.emulator import execute_api_urls
from workshop.emulator.execute_api_urls import install_redirect, local_url
from workshop.emulator.lambda_runtime import FunctionConfig, LambdaRuntime
from workshop.emulator.settings import Settings

MANAGEMENT = Path(__file__).parent.parent / "fixtures" / "functions" / "management"
AWS_ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"


@pytest.mark.parametrize(("url", "expected"), [
    ("wss://abc123.execute-api.us-east-1.amazonaws.com/prod",
     "ws://127.0.0.1:4580/abc123/prod"),
    ("wss://abc123.execute-api.eu-west-1.amazonaws.com/prod?user_id=ann",
     "ws://127.0.0.1:4580/abc123/prod?user_id=ann"),
    ("https://abc123.execute-api.us-east-1.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw=",
     "http://127.0.0.1:4580/abc123/prod/@connections/L0SM9cOFvHcCIhw="),
    ("https://abc123.execute-api.us-east-1.amazonaws.com:443/dev",
     "http://127.0.0.1:4580/abc123/dev"),
    ("https://dynamodb.us-east-1.amazonaws.com/", "https://dynamodb.us-east-1.amazonaws.com/"),
    ("ws://127.0.0.1:4580/abc123/prod", "ws://127.0.0.1:4580/abc123/prod"),
    ("not a url", "not a url"),
])
def test_local_url(url, expected):
    assert local_url(url, "http://127.0.0.1:4580") == expected


def test_local_url_keeps_a_secure_endpoints_scheme():
    assert (local_url("wss://abc.execute-api.us-east-1.amazonaws.com/prod", "https://cloud:8443")
            == "wss://cloud:8443/abc/prod")


@pytest.fixture
def isolated_botocore(monkeypatch):
    """Keep the hook out of the rest of the test session's botocore sessions."""
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS",
                        list(botocore.handlers.BUILTIN_HANDLERS))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr(execute_api_urls, "_endpoint", {})


@pytest_asyncio.fixture
async def connections():
    """A stand-in for the gateway's @connections API; yields (server, posts received)."""
    posts: list[tuple[str, str, str, bytes]] = []

    async def post(request: web.Request) -> web.Response:
        info = request.match_info
        posts.append((info["api_id"], info["stage"], info["connection_id"], await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/{api_id}/{stage}/@connections/{connection_id}", post)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, posts
    await server.close()


def post_to_connection(session: boto3.session.Session | None, data: bytes) -> None:
    client = (session or boto3).client(
        "apigatewaymanagementapi", endpoint_url=AWS_ENDPOINT, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing")
    client.post_to_connection(ConnectionId="L0SM9cOFvHcCIhw=", Data=data)


@pytest.mark.asyncio
async def test_sessions_created_after_install_are_redirected(isolated_botocore, connections):
    server, posts = connections
    install_redirect(str(server.make_url("")))
    await asyncio.to_thread(post_to_connection, boto3.session.Session(), b"hello")
    assert posts == [("abc123", "prod", "L0SM9cOFvHcCIhw=", b"hello")]


@pytest.mark.asyncio
async def test_the_existing_default_session_is_redirected(isolated_botocore, connections):
    server, posts = connections
    boto3.setup_default_session()
    install_redirect(str(server.make_url("")))
    await asyncio.to_thread(post_to_connection, None, b"via boto3.client")
    assert posts == [("abc123", "prod", "L0SM9cOFvHcCIhw=", b"via boto3.client")]


@pytest.mark.asyncio
async def test_installing_again_is_harmless_and_can_move_the_endpoint(isolated_botocore,
                                                                     connections):
    server, posts = connections
    install_redirect("http://127.0.0.1:9")  # nothing listens there
    install_redirect(str(server.make_url("")))
    hooks = [spec for spec in botocore.handlers.BUILTIN_HANDLERS
             if spec[0] == "before-sign.apigatewaymanagementapi"]
    assert len(hooks) == 1
    await asyncio.to_thread(post_to_connection, boto3.session.Session(), b"once")
    assert len(posts) == 1


@pytest.mark.asyncio
async def test_a_handler_reaches_the_local_cloud_with_the_aws_address(connections):
    server, posts = connections
    runtime = LambdaRuntime(Settings(port=server.port))
    try:
        runtime.put_function(FunctionConfig(name="sendmessage", handler="app.handler",
                                            code_dir=MANAGEMENT, timeout=30))
        event = {"requestContext": {
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "stage": "prod", "connectionId": "L0SM9cOFvHcCIhw="}}
        result = await runtime.invoke("sendmessage", json.dumps(event).encode())
    finally:
        await runtime.shutdown()
    assert result.function_error is None, result.payload
    assert posts == [("abc123", "prod", "L0SM9cOFvHcCIhw=", b"hello from the handler")]
