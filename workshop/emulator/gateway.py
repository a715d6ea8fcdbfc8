"""The API Gateway WebSocket data plane: sockets, Lambda proxy events and ``@connections``.

This is the I/O shell around :mod:`.websocket_api` (the pure model). On the local cloud's
one port it serves, for every API the deployer registered:

* ``GET /{apiId}/{stage}?query`` with ``Upgrade: websocket`` — a client connection, as
  ``wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`` would on AWS;
* ``POST|GET|DELETE /{apiId}/{stage}/@connections/{connectionId}`` — the management API,
  spoken by botocore's ``apigatewaymanagementapi`` client with
  ``endpoint_url="http://127.0.0.1:PORT/{apiId}/{stage}"``.

What learners see is what AWS does (each point is tested):

* the handshake answers 403 when the stage was never deployed, 401/403 when a REQUEST
  authorizer refuses, 500 when the function's resource policy does not let
  ``apigateway.amazonaws.com`` invoke it (the seed lab's two failures), 502 when the
  ``$connect`` function fails, 504 when it times out, and the function's own ``statusCode``
  when that is not 2xx. Until ``$connect`` returns, the connection does not exist:
  ``@connections`` answers 410 GoneException, as on AWS;
* messages select a route with the API's RouteSelectionExpression and invoke its function
  with the MESSAGE event. Like API Gateway, messages of one connection are processed
  concurrently (no ordering): each message is its own task. A route with a route response
  (two-way) sends the function's ``body`` back; otherwise the answer is dropped;
* API Gateway's own error frames: ``{"message": "Forbidden", "connectionId":…,
  "requestId":…}`` (no route and no ``$default``), ``"Internal server error"`` (the function
  failed or may not be invoked), ``"Endpoint request timed out"`` (29 s integration
  timeout); the connection stays open;
* quotas from :class:`~.settings.Settings`: a message above 128 KB, or a frame above
  32 KB (a longer message must be sent in several frames), closes the socket with 1009
  (:mod:`.ws_frames` watches the frames, which aiohttp's reader does not); 10 minutes
  without a message (either direction) or 2 hours of life close it with 1001;
* a binary frame closes the socket with 1003: API Gateway does not accept binary frames
  from clients (text that is not valid UTF-8 breaks the WebSocket protocol itself:
  aiohttp closes with 1007, as RFC 6455 asks; AWS documents no code for it);
* ``$disconnect`` runs after every close, best effort, failures only logged.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from aiohttp import WSMsgType, web

from .front_door import IDENTITY
from .iam_enforcement import IamEnforcer, refusal_response
from .iam_requests import manage_connections_call
from .ids import RANDOM_IDS, SYSTEM_CLOCK, Clock, IdSource
from .lambda_runtime import LambdaError, ServiceEvent
from .settings import Settings
from .websocket_api import (
    CONNECT,
    DISCONNECT,
    Authorizer,
    ResolvedRoute,
    RouteTable,
    WebSocketApis,
    policy_allows,
    select_route,
)
from .ws_frames import FrameQuotaResponse

__all__ = ["CloseReason", "Gateway", "LambdaInvoker"]

log = logging.getLogger("workshop.gateway")

APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
_CONNECTIONS = "@connections"
# Where _path_parts keeps them on a request.
_PATH_PARTS = web.RequestKey("workshop_gateway_path_parts", list)
# Handshake headers API Gateway does not pass to the $connect integration.
_NOT_FORWARDED = frozenset({"connection", "upgrade", "host", "content-length",
                            "x-forwarded-port", "x-forwarded-proto"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# How long close_all() waits for handshakes, $disconnect calls and message tasks.
_SHUTDOWN_GRACE = 5.0


class LambdaInvoker(Protocol):
    """What the gateway needs from the Lambda runtime."""

    def invoke(self, name: str, payload: bytes, *,
               invocation_type: str = "RequestResponse") -> Awaitable[Any]: ...

    def invoke_allowed(self, name: str, *, principal: str, source_arn: str) -> bool: ...

    def get_function(self, name: str) -> Any: ...


@dataclass(frozen=True)
class CloseReason:
    """The close code the client gets and ``disconnectStatusCode``/``Reason`` $disconnect sees."""

    code: int
    reason: str


# AWS documents 1009 for oversized messages; 1005's reason is what a real $disconnect
# event carries; the others are this emulator's choice (AWS does not document them).
NO_STATUS = CloseReason(1005, "Client-side close frame status not set")
ABNORMAL = CloseReason(1006, "Connection closed abnormally")
TOO_BIG = CloseReason(1009, "Message too big")
BINARY = CloseReason(1003, "Binary frames are not supported")
IDLE = CloseReason(1001, "Going away")
LIFETIME = CloseReason(1001, "Going away")
DELETED = CloseReason(1000, "Connection deleted via @connections")
SHUTDOWN = CloseReason(1001, "Going away")


class _Failure(enum.Enum):
    """An integration that did not answer: the error frame text and the handshake status."""

    CONFIGURATION = ("Internal server error", 500)
    FUNCTION_ERROR = ("Internal server error", 502)
    TIMEOUT = ("Endpoint request timed out", 504)

    @property
    def message(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


@dataclass(frozen=True)
class _Outcome:
    failure: _Failure | None = None
    answer: Any = None  # the function's JSON answer (its error document on FUNCTION_ERROR)
    payload: bytes = b""


@dataclass(eq=False)
class _Connection:
    connection_id: str
    api_id: str
    stage: str
    source_ip: str
    user_agent: str | None
    connected_at: int  # epoch ms, as in the events
    started: float  # monotonic seconds, for the lifetime quota
    last_active: float  # monotonic seconds, for the idle quota
    last_active_at: int  # epoch ms, for GetConnection
    authorizer: dict[str, Any] | None = None
    ws: web.WebSocketResponse | None = None
    close: CloseReason | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    watchdog: asyncio.TimerHandle | None = None  # enforces the idle and lifetime quotas

    def touch(self, clock: Clock) -> None:
        self.last_active = clock.monotonic()
        self.last_active_at = clock.now_ms()


class Gateway:
    """Serves every WebSocket API of a :class:`WebSocketApis` registry."""

    def __init__(self, settings: Settings, apis: WebSocketApis, runtime: LambdaInvoker, *,
                 clock: Clock = SYSTEM_CLOCK, ids: IdSource = RANDOM_IDS,
                 iam: IamEnforcer | None = None) -> None:
        self._settings = settings
        # Checks @connections calls made with a role's credentials (ManageConnections).
        self._iam = iam
        self._apis = apis
        self._runtime = runtime
        self._clock = clock
        self._ids = ids
        self._connections: dict[str, _Connection] = {}  # open ones only
        self._handshakes: set[_Connection] = set()  # from upgrade request to handler exit
        self._tasks: set[asyncio.Future[None]] = set()

    # -- the server's entry points ------------------------------------------------------

    def owns(self, request: web.Request) -> bool:
        """Whether the first path segment is the id of a registered API."""
        parts = _path_parts(request)
        return bool(parts) and self._apis.has_api(parts[0])

    def serves_publicly(self, request: web.Request) -> bool:
        """Whether the request is for a client connection (``/{apiId}/{stage}``), which
        anyone may open, as on AWS, rather than an ``@connections`` call (signed)."""
        return self.owns(request) and not _is_management(_path_parts(request))

    def is_management(self, request: web.Request) -> bool:
        """Whether the request is an ``@connections`` call of a registered API."""
        return self.owns(request) and _is_management(_path_parts(request))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        parts = _path_parts(request)
        if len(parts) == 2 and request.method == "GET":
            return await self._open(request, parts[0], parts[1])
        if len(parts) == 4 and parts[2] == _CONNECTIONS:
            return await self._manage(request, parts[0], parts[1], parts[3])
        return _message_response(403, "Forbidden")

    def connection_ids(self) -> list[str]:
        return list(self._connections)

    async def close_all(self) -> None:
        """Close every socket (1001) and wait, boundedly, for their ``$disconnect`` calls."""
        live = list(self._handshakes)
        await asyncio.gather(*(self._close(c, SHUTDOWN) for c in live), return_exceptions=True)
        deadline = asyncio.get_running_loop().time() + _SHUTDOWN_GRACE
        await _wait_until([asyncio.ensure_future(c.finished.wait()) for c in live], deadline)
        # Then the $disconnect calls those handlers spawned, and messages still in flight.
        await _wait_until(list(self._tasks), deadline)

    # -- connections ----------------------------------------------------------------------

    async def _open(self, request: web.Request, api_id: str, stage: str) -> web.StreamResponse:
        table = self._apis.resolve(api_id, stage)
        if table is None:
            # An unknown stage, or one never deployed: the seed lab's first failure.
            return _message_response(403, "Forbidden")
        if not web.WebSocketResponse().can_prepare(request).ok:
            return _message_response(426, "Upgrade Required")
        conn = self._new_connection(request, api_id, stage)
        self._handshakes.add(conn)
        try:
            admitted = await self._admit(conn, request, table)
            if isinstance(admitted, web.StreamResponse):
                return admitted
            return await self._serve(conn, request, admitted)
        finally:
            self._handshakes.discard(conn)
            conn.finished.set()

    def _new_connection(self, request: web.Request, api_id: str, stage: str) -> _Connection:
        connection_id = self._ids.connection_id()
        while connection_id in self._connections:
            connection_id = self._ids.connection_id()
        now, now_ms = self._clock.monotonic(), self._clock.now_ms()
        return _Connection(connection_id, api_id, stage, request.remote or "127.0.0.1",
                           request.headers.get("User-Agent"), now_ms, now, now, now_ms)

    async def _admit(self, conn: _Connection, request: web.Request,
                     table: RouteTable) -> web.StreamResponse | dict[str, str]:
        """Authorize and run ``$connect``: a response refuses, headers accept the handshake."""
        route = table.route(CONNECT)
        if route is None:
            return {}
        if route.authorization_type == "CUSTOM":
            refusal = await self._authorize(conn, request, route, table)
            if refusal is not None:
                return refusal
        event = self._connect_event(conn, request, table)
        outcome = await self._integrate(conn, route, event)
        if outcome.failure is not None:
            return _message_response(outcome.failure.status, outcome.failure.message)
        status, headers, body = _proxy_answer(outcome.answer)
        if not 200 <= status < 300:
            return web.Response(status=status, text=body)
        return headers

    async def _serve(self, conn: _Connection, request: web.Request,
                     headers: Mapping[str, str]) -> web.StreamResponse:
        protocol = headers.get("Sec-WebSocket-Protocol")
        # compress=False: API Gateway does not negotiate permessage-deflate. aiohttp
        # refuses a message of max_msg_size bytes or more, so allow exactly the quota.
        ws = FrameQuotaResponse(
            max_frame_size=self._settings.ws_max_frame_bytes,
            protocols=[protocol] if protocol else (), compress=False,
            max_msg_size=self._settings.ws_max_message_bytes + 1, timeout=_SHUTDOWN_GRACE)
        ws.headers.update({k: v for k, v in headers.items()
                           if k.lower() != "sec-websocket-protocol"})
        try:
            await ws.prepare(request)
            # Only a prepared socket may be closed: aiohttp's close() during prepare()
            # aborts the transport (1006). A close_all meanwhile is seen by _pump.
            conn.ws = ws
            self._connections[conn.connection_id] = conn
            await self._pump(conn)
        except ConnectionError:
            conn.close = conn.close or ABNORMAL
        finally:
            self._connections.pop(conn.connection_id, None)
            self._spawn(self._disconnect(conn))
        return ws

    async def _pump(self, conn: _Connection) -> None:
        """Receive until the socket closes; :meth:`_watch` enforces the quotas."""
        ws = conn.ws
        assert ws is not None
        self._watch(conn)
        try:
            await self._receive_all(conn, ws)
        finally:
            if conn.watchdog is not None:
                conn.watchdog.cancel()

    async def _receive_all(self, conn: _Connection, ws: web.WebSocketResponse) -> None:
        while True:
            if conn.close is not None:  # closed by the server (close_all during $connect)
                await self._close(conn, conn.close)
                return
            # No timeout here: a timer per message was a measurable cost under load.
            message = await ws.receive()
            if message.type is WSMsgType.BINARY:
                # API Gateway rejects a binary frame and disconnects the client (1003).
                await self._close(conn, BINARY)
                return
            if message.type is WSMsgType.TEXT:
                conn.touch(self._clock)
                self._spawn(self._on_message(conn, message.data))
                continue
            if conn.close is None:
                conn.close = _client_close(message)
            return

    def _watch(self, conn: _Connection) -> None:
        """Close the connection at its idle or lifetime deadline, looking again when that
        comes, since messages (either direction) move the idle one."""
        reason, wait = self._deadline(conn)
        if wait > 0:
            conn.watchdog = asyncio.get_running_loop().call_later(wait, self._watch, conn)
        elif conn.close is None:
            conn.close = reason  # from now on the connection is gone for @connections
            self._spawn(self._close(conn, reason))

    def _deadline(self, conn: _Connection) -> tuple[CloseReason, float]:
        now = self._clock.monotonic()
        idle_at = conn.last_active + self._settings.ws_idle_timeout
        end_of_life = conn.started + self._settings.ws_max_lifetime
        if end_of_life <= idle_at:
            return LIFETIME, end_of_life - now
        return IDLE, idle_at - now

    async def _close(self, conn: _Connection, reason: CloseReason) -> None:
        if conn.close is None:
            conn.close = reason
        self._connections.pop(conn.connection_id, None)
        if conn.ws is not None and not conn.ws.closed:
            try:
                await conn.ws.close(code=reason.code, message=reason.reason.encode())
            except (ConnectionError, RuntimeError):
                pass  # the client is already gone

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- messages ---------------------------------------------------------------------------

    async def _on_message(self, conn: _Connection, data: str | bytes) -> None:
        request_id = self._ids.gateway_request_id()
        table = self._apis.resolve(conn.api_id, conn.stage)
        text, body, is_base64 = _message_body(data)
        route_key = select_route(table, text) if table is not None else None
        if table is None or route_key is None:
            await self._send(conn, _error_frame("Forbidden", conn.connection_id, request_id))
            return
        route = table.routes[route_key]
        event = {"requestContext": self._context(conn, route_key, "MESSAGE", request_id,
                                                 message_id=self._ids.gateway_request_id()),
                 "body": body, "isBase64Encoded": is_base64, **_stage_variables(table)}
        outcome = await self._integrate(conn, route, event)
        if outcome.failure is not None:
            frame = _error_frame(outcome.failure.message, conn.connection_id, request_id)
            await self._send(conn, frame)
        elif route.two_way:
            reply = _route_response(outcome)
            if reply is not None:
                await self._send(conn, reply)

    async def _send(self, conn: _Connection, data: str | bytes) -> bool:
        ws = conn.ws
        if ws is None or ws.closed or conn.close is not None:
            return False
        try:
            if isinstance(data, bytes):
                await ws.send_bytes(data)
            else:
                await ws.send_str(data)
        except (ConnectionError, RuntimeError):
            return False
        conn.touch(self._clock)  # API Gateway's idle timer counts both directions
        return True

    async def _disconnect(self, conn: _Connection) -> None:
        """Best effort, like AWS: failures are logged, never raised."""
        table = self._apis.resolve(conn.api_id, conn.stage)
        route = table.route(DISCONNECT) if table is not None else None
        if route is None:
            return
        close = conn.close or ABNORMAL
        host = self._settings.execute_api_host(conn.api_id)
        # The headers a real DISCONNECT event carries.
        headers = {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
        event = {"headers": headers,
                 "multiValueHeaders": {k: [v] for k, v in headers.items()},
                 "requestContext": self._context(conn, DISCONNECT, "DISCONNECT",
                                                 self._ids.gateway_request_id(), close=close),
                 "isBase64Encoded": False, **_stage_variables(table)}
        try:
            await self._integrate(conn, route, event)
        except Exception:
            log.exception("%s/%s $disconnect of %s failed", conn.api_id, conn.stage,
                          conn.connection_id)

    # -- integrations -------------------------------------------------------------------------

    async def _integrate(self, conn: _Connection, route: ResolvedRoute,
                         event: dict[str, Any]) -> _Outcome:
        integration = route.integration
        where = f"{conn.api_id}/{conn.stage} {route.route_key}"
        if integration is None or integration.integration_type == "MOCK":
            return _Outcome()
        if integration.integration_type != "AWS_PROXY":
            log.warning("%s: integration type %s is not emulated (use AWS_PROXY)",
                        where, integration.integration_type)
            return _Outcome(_Failure.CONFIGURATION)
        timeout = self._settings.ws_integration_timeout
        if integration.timeout_ms is not None:
            timeout = min(timeout, integration.timeout_ms / 1000)
        return await self._call_lambda(
            integration.function_name, event, where=where, timeout=timeout,
            source_arn=None if integration.credentials_arn else self._source_arn(
                conn.api_id, f"{conn.stage}/{route.route_key}"))

    def _source_arn(self, api_id: str, resource: str) -> str:
        return self._settings.arn("execute-api", f"{api_id}/{resource}")

    async def _call_lambda(self, name: str | None, event: dict[str, Any], *, where: str,
                           timeout: float, source_arn: str | None) -> _Outcome:
        """Invoke ``name`` as API Gateway does; ``source_arn`` None skips the policy check.

        An integration with a credentials role is invoked with that role, so the
        function's resource policy is not consulted.
        """
        if name is None or not self._function_exists(name):
            log.warning("%s: Execution failed due to configuration error: "
                        "Invalid function ARN or invalid uri (%s)", where, name)
            return _Outcome(_Failure.CONFIGURATION)
        if source_arn is not None and not self._runtime.invoke_allowed(
                name, principal=APIGATEWAY_PRINCIPAL, source_arn=source_arn):
            log.warning("%s: Execution failed due to configuration error: Invalid permissions "
                        "on Lambda function %s (no lambda:InvokeFunction for %s from %s)",
                        where, name, APIGATEWAY_PRINCIPAL, source_arn)
            return _Outcome(_Failure.CONFIGURATION)
        payload = ServiceEvent(json.dumps(event).encode())
        invocation = asyncio.ensure_future(self._runtime.invoke(name, payload))
        try:
            # On AWS the function runs on after API Gateway stops waiting: _within
            # never cancels the invocation.
            if not await _within(invocation, timeout):
                # An invocation still waiting for a worker is withdrawn: it never runs, so
                # a client told "timed out" is not acted for later. One already running
                # runs on to its own timeout (the runtime shields it), as on AWS.
                invocation.cancel()
                invocation.add_done_callback(_ignore_result)
                log.warning("%s: Execution failed due to a timeout error (%gs)", where, timeout)
                return _Outcome(_Failure.TIMEOUT)
            result = invocation.result()
        except LambdaError as error:  # the Lambda service refused: throttled, or failed
            log.warning("%s: Lambda invocation failed with status: %s (%s: %s)", where,
                        error.status, error.code, error.message)
            return _Outcome(_Failure.CONFIGURATION)
        except Exception:
            log.exception("%s: invoking %s failed", where, name)
            return _Outcome(_Failure.CONFIGURATION)
        return _outcome_of(result, where=where)

    def _function_exists(self, name: str) -> bool:
        try:
            self._runtime.get_function(name)
        except Exception:  # noqa: BLE001 - any lookup failure means "no such function"
            return False
        return True

    async def _authorize(self, conn: _Connection, request: web.Request, route: ResolvedRoute,
                         table: RouteTable) -> web.StreamResponse | None:
        """Run the route's REQUEST authorizer; a response refuses the handshake."""
        authorizer = route.authorizer
        if authorizer is None:
            log.warning("%s/%s $connect: CUSTOM authorization without an authorizer",
                        conn.api_id, conn.stage)
            return _message_response(500, "Internal server error")
        if not _identity_present(authorizer, request):
            return _message_response(401, "Unauthorized")
        method_arn = self._source_arn(conn.api_id, f"{conn.stage}/{CONNECT}")
        event = self._authorizer_event(conn, request, table, method_arn)
        outcome = await self._call_lambda(
            authorizer.function_name, event, where=f"{conn.api_id} authorizer",
            timeout=self._settings.ws_integration_timeout,
            source_arn=self._source_arn(conn.api_id, f"authorizers/{authorizer.authorizer_id}"))
        if outcome.failure is _Failure.FUNCTION_ERROR and _error_message(outcome) == "Unauthorized":
            return _message_response(401, "Unauthorized")
        if outcome.failure is not None:
            return _message_response(500, "Internal server error")
        answer = outcome.answer if isinstance(outcome.answer, dict) else {}
        if not policy_allows(answer.get("policyDocument"), method_arn):
            return _message_response(403, "Forbidden")
        context = answer.get("context") or {}
        conn.authorizer = {"principalId": answer.get("principalId"),
                           **{k: v for k, v in context.items()}}
        return None

    # -- events -----------------------------------------------------------------------------

    def _context(self, conn: _Connection, route_key: str, event_type: str, request_id: str, *,
                 message_id: str | None = None,
                 close: CloseReason | None = None) -> dict[str, Any]:
        """``requestContext``, its keys in the order a real event lists them."""
        now = self._clock.now_ms()
        context: dict[str, Any] = {"routeKey": route_key}
        if message_id is not None:
            context["messageId"] = message_id
        if close is not None:
            context["disconnectStatusCode"] = close.code
        context.update(eventType=event_type, extendedRequestId=request_id,
                       requestTime=_request_time(now), messageDirection="IN")
        if close is not None:
            context["disconnectReason"] = close.reason
        identity = {"sourceIp": conn.source_ip}
        if conn.user_agent is not None:
            identity["userAgent"] = conn.user_agent
        context.update(stage=conn.stage, connectedAt=conn.connected_at, requestTimeEpoch=now,
                       identity=identity, requestId=request_id,
                       domainName=self._settings.execute_api_host(conn.api_id),
                       connectionId=conn.connection_id, apiId=conn.api_id)
        if conn.authorizer is not None:
            context["authorizer"] = conn.authorizer
        return context

    def _handshake_headers(self, conn: _Connection, request: web.Request, *,
                           skip: frozenset[str] = _NOT_FORWARDED) -> list[tuple[str, str]]:
        """The client's headers as API Gateway passes them on, sorted as AWS lists them."""
        client = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        proxy_chain = [v for k, v in client if k.lower() == "x-forwarded-for"]
        headers = [(k, v) for k, v in client
                   if k.lower() not in skip and k.lower() not in ("x-forwarded-for", "host")]
        now = int(self._clock.now())
        trace = self._ids.request_id().replace("-", "")[:24]
        headers += [
            ("Host", self._settings.execute_api_host(conn.api_id)),
            ("X-Amzn-Trace-Id", f"Root=1-{now:08x}-{trace}"),
            ("X-Forwarded-For", ", ".join([*proxy_chain, conn.source_ip])),
            ("X-Forwarded-Port", "443"),
            ("X-Forwarded-Proto", "https"),
        ]
        return sorted(headers, key=lambda item: item[0].lower())

    def _connect_event(self, conn: _Connection, request: web.Request,
                       table: RouteTable) -> dict[str, Any]:
        event: dict[str, Any] = _header_fields(self._handshake_headers(conn, request))
        query = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
        if query:  # absent, not empty, without a query string (the seed lab relies on it)
            event.update(_query_fields(query))
        event.update(_stage_variables(table))
        event["requestContext"] = self._context(conn, CONNECT, "CONNECT",
                                                self._ids.gateway_request_id())
        event["isBase64Encoded"] = False
        return event

    def _authorizer_event(self, conn: _Connection, request: web.Request, table: RouteTable,
                          method_arn: str) -> dict[str, Any]:
        # The authorizer sees the upgrade headers the integration does not.
        headers = self._handshake_headers(conn, request, skip=frozenset({"host"}))
        query = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
        return {"type": "REQUEST", "methodArn": method_arn, **_header_fields(headers),
                **_query_fields(query), "stageVariables": dict(table.stage_variables),
                "requestContext": self._context(conn, CONNECT, "CONNECT",
                                                self._ids.gateway_request_id())}

    # -- the @connections management API -------------------------------------------------------

    async def _manage(self, request: web.Request, api_id: str, stage: str,
                      connection_id: str) -> web.StreamResponse:
        identity = request.get(IDENTITY)
        if self._iam is not None and identity is not None:
            call = manage_connections_call(request.method, api_id, stage, connection_id,
                                           region=self._settings.region,
                                           account=self._settings.account_id)
            refusal = self._iam.refusal(identity, call, source_ip=request.remote or "")
            if refusal is not None:
                return refusal_response(refusal)
        if not self._apis.has_stage(api_id, stage):
            return _management_error(403, "ForbiddenException", "Forbidden")
        conn = self._connections.get(connection_id)
        if conn is None or conn.api_id != api_id or conn.close is not None:
            return _gone()
        if request.method == "POST":
            return await self._post_to_connection(conn, await request.read())
        if request.method == "GET":
            return _aws_json({
                "connectedAt": _iso8601(conn.connected_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent or ""},
                "lastActiveAt": _iso8601(conn.last_active_at),
            })
        if request.method == "DELETE":
            conn.close = DELETED  # from now on the connection is gone for @connections
            self._spawn(self._close(conn, DELETED))
            return web.Response(status=204, headers=_request_id_header())
        return _management_error(403, "ForbiddenException", "Forbidden")

    async def _post_to_connection(self, conn: _Connection, data: bytes) -> web.Response:
        if len(data) > self._settings.ws_max_message_bytes:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        try:
            frame: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            frame = data  # not text: deliver it as a binary frame
        if not await self._send(conn, frame):
            return _gone()
        return web.Response(status=200, headers=_request_id_header())


