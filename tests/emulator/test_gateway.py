"""The WebSocket gateway against real clients: websocket-client, aiohttp and boto3.

Each test runs a Gateway behind a real aiohttp server on its own thread and loop (as the
local cloud does), with a fake Lambda runtime that runs plain Python callables as
"functions" on a thread pool. Slow functions block on threading.Events the test releases,
so no assertion depends on how fast a loaded machine is.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
import websocket
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from botocore.config import Config

from workshop.emulator.gateway import Gateway
from workshop.emulator.ids import SYSTEM_CLOCK, Clock, CountingIds
from workshop.emulator.settings import Settings
from workshop.emulator.websocket_api import WebSocketApis

EVENTS = Path(__file__).resolve().parents[2] / "data" / "events"
REGION, ACCOUNT = "us-east-1", "123456789012"
API, STAGE = "k3m9x2qv7d", "dev"
HOST = f"{API}.execute-api.{REGION}.amazonaws.com"
SOURCE_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*"
WAIT = 10.0  # generous: only a broken gateway waits this long


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def function_uri(name: str) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


def eventually(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return result


# -- a fake Lambda runtime ----------------------------------------------------------------


@dataclass
class FakeInvokeResult:
    status_code: int
    payload: bytes
    function_error: str | None = None
    request_id: str = "fake-request"
    log_tail: str = ""

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class FakeRuntime:
    """Python callables as Lambda functions, with resource policies for API Gateway."""

    def __init__(self) -> None:
        self.functions: dict[str, Callable[[dict], Any]] = {}
        self.grants: dict[str, str] = {}
        self.events: dict[str, list[dict]] = defaultdict(list)
        self.finished: dict[str, int] = defaultdict(int)
        self.checked_arns: list[str] = []
        self.pool = ThreadPoolExecutor(max_workers=80)

    def add(self, name: str, handler: Callable[[dict], Any], *,
            grant: str | None = SOURCE_ARN) -> None:
        self.functions[name] = handler
        if grant is not None:
            self.grants[name] = grant

    def get_function(self, name: str) -> Callable[[dict], Any]:
        return self.functions[name]

    def invoke_allowed(self, name: str, *, principal: str, source_arn: str) -> bool:
        self.checked_arns.append(source_arn)
        pattern = self.grants.get(name)
        return (principal == "apigateway.amazonaws.com" and pattern is not None
                and fnmatch.fnmatchcase(source_arn, pattern))

    async def invoke(self, name: str, payload: bytes, *,
                     invocation_type: str = "RequestResponse") -> FakeInvokeResult:
        event = json.loads(payload)
        self.events[name].append(event)
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self.pool, self.functions[name], event)
        except Exception as error:  # noqa: BLE001 - a raising handler is a function error
            document = {"errorMessage": str(error), "errorType": type(error).__name__}
            return FakeInvokeResult(200, json.dumps(document).encode(), "Unhandled")
        finally:
            self.finished[name] += 1
        return FakeInvokeResult(200, json.dumps(answer).encode())


# -- a gateway on a real port -------------------------------------------------------------


class GatewayServer:
    """A Gateway mounted as the catch-all of an aiohttp app, on a thread of its own."""

    def __init__(self, *, ids: CountingIds | None = None, clock: Clock = SYSTEM_CLOCK,
                 **settings: Any) -> None:
        self.settings = Settings(region=REGION, account_id=ACCOUNT, **settings)
        self.apis = WebSocketApis()
        self.runtime = FakeRuntime()
        self.gateway = Gateway(self.settings, self.apis, self.runtime, clock=clock,
                               ids=ids or CountingIds())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def stop(self) -> None:
        self.call(self.gateway.close_all())
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()
        self.runtime.pool.shutdown(wait=False, cancel_futures=True)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.gateway.owns(request):
            return await self.gateway.handle(request)
        return web.Response(status=404, text="not the gateway's")

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT)

    def url(self, query: str = "", *, stage: str = STAGE) -> str:
        return f"ws://127.0.0.1:{self.port}/{API}/{stage}" + (f"?{query}" if query else "")

    def management(self) -> Any:
        return boto3.client(
            "apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{self.port}/{API}/{STAGE}",
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}))

    def deploy(self, routes: dict[str, str], *, two_way: tuple[str, ...] = (),
               auto_deploy: bool = True, credentials: str | None = None) -> None:
        """Routes (route key → function name) on integrations of those functions."""
        self.apis.put_api(API, name="game")
        for number, (route_key, function) in enumerate(routes.items()):
            self.apis.put_integration(API, f"int-{function}", integration_type="AWS_PROXY",
                                      integration_uri=function_uri(function),
                                      credentials_arn=credentials)
            self.apis.put_route(API, f"route{number}", route_key=route_key,
                                target=f"integrations/int-{function}")
            if route_key in two_way:
                self.apis.put_route_response(API, f"rr{number}", route_id=f"route{number}",
                                             route_response_key="$default")
        self.apis.put_stage(API, STAGE, auto_deploy=auto_deploy)


@contextmanager
def running_gateway(**options: Any) -> Iterator[GatewayServer]:
    server = GatewayServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server() -> Iterator[GatewayServer]:
    with running_gateway() as running:
        yield running


def ok(event: dict) -> dict:
    return {"statusCode": 200}


def echo(event: dict) -> dict:
    return {"statusCode": 200, "body": event["body"]}


def game(server: GatewayServer, **extra: str) -> GatewayServer:
    """The lab's API: $connect, $disconnect, a $default and a two-way "echo" route."""
    for name in ("Connect", "Disconnect", "Default"):
        server.runtime.add(name, ok)
    server.runtime.add("Echo", echo)
    server.deploy({"$connect": "Connect", "$disconnect": "Disconnect", "$default": "Default",
                   "echo": "Echo", **extra}, two_way=("echo",))
    return server


