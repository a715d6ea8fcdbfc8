"""A role calling the Lambda and API Gateway V2 control planes needs the actions AWS names:
``lambda:UpdateFunctionCode`` on the function, ``apigateway:GET`` on the API's path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from workshop.emulator.apigatewayv2_api import apigatewayv2_routes
from workshop.emulator.credentials import Identity
from workshop.emulator.front_door import IDENTITY
from workshop.emulator.iam_enforcement import IamEnforcer
from workshop.emulator.lambda_api import lambda_routes
from workshop.emulator.lambda_runtime import FunctionConfig, LambdaRuntime
from workshop.emulator.settings import Settings
from workshop.emulator.websocket_api import WebSocketApis

pytestmark = pytest.mark.asyncio

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/DeployRole"
SESSION = Identity("ASIAEXAMPLE", f"arn:aws:sts::{ACCOUNT}:assumed-role/DeployRole/s", ROLE)
BEHAVIOURS = Path(__file__).parent.parent / "fixtures" / "functions" / "behaviours"
SETTINGS = Settings(port=45997)


class Policies:
    def __init__(self, *statements: dict) -> None:
        self._document = {"Version": "2012-10-17", "Statement": list(statements)}

    def documents(self, role_arn: str) -> list:
        return [self._document] if role_arn == ROLE else []

    def boundary(self, role_arn: str) -> None:
        return None


ALLOWED = Policies(
    {"Effect": "Allow", "Action": "lambda:GetFunction",
     "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo"},
    {"Effect": "Allow", "Action": "apigateway:GET",
     "Resource": "arn:aws:apigateway:us-east-1::/apis/abcdef1234"})


@web.middleware
async def as_the_role(request: web.Request, handler):
    request[IDENTITY] = SESSION  # what the front door sets for a role's signature
    return await handler(request)


@pytest_asyncio.fixture
async def server():
    runtime = LambdaRuntime(SETTINGS)
    for name in ("echo", "other"):
        runtime.put_function(FunctionConfig(name=name, handler="app.echo", code_dir=BEHAVIOURS))
    apis = WebSocketApis()
    apis.put_api("abcdef1234", name="game")
    iam = IamEnforcer(SETTINGS, policies=ALLOWED)
    app = web.Application(middlewares=[as_the_role])
    app.router.add_routes(lambda_routes(runtime, iam=iam))
    app.router.add_routes(apigatewayv2_routes(apis, SETTINGS, iam=iam))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()
    await runtime.shutdown()


async def answer(server: TestServer, method: str, path: str, body: dict | None = None):
    async with ClientSession() as client, client.request(
            method, str(server.make_url(path)), json=body) as reply:
        return (reply.status, reply.headers.get("x-amzn-ErrorType"),
                (await reply.read()).decode("utf-8", "replace"))


async def test_what_the_role_names_is_allowed_and_the_rest_refused(server) -> None:
    assert (await answer(server, "GET", "/2015-03-31/functions/echo"))[0] == 200
    assert (await answer(server, "GET", "/v2/apis/abcdef1234"))[0] == 200
    # The code package, signed by the role itself rather than presigned: GetFunction's rights.
    assert (await answer(server, "GET", "/2015-03-31/functions/echo/package"))[0] == 200
    assert (await answer(server, "GET", "/2015-03-31/functions/other/package"))[0] == 403
    status, code, text = await answer(server, "PUT", "/2015-03-31/functions/echo/code",
                                      {"ZipFile": ""})
    assert (status, code) == (403, "AccessDeniedException")
    assert ("lambda:UpdateFunctionCode on resource: "
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo") in json.loads(text)["message"]
    status, code, text = await answer(server, "GET", "/v2/apis/abcdef1234/routes")
    assert (status, code) == (403, "AccessDeniedException")
    assert "apigateway:GET on resource: arn:aws:apigateway:us-east-1::/apis/abcdef1234/routes" \
        in json.loads(text)["message"]