# -- pure helpers ---------------------------------------------------------------------------


def _path_parts(request: web.Request) -> list[str]:
    """Path segments, each URL-decoded once (connection ids arrive as ``abc%3D``).

    Kept on the request: the server, its front door and the gateway each look at them.
    """
    parts = request.get(_PATH_PARTS)
    if parts is None:
        raw = request.rel_url.raw_path.strip("/")
        parts = request[_PATH_PARTS] = [unquote(part) for part in raw.split("/")] if raw else []
    return parts


def _is_management(parts: list[str]) -> bool:
    return len(parts) >= 3 and parts[2] == _CONNECTIONS


def _client_close(message: Any) -> CloseReason:
    if message.type is WSMsgType.CLOSE:
        code = int(message.data or 0)
        if code == 0:
            return NO_STATUS
        return CloseReason(code, message.extra or "")
    code = getattr(message.data, "code", None) if message.type is WSMsgType.ERROR else None
    if code == TOO_BIG.code:
        return TOO_BIG
    if isinstance(code, int):  # what aiohttp's reader refused (1002, 1007) and closed with
        return CloseReason(code, str(message.data))
    return ABNORMAL


def _message_body(data: str | bytes) -> tuple[str, str, bool]:
    """(text for route selection, event body, isBase64Encoded) of a received message."""
    if isinstance(data, str):
        return data, data, False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    return text, base64.b64encode(data).decode("ascii"), True