def connect(url: str, **options: Any) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=WAIT, **options)


def only_connection(server: GatewayServer) -> str:
    """The one open connection (the client may see its 101 before the server registers it)."""
    (connection_id,) = eventually(server.gateway.connection_ids)
    return connection_id


def refused_status(url: str) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(url)
    return refused.value.status_code


async def aiohttp_close_code(url: str, send: str | bytes | None = None) -> int | None:
    """Connect with aiohttp, optionally send one message, and wait for the server to close."""
    async with aiohttp.ClientSession() as session, session.ws_connect(
            url, max_msg_size=0) as ws:
        if isinstance(send, bytes):
            await ws.send_bytes(send)
        elif send is not None:
            await ws.send_str(send)
        while True:
            message = await ws.receive(timeout=WAIT)
            if message.type is aiohttp.WSMsgType.CLOSE:
                return message.data  # the code in the server's close frame
            if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return ws.close_code


# -- the handshake ----------------------------------------------------------------------------


def test_connect_event_has_the_shape_of_a_real_one(server: GatewayServer) -> None:
    game(server)
    connect(server.url("user_id=player-one&tag=a&tag=b")).close()

    (event,) = server.runtime.events["Connect"]
    expected = sample("websocket-connect.json")
    assert event.keys() == expected.keys()
    assert event["requestContext"].keys() == expected["requestContext"].keys()
    context = event["requestContext"]
    assert context["identity"] == {"sourceIp": "127.0.0.1"}
    assert context["routeKey"] == "$connect" and context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN" and context["stage"] == STAGE
    assert context["apiId"] == API and context["domainName"] == HOST
    assert context["connectionId"].endswith("=")
    assert context["requestId"] == context["extendedRequestId"]
    assert isinstance(context["connectedAt"], int)
    assert context["requestTimeEpoch"] >= context["connectedAt"]
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert event["queryStringParameters"] == {"user_id": "player-one", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"user_id": ["player-one"],
                                                        "tag": ["a", "b"]}
    assert event["isBase64Encoded"] is False


def test_connect_headers_are_those_api_gateway_forwards(server: GatewayServer) -> None:
    game(server)
    connect(server.url(), header=["X-Player: one"]).close()

    (event,) = server.runtime.events["Connect"]
    headers = event["headers"]
    assert headers["Host"] == HOST
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Port"] == "443" and headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert headers["Sec-WebSocket-Version"] == "13" and "Sec-WebSocket-Key" in headers
    assert headers["X-Player"] == "one"
    assert not {"Connection", "Upgrade"} & set(headers)
    assert event["multiValueHeaders"] == {name: [value] for name, value in headers.items()}
    # Without a query string the keys are absent, not empty: the seed lab's
    # event.get('queryStringParameters', {...}) depends on it.
    assert "queryStringParameters" not in event
    assert "multiValueQueryStringParameters" not in event


def test_any_origin_may_connect_and_the_handler_sees_it(server: GatewayServer) -> None:
    """API Gateway accepts a WebSocket from any Origin and passes the header on, so
    ``$connect`` (or an authorizer) can judge it; the local cloud does the same."""
    game(server)
    connect(server.url(), origin="http://evil.example").close()

    (event,) = server.runtime.events["Connect"]
    assert event["headers"]["Origin"] == "http://evil.example"


def test_identity_carries_the_user_agent_a_client_sends(server: GatewayServer) -> None:
    game(server)

    async def connect_with_aiohttp() -> None:
        headers = {"User-Agent": "trivia/1.0"}
        async with aiohttp.ClientSession(headers=headers) as session, session.ws_connect(
                server.url()):
            pass

    asyncio.run(connect_with_aiohttp())
    (event,) = server.runtime.events["Connect"]
    assert event["requestContext"]["identity"] == {"sourceIp": "127.0.0.1",
                                                   "userAgent": "trivia/1.0"}


def test_a_stage_never_deployed_answers_403_until_auto_deploy(server: GatewayServer) -> None:
    game(server)
    server.apis.put_stage(API, STAGE, auto_deploy=False)
    assert refused_status(server.url()) == 403
    assert server.runtime.events["Connect"] == []

    server.apis.put_stage(API, STAGE, auto_deploy=True)  # the lab's fix
    connect(server.url()).close()


def test_a_deployment_also_fixes_the_403(server: GatewayServer) -> None:
    game(server)
    server.apis.put_stage(API, STAGE, auto_deploy=False)
    server.apis.create_deployment(API, "dep1", stage_name=STAGE)
    connect(server.url()).close()


def test_unknown_stages_and_apis_are_refused(server: GatewayServer) -> None:
    game(server)
    assert refused_status(server.url(stage="prod")) == 403
    assert server.gateway.owns(make_mocked_request("GET", f"/{API}/{STAGE}"))
    assert not server.gateway.owns(make_mocked_request("GET", f"/unknown/{STAGE}"))
    assert not server.gateway.owns(make_mocked_request("GET", "/"))
    # The server's catch-all only hands the gateway requests for APIs it knows.
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(f"ws://127.0.0.1:{server.port}/unknown/{STAGE}")
    assert refused.value.status_code == 404


def test_a_plain_get_is_not_an_upgrade(server: GatewayServer) -> None:
    game(server)

    async def plain_get() -> int:
        url = server.url().replace("ws://", "http://")
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status

    assert asyncio.run(plain_get()) == 426


def test_missing_invoke_permission_answers_500_until_granted(server: GatewayServer) -> None:
    game(server)
    del server.runtime.grants["Connect"]
    assert refused_status(server.url()) == 500
    assert server.runtime.events["Connect"] == []  # never invoked
    assert server.runtime.checked_arns[-1] == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/{STAGE}/$connect")

    server.runtime.grants["Connect"] = SOURCE_ARN  # the lab's AWS::Lambda::Permission
    connect(server.url()).close()