def _error_frame(message: str, connection_id: str, request_id: str) -> str:
    # Byte for byte the shape API Gateway sends (note the uneven spacing).
    return (f'{{"message": {json.dumps(message)}, "connectionId":{json.dumps(connection_id)}, '
            f'"requestId":{json.dumps(request_id)}}}')


def _proxy_answer(answer: Any) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a ``$connect`` answer; no statusCode means accepted."""
    if not isinstance(answer, dict):
        return 200, {}, ""
    try:
        status = int(answer.get("statusCode", 200))
    except (TypeError, ValueError):
        status = 502
    headers = answer.get("headers") or {}
    body = answer.get("body")
    return (status, {str(k): str(v) for k, v in headers.items()},
            body if isinstance(body, str) else "")


def _route_response(outcome: _Outcome) -> str | bytes | None:
    """What a two-way route sends back: a proxy answer's ``body``, else the raw answer."""
    answer = outcome.answer
    if isinstance(answer, dict) and ("statusCode" in answer or "body" in answer):
        body = answer.get("body")
        if body is None:
            return None
        if answer.get("isBase64Encoded"):
            return base64.b64decode(body)
        return body if isinstance(body, str) else json.dumps(body)
    if answer is None:
        return None
    return outcome.payload.decode("utf-8", errors="replace")