def test_a_permission_for_another_api_does_not_count(server: GatewayServer) -> None:
    game(server)
    server.runtime.grants["Connect"] = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:other/*"
    assert refused_status(server.url()) == 500


def test_an_integration_role_skips_the_resource_policy(server: GatewayServer) -> None:
    server.runtime.add("Connect", ok, grant=None)
    server.deploy({"$connect": "Connect"}, credentials="arn:aws:iam::123456789012:role/ApiGw")
    connect(server.url()).close()
    assert len(server.runtime.events["Connect"]) == 1


@pytest.mark.parametrize(("answer", "status"), [
    ({"statusCode": 401, "body": "who are you?"}, 401),
    ({"statusCode": 403}, 403),
    ({"statusCode": 500, "body": "Failed to connect"}, 500),
    ({"statusCode": "400"}, 400),
])
def test_a_non_2xx_connect_answer_refuses_with_its_status(
        server: GatewayServer, answer: dict, status: int) -> None:
    game(server)
    server.runtime.functions["Connect"] = lambda event: answer
    assert refused_status(server.url()) == status
    assert server.gateway.connection_ids() == []


@pytest.mark.parametrize("answer", [{"statusCode": 204}, {"body": "hi"}, None, "ok"])
def test_a_2xx_or_statusless_connect_answer_accepts(server: GatewayServer, answer: Any) -> None:
    game(server)
    server.runtime.functions["Connect"] = lambda event: answer
    connect(server.url()).close()


def test_a_failing_connect_function_answers_502(server: GatewayServer) -> None:
    game(server)

    def crash(event: dict) -> None:
        raise RuntimeError("table not found")

    server.runtime.functions["Connect"] = crash
    assert refused_status(server.url()) == 502


def test_a_connect_function_that_does_not_exist_answers_500(server: GatewayServer) -> None:
    game(server)
    del server.runtime.functions["Connect"]
    assert refused_status(server.url()) == 500


def test_a_slow_connect_function_answers_504() -> None:
    with running_gateway(ws_integration_timeout=0.2) as server:
        release = threading.Event()
        game(server)
        server.runtime.functions["Connect"] = lambda event: release.wait(WAIT)
        try:
            assert refused_status(server.url()) == 504
        finally:
            release.set()


def test_connect_answer_can_choose_a_subprotocol(server: GatewayServer) -> None:
    game(server)
    server.runtime.functions["Connect"] = lambda event: {
        "statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "trivia.v1"}}
    ws = connect(server.url(), subprotocols=["trivia.v1", "chat"])
    try:
        assert ws.getsubprotocol() == "trivia.v1"
    finally:
        ws.close()


def test_no_connect_route_accepts_everyone(server: GatewayServer) -> None:
    server.runtime.add("Default", ok)
    server.deploy({"$default": "Default"})
    ws = connect(server.url())
    # The client may see the 101 a moment before the server thread registers it.
    assert eventually(lambda: server.gateway.connection_ids() == ["conn-0001="])
    ws.close()


def test_stage_variables_reach_the_events(server: GatewayServer) -> None:
    game(server)
    server.apis.put_stage(API, STAGE, auto_deploy=True, stage_variables={"table": "Players"})
    connect(server.url()).close()
    assert server.runtime.events["Connect"][0]["stageVariables"] == {"table": "Players"}


# -- messages ----------------------------------------------------------------------------------


def test_message_event_has_the_shape_of_a_real_one(server: GatewayServer) -> None:
    game(server)
    ws = connect(server.url())
    try:
        ws.send('{"action": "echo", "data": 1}')
        assert ws.recv() == '{"action": "echo", "data": 1}'
    finally:
        ws.close()
    (event,) = server.runtime.events["Echo"]
    expected = sample("websocket-message.json")
    assert event.keys() == expected.keys()
    assert event["requestContext"].keys() == expected["requestContext"].keys()
    context = event["requestContext"]
    assert context["routeKey"] == "echo" and context["eventType"] == "MESSAGE"
    assert context["messageId"] != context["requestId"]
    assert context["connectionId"] == server.runtime.events["Connect"][0][
        "requestContext"]["connectionId"]
    assert event["body"] == '{"action": "echo", "data": 1}'
    assert event["isBase64Encoded"] is False


def test_one_way_routes_drop_the_function_answer(server: GatewayServer) -> None:
    game(server)
    server.runtime.functions["Default"] = lambda event: {"statusCode": 500, "body": "dropped"}
    ws = connect(server.url())
    try:
        ws.send('{"action": "dance"}')
        assert eventually(lambda: server.runtime.finished["Default"] == 1)
        ws.send('{"action": "echo"}')
        assert ws.recv() == '{"action": "echo"}'  # nothing from $default came first
    finally:
        ws.close()


def test_two_way_routes_send_body_and_base64_bodies(server: GatewayServer) -> None:
    game(server)
    server.runtime.functions["Echo"] = lambda event: {
        "statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(b"\x00\x01").decode()}
    ws = connect(server.url())
    try:
        ws.send('{"action": "echo"}')
        opcode, data = ws.recv_data()
        assert (opcode, data) == (websocket.ABNF.OPCODE_BINARY, b"\x00\x01")
    finally:
        ws.close()


def test_binary_messages_are_refused_with_1003(server: GatewayServer) -> None:
    # API Gateway takes no binary frames from clients (tests/emulator/test_ws_frames.py).
    game(server)
    assert asyncio.run(aiohttp_close_code(server.url(), send=b"\xff\xfe raw bytes")) == 1003
    (event,) = eventually(lambda: server.runtime.events["Disconnect"])
    assert event["requestContext"]["disconnectStatusCode"] == 1003
    assert server.runtime.events["Default"] == []


def frame_pattern(message: str) -> str:
    return (r'\{"message": "' + message + r'", "connectionId":"conn-\d+=", '
            r'"requestId":"gwreq-\d+="\}')


def test_no_route_and_no_default_gets_api_gateways_forbidden_frame(
        server: GatewayServer) -> None:
    server.runtime.add("Echo", echo)
    server.deploy({"echo": "Echo"}, two_way=("echo",))
    ws = connect(server.url())
    try:
        ws.send('{"action": "dance"}')
        assert re.fullmatch(frame_pattern("Forbidden"), ws.recv())
        ws.send("not json")
        assert re.fullmatch(frame_pattern("Forbidden"), ws.recv())
        ws.send('{"action": "echo"}')  # the connection is still open
        assert ws.recv() == '{"action": "echo"}'
    finally:
        ws.close()


def test_failing_functions_get_internal_server_error_and_the_socket_stays(
        server: GatewayServer) -> None:
    game(server, crash="Crash", locked="Locked")

    def crash(event: dict) -> None:
        raise ValueError("bad move")

    server.runtime.add("Crash", crash)
    server.runtime.add("Locked", ok, grant=None)  # no AWS::Lambda::Permission
    ws = connect(server.url())
    try:
        ws.send('{"action": "crash"}')
        assert re.fullmatch(frame_pattern("Internal server error"), ws.recv())
        ws.send('{"action": "locked"}')
        assert re.fullmatch(frame_pattern("Internal server error"), ws.recv())
        assert server.runtime.events["Locked"] == []
        assert server.runtime.checked_arns[-1].endswith(f"{API}/{STAGE}/locked")
        ws.send('{"action": "echo"}')
        assert ws.recv() == '{"action": "echo"}'
    finally:
        ws.close()


def test_a_slow_function_times_out_with_api_gateways_message() -> None:
    with running_gateway(ws_integration_timeout=0.2) as server:
        release = threading.Event()
        game(server)
        server.runtime.functions["Default"] = lambda event: release.wait(WAIT)
        ws = connect(server.url())
        try:
            ws.send("slow")
            assert re.fullmatch(frame_pattern("Endpoint request timed out"), ws.recv())
        finally:
            release.set()
            ws.close()


def test_messages_of_one_connection_are_handled_concurrently(server: GatewayServer) -> None:
    game(server)
    release = threading.Event()

    def slow_echo(event: dict) -> dict:
        if "slow" in event["body"]:
            release.wait(WAIT)
        return echo(event)

    server.runtime.functions["Echo"] = slow_echo
    ws = connect(server.url())
    try:
        ws.send('{"action": "echo", "n": "slow"}')
        ws.send('{"action": "echo", "n": "fast"}')
        assert ws.recv() == '{"action": "echo", "n": "fast"}'  # overtakes, as on AWS
        release.set()
        assert ws.recv() == '{"action": "echo", "n": "slow"}'
    finally:
        release.set()
        ws.close()


def test_fifty_connections_and_a_stuck_one(server: GatewayServer) -> None:
    game(server)
    release = threading.Event()
    server.runtime.functions["Default"] = lambda event: release.wait(WAIT)

    async def clients() -> set[str]:
        async with aiohttp.ClientSession() as session:
            stuck = await session.ws_connect(server.url())
            await stuck.send_str("blocks a worker until released")
            sockets = await asyncio.gather(*(session.ws_connect(server.url()) for _ in range(50)))
            for number, ws in enumerate(sockets):
                await ws.send_str(json.dumps({"action": "echo", "n": number}))
            replies = [json.loads(await ws.receive_str(timeout=WAIT)) for ws in sockets]
            assert [reply["n"] for reply in replies] == list(range(50))
            ids = set(server.gateway.connection_ids())
            release.set()
            await asyncio.gather(*(ws.close() for ws in [stuck, *sockets]))
            return ids

    try:
        assert len(asyncio.run(clients())) == 51
    finally:
        release.set()


# -- $disconnect -----------------------------------------------------------------------------


def test_disconnect_event_after_a_client_close(server: GatewayServer) -> None:
    game(server)
    ws = connect(server.url())
    ws.close(status=1000, reason=b"bye")
    (event,) = eventually(lambda: server.runtime.events["Disconnect"])
    expected = sample("websocket-disconnect.json")
    assert event.keys() == expected.keys()
    assert event["requestContext"].keys() == expected["requestContext"].keys()
    assert event["headers"].keys() == expected["headers"].keys()
    context = event["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1000, "bye")
    assert context["routeKey"] == "$disconnect" and context["eventType"] == "DISCONNECT"
    assert event["headers"]["Host"] == HOST
    assert server.gateway.connection_ids() == []


def test_close_without_a_status_code_is_1005(server: GatewayServer) -> None:
    game(server)
    ws = connect(server.url())
    ws.send(b"", opcode=websocket.ABNF.OPCODE_CLOSE)  # a close frame with no payload
    (event,) = eventually(lambda: server.runtime.events["Disconnect"])
    assert event["requestContext"]["disconnectStatusCode"] == 1005
    assert event["requestContext"]["disconnectReason"] == (
        "Client-side close frame status not set")
    ws.shutdown()


def test_a_failing_disconnect_is_only_logged(server: GatewayServer,
                                             caplog: pytest.LogCaptureFixture) -> None:
    game(server)

    def crash(event: dict) -> None:
        raise RuntimeError("cleanup failed")

    server.runtime.functions["Disconnect"] = crash
    connect(server.url()).close()
    assert eventually(lambda: server.runtime.finished["Disconnect"] == 1)
    assert eventually(lambda: "cleanup failed" in caplog.text)
    connect(server.url()).close()  # the gateway carries on


# -- quotas ------------------------------------------------------------------------------------


def test_a_message_above_the_quota_closes_with_1009() -> None:
    with running_gateway(ws_max_message_bytes=1024) as server:
        game(server)

        async def exactly_the_quota_passes() -> str:
            async with aiohttp.ClientSession() as session, session.ws_connect(
                    server.url(), max_msg_size=0) as ws:
                body = json.dumps({"action": "echo", "pad": ""})
                body = body.replace('""', '"' + "x" * (1024 - len(body)) + '"')
                await ws.send_str(body)
                return await ws.receive_str(timeout=WAIT)

        assert len(asyncio.run(exactly_the_quota_passes())) == 1024
        assert asyncio.run(aiohttp_close_code(server.url(), send="x" * 1025)) == 1009
        assert asyncio.run(aiohttp_close_code(server.url(), send=b"x" * 1025)) == 1009
        disconnects = eventually(lambda: len(server.runtime.events["Disconnect"]) == 3 and
                                 server.runtime.events["Disconnect"])
        codes = [e["requestContext"]["disconnectStatusCode"] for e in disconnects]
        assert sorted(codes) == [1000, 1009, 1009]


def test_an_idle_connection_is_closed_with_1001() -> None:
    with running_gateway(ws_idle_timeout=0.3) as server:
        game(server)
        assert asyncio.run(aiohttp_close_code(server.url())) == 1001
        (event,) = eventually(lambda: server.runtime.events["Disconnect"])
        assert event["requestContext"]["disconnectStatusCode"] == 1001


class SteppedClock(Clock):
    """Monotonic time the test moves by hand; ``reads`` counts the gateway's looks at it."""

    def __init__(self) -> None:
        super().__init__(monotonic=self._read)
        self.now_s = 0.0
        self.reads = 0

    def _read(self) -> float:
        self.reads += 1
        return self.now_s

    def move_to(self, seconds: float) -> None:
        """Set the time, then wait until the gateway has looked at it twice."""
        self.now_s = seconds
        seen = self.reads
        assert eventually(lambda: self.reads >= seen + 2)


def test_messages_in_either_direction_keep_a_connection_alive() -> None:
    clock = SteppedClock()
    with running_gateway(clock=clock, ws_idle_timeout=0.2) as server:
        game(server)
        ws = connect(server.url())
        connection_id = only_connection(server)
        clock.move_to(0.15)
        server.management().post_to_connection(ConnectionId=connection_id, Data=b"hi")
        assert ws.recv() == "hi"
        clock.move_to(0.3)  # past the first deadline, not past the one the post set
        assert server.gateway.connection_ids() == [connection_id]
        ws.send("from the client")
        assert eventually(lambda: server.runtime.events["Default"])
        clock.move_to(0.45)
        assert server.gateway.connection_ids() == [connection_id]
        clock.now_s = 0.6  # idle since 0.3: the next look closes it
        opcode, frame = ws.recv_data_frame()
        assert (opcode, frame.data[:2]) == (websocket.ABNF.OPCODE_CLOSE, b"\x03\xe9")  # 1001
        (event,) = eventually(lambda: server.runtime.events["Disconnect"])
        assert event["requestContext"]["disconnectStatusCode"] == 1001


def test_a_connection_is_closed_at_the_end_of_its_lifetime() -> None:
    with running_gateway(ws_max_lifetime=0.3) as server:
        game(server)
        assert asyncio.run(aiohttp_close_code(server.url())) == 1001
        (event,) = eventually(lambda: server.runtime.events["Disconnect"])
        assert event["requestContext"]["disconnectStatusCode"] == 1001


def test_close_all_closes_every_socket_and_runs_disconnect(server: GatewayServer) -> None:
    game(server)

    async def scenario() -> list[int | None]:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(server.url()) for _ in range(3)]
            asyncio.run_coroutine_threadsafe(server.gateway.close_all(), server.loop)
            # The code in the close frame each client received. (ws.close_code can read
            # 1006 when aiohttp drops the transport before the client's reply is written.)
            return [(await ws.receive(timeout=WAIT)).data for ws in sockets]

    assert asyncio.run(scenario()) == [1001, 1001, 1001]
    assert eventually(lambda: len(server.runtime.events["Disconnect"]) == 3)
    assert server.gateway.connection_ids() == []


# -- @connections ------------------------------------------------------------------------------


class AwkwardIds(CountingIds):
    """Connection ids with every character that needs URL-encoding in a path."""

    def connection_id(self) -> str:
        return "Ab+/Cd" + super().connection_id()


def test_post_get_delete_with_boto3() -> None:
    with running_gateway(ids=AwkwardIds()) as server:
        game(server)
        client = server.management()
        ws = connect(server.url(), header=["User-Agent: lab-client"])
        try:
            connection_id = only_connection(server)
            assert "+" in connection_id and "/" in connection_id and "=" in connection_id

            client.post_to_connection(ConnectionId=connection_id, Data=b'{"ping": 1}')
            assert ws.recv_data() == (websocket.ABNF.OPCODE_TEXT, b'{"ping": 1}')

            info = client.get_connection(ConnectionId=connection_id)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "lab-client"}
            assert info["ConnectedAt"] <= info["LastActiveAt"]
            assert info["ConnectedAt"].tzinfo is not None

            assert client.delete_connection(ConnectionId=connection_id)[
                "ResponseMetadata"]["HTTPStatusCode"] == 204
            assert ws.recv_data()[0] == websocket.ABNF.OPCODE_CLOSE
            (event,) = eventually(lambda: server.runtime.events["Disconnect"])
            assert event["requestContext"]["connectionId"] == connection_id
            with pytest.raises(client.exceptions.GoneException):
                client.post_to_connection(ConnectionId=connection_id, Data=b"late")
            with pytest.raises(client.exceptions.GoneException):
                client.get_connection(ConnectionId=connection_id)
            with pytest.raises(client.exceptions.GoneException):
                client.delete_connection(ConnectionId=connection_id)
        finally:
            ws.shutdown()


def test_post_to_a_closed_or_unknown_connection_is_gone(server: GatewayServer) -> None:
    game(server)
    client = server.management()
    ws = connect(server.url())
    connection_id = only_connection(server)
    ws.close()
    eventually(lambda: server.gateway.connection_ids() == [])
    with pytest.raises(client.exceptions.GoneException) as gone:
        client.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="never-was=", Data=b"x")


def test_a_connection_does_not_exist_until_connect_returns(server: GatewayServer) -> None:
    game(server)
    release = threading.Event()

    def slow_connect(event: dict) -> dict:
        release.wait(WAIT)
        return {"statusCode": 200}

    server.runtime.functions["Connect"] = slow_connect
    client = server.management()
    opened: list[websocket.WebSocket] = []
    opener = threading.Thread(target=lambda: opened.append(connect(server.url())))
    opener.start()
    try:
        (event,) = eventually(lambda: server.runtime.events["Connect"])
        connection_id = event["requestContext"]["connectionId"]
        with pytest.raises(client.exceptions.GoneException):  # as AWS: 410 during $connect
            client.post_to_connection(ConnectionId=connection_id, Data=b"too early")
    finally:
        release.set()
        opener.join(WAIT)
    client.post_to_connection(ConnectionId=connection_id, Data=b"welcome")
    assert opened[0].recv() == "welcome"
    opened[0].close()


def test_post_above_the_quota_is_payload_too_large() -> None:
    with running_gateway(ws_max_message_bytes=1024) as server:
        game(server)
        client = server.management()
        ws = connect(server.url())
        try:
            connection_id = only_connection(server)
            with pytest.raises(client.exceptions.PayloadTooLargeException):
                client.post_to_connection(ConnectionId=connection_id, Data=b"x" * 1025)
            client.post_to_connection(ConnectionId=connection_id, Data=b"x" * 1024)
            assert ws.recv() == "x" * 1024
        finally:
            ws.close()


def test_management_api_of_an_unknown_stage_is_forbidden(server: GatewayServer) -> None:
    game(server)
    client = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{server.port}/{API}/prod",
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    with pytest.raises(client.exceptions.ForbiddenException):
        client.post_to_connection(ConnectionId="conn-0001=", Data=b"x")


# -- REQUEST authorizers ---------------------------------------------------------------------


def policy(effect: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": SOURCE_ARN}]}


def authorizer(event: dict) -> dict:
    token = event["queryStringParameters"].get("token")
    if token == "crash":
        raise RuntimeError("Unauthorized")
    effect = "Allow" if token == "good" else "Deny"
    return {"principalId": "player-one", "policyDocument": policy(effect),
            "context": {"tier": "gold"}}


def with_authorizer(server: GatewayServer) -> GatewayServer:
    game(server)
    server.runtime.add("Auth", authorizer)
    server.apis.put_authorizer(API, "auth1", authorizer_type="REQUEST",
                               authorizer_uri=function_uri("Auth"),
                               identity_source=["route.request.querystring.token"])
    server.apis.put_route(API, "route0", route_key="$connect", target="integrations/int-Connect",
                          authorization_type="CUSTOM", authorizer_id="auth1")
    return server


def test_authorizer_refusals(server: GatewayServer) -> None:
    with_authorizer(server)
    assert refused_status(server.url()) == 401  # identity source missing: not even invoked
    assert server.runtime.events["Auth"] == []
    assert refused_status(server.url("token=bad")) == 403
    assert refused_status(server.url("token=crash")) == 401
    assert server.runtime.events["Connect"] == []


def test_an_allowed_connection_carries_the_authorizer_context(server: GatewayServer) -> None:
    with_authorizer(server)
    ws = connect(server.url("token=good"))
    try:
        ws.send('{"action": "echo"}')
        ws.recv()
    finally:
        ws.close()
    (auth_event,) = server.runtime.events["Auth"]
    expected = sample("websocket-authorizer-request.json")
    assert auth_event.keys() == expected.keys()
    assert auth_event["requestContext"].keys() == expected["requestContext"].keys()
    assert auth_event["methodArn"] == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/{STAGE}/$connect")
    assert auth_event["headers"]["Upgrade"] == "websocket"
    assert server.runtime.checked_arns[0] == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/authorizers/auth1")
    for name in ("Connect", "Echo"):
        context = server.runtime.events[name][0]["requestContext"]
        assert context["authorizer"] == {"principalId": "player-one", "tier": "gold"}