def _outcome_of(result: Any, *, where: str) -> _Outcome:
    try:
        answer = json.loads(result.payload) if result.payload else None
    except ValueError:
        answer = None
    if result.function_error:
        message = answer.get("errorMessage") if isinstance(answer, dict) else answer
        log.warning("%s: Lambda execution failed with status 200 due to customer function "
                    "error: %s", where, message)
        return _Outcome(_Failure.FUNCTION_ERROR, answer, result.payload)
    if not 200 <= result.status_code < 300:
        log.warning("%s: Lambda answered status %s", where, result.status_code)
        return _Outcome(_Failure.CONFIGURATION, answer, result.payload)
    return _Outcome(None, answer, result.payload)


def _error_message(outcome: _Outcome) -> Any:
    return outcome.answer.get("errorMessage") if isinstance(outcome.answer, dict) else None


async def _wait_until(tasks: list[asyncio.Future[Any]], deadline: float) -> None:
    if not tasks:
        return
    timeout = max(0.0, deadline - asyncio.get_running_loop().time())
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()


async def _within(invocation: asyncio.Future[Any], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``invocation``; whether it finished.

    What ``wait_for(shield(invocation), timeout)`` does (neither a timeout nor a
    cancelled caller cancels the invocation), for less: this runs for every message.
    """
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def release(_: Any = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(timeout, release)
    invocation.add_done_callback(release)
    try:
        await waiter
    except asyncio.CancelledError:
        invocation.add_done_callback(_ignore_result)  # nobody will read its outcome now
        raise
    finally:
        timer.cancel()
        invocation.remove_done_callback(release)
    return invocation.done()


def _ignore_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not warn about it


def _identity_present(authorizer: Authorizer, request: web.Request) -> bool:
    """Every identity source (``route.request.header.X`` / ``.querystring.Y``) is non-empty."""
    for source in authorizer.identity_source:
        parts = source.split(".")
        kind, name = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", "")
        if kind == "header":
            value = request.headers.get(name, "")
        elif kind == "querystring":
            value = request.query.get(name, "")
        else:
            continue  # stage variables and context sources are always present
        if not value:
            return False
    return True


def _header_fields(headers: list[tuple[str, str]]) -> dict[str, Any]:
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        multi.setdefault(name, []).append(value)
    return {"headers": {name: values[-1] for name, values in multi.items()},
            "multiValueHeaders": multi}


def _query_fields(query: list[tuple[str, str]]) -> dict[str, Any]:
    multi: dict[str, list[str]] = {}
    for name, value in query:
        multi.setdefault(name, []).append(value)
    return {"queryStringParameters": {name: values[-1] for name, values in multi.items()},
            "multiValueQueryStringParameters": multi}


def _stage_variables(table: RouteTable | None) -> dict[str, Any]:
    if table is None or not table.stage_variables:
        return {}
    return {"stageVariables": dict(table.stage_variables)}


def _request_time(epoch_ms: int) -> str:
    """``09/Feb/2024:18:11:43 +0000``, the CLF time API Gateway uses (locale-independent)."""
    t = time.gmtime(epoch_ms / 1000)
    return (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000")


def _iso8601(epoch_ms: int) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000))
    return f"{stamp}.{epoch_ms % 1000:03d}Z"


def _request_id_header() -> dict[str, str]:
    return {"x-amzn-RequestId": RANDOM_IDS.request_id()}


def _message_response(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status,
                             headers=_request_id_header())


def _aws_json(document: dict[str, Any]) -> web.Response:
    return web.json_response(document, headers=_request_id_header())


def _management_error(status: int, code: str, message: str) -> web.Response:
    """An error botocore's rest-json parser maps to ``client.exceptions.<code>``."""
    headers = {**_request_id_header(), "x-amzn-ErrorType": code}
    return web.json_response({"message": message}, status=status, headers=headers)


def _gone() -> web.Response:
    # AWS answers 410 with the error type in a header and no body at all, which is why
    # boto3 reports "GoneException ... operation: Unknown".
    return web.Response(status=410, headers={**_request_id_header(),
                                             "x-amzn-ErrorType": "GoneException"})
