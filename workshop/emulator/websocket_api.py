"""API Gateway v2 WebSocket APIs as data: what the deployer declares, what the gateway serves.

This module is the pure model (no I/O, no asyncio), in the spirit of moto's backends: the
deployer fills a :class:`WebSocketApis` registry with APIs, integrations, routes, route
responses, authorizers, deployments and stages; the gateway asks it which route table a
stage serves (:meth:`WebSocketApis.resolve`) and which route a message selects
(:func:`select_route`).

Deployments are snapshots, as on AWS: a stage with a ``deployment_id`` keeps serving the
routes it was deployed with until it is deployed again, while an ``auto_deploy`` stage serves
the API as it is now. A stage that was never deployed serves nothing (the gateway answers
403 on the handshake, the first failure of the seed lab).

Every record is immutable and every mutation replaces one entry of a plain dict, so the
deployer may call the mutators from its own thread while the gateway reads on the loop.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from .iam_policy import evaluate

__all__ = [
    "CONNECT",
    "DEFAULT",
    "DISCONNECT",
    "Authorizer",
    "BadRequest",
    "Conflict",
    "Integration",
    "NotFound",
    "ResolvedRoute",
    "Route",
    "RouteResponse",
    "RouteTable",
    "Stage",
    "WebSocketApiError",
    "WebSocketApis",
    "evaluate_selection_expression",
    "function_name_from_uri",
    "policy_allows",
    "select_route",
]

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
# A message can never select these, whatever its body says.
_LIFECYCLE_ROUTES = frozenset({CONNECT, DISCONNECT})

_INTEGRATION_TYPES = frozenset({"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"})
_AUTHORIZATION_TYPES = frozenset({"NONE", "AWS_IAM", "CUSTOM"})
# The Integration timeout quota: 50 milliseconds to 29 seconds.
_TIMEOUT_RANGE_MS = (50, 29_000)
_TARGET = re.compile(r"^integrations/([A-Za-z0-9_-]+)$")


class WebSocketApiError(Exception):
    """A request the API Gateway control plane would refuse; ``code`` is AWS's error code."""

    code = "BadRequestException"
    status = 400


class BadRequest(WebSocketApiError):
    """An invalid value (AWS ``BadRequestException``)."""


class NotFound(WebSocketApiError):
    """The API, or a resource of it, does not exist (AWS ``NotFoundException``)."""

    code = "NotFoundException"
    status = 404


class Conflict(WebSocketApiError):
    """The request clashes with an existing resource (AWS ``ConflictException``)."""

    code = "ConflictException"
    status = 409


# -- records -------------------------------------------------------------------------


@dataclass(frozen=True)
class Integration:
    """Where a route sends its events; for Lambda, the URI names the function."""

    integration_id: str
    integration_type: str
    integration_uri: str | None = None
    credentials_arn: str | None = None
    timeout_ms: int | None = None

    @property
    def function_name(self) -> str | None:
        return function_name_from_uri(self.integration_uri)


@dataclass(frozen=True)
class Authorizer:
    """A REQUEST Lambda authorizer, consulted on ``$connect`` only."""

    authorizer_id: str
    authorizer_type: str
    authorizer_uri: str
    identity_source: tuple[str, ...] = ()

    @property
    def function_name(self) -> str | None:
        return function_name_from_uri(self.authorizer_uri)


@dataclass(frozen=True)
class Route:
    route_id: str
    route_key: str
    target: str | None = None
    authorization_type: str = "NONE"
    authorizer_id: str | None = None
    route_response_selection_expression: str | None = None

    @property
    def integration_id(self) -> str | None:
        match = _TARGET.match(self.target or "")
        return match.group(1) if match else None


@dataclass(frozen=True)
class RouteResponse:
    route_response_id: str
    route_id: str
    route_response_key: str


@dataclass(frozen=True)
class Stage:
    stage_name: str
    deployment_id: str | None = None
    auto_deploy: bool = False
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedRoute:
    """A route as the gateway serves it: its integration and authorizer looked up."""

    route_key: str
    integration: Integration | None
    authorization_type: str = "NONE"
    authorizer: Authorizer | None = None
    two_way: bool = False  # a route response exists: the backend's answer goes to the client


@dataclass(frozen=True)
class RouteTable:
    """What one deployment serves (plus, once resolved, the stage's variables)."""

    api_id: str
    route_selection_expression: str
    routes: Mapping[str, ResolvedRoute]
    stage_variables: Mapping[str, str] = field(default_factory=dict)

    def route(self, route_key: str) -> ResolvedRoute | None:
        return self.routes.get(route_key)


@dataclass(frozen=True)
class _Api:
    api_id: str
    name: str
    route_selection_expression: str
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    routes: Mapping[str, Route] = field(default_factory=dict)
    route_responses: Mapping[str, RouteResponse] = field(default_factory=dict)
    authorizers: Mapping[str, Authorizer] = field(default_factory=dict)
    deployments: Mapping[str, RouteTable] = field(default_factory=dict)
    stages: Mapping[str, Stage] = field(default_factory=dict)


def _with(mapping: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**mapping, key: value}


def _without(mapping: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    if key not in mapping:
        raise NotFound(f"Invalid {what} identifier specified {key}")
    return {k: v for k, v in mapping.items() if k != key}


def _snapshot(api: _Api) -> RouteTable:
    """The route table of ``api`` as it is now: what a deployment freezes."""
    two_way = {response.route_id for response in api.route_responses.values()}
    routes = {
        route.route_key: ResolvedRoute(
            route_key=route.route_key,
            integration=api.integrations.get(route.integration_id or ""),
            authorization_type=route.authorization_type,
            authorizer=api.authorizers.get(route.authorizer_id or ""),
            two_way=route.route_id in two_way,
        )
        for route in api.routes.values()
    }
    return RouteTable(api.api_id, api.route_selection_expression, MappingProxyType(routes))


def _lookup(mapping: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return mapping[key]
    except KeyError:
        raise NotFound(f"Invalid {what} identifier specified {key}") from None


def _check_route(route: Route) -> None:
    if not route.route_key:
        raise BadRequest("RouteKey is required")
    if route.target is not None and route.integration_id is None:
        raise BadRequest(f"Invalid target {route.target!r}: expected integrations/{{id}}")
    if route.authorization_type not in _AUTHORIZATION_TYPES:
        raise BadRequest(f"Invalid authorization type {route.authorization_type!r}")
    if route.authorization_type != "NONE" and route.route_key != CONNECT:
        # WebSocket APIs authorize at connection time only.
        raise BadRequest("Currently, authorization is restricted to the $connect route only")
    if route.authorization_type == "CUSTOM" and not route.authorizer_id:
        raise BadRequest("A CUSTOM authorization type needs an AuthorizerId")


# -- selection expressions -----------------------------------------------------------

# ``\$`` is a literal dollar; ``${request.body.a.b}`` a wrapped variable; ``$request.body.a``
# an unwrapped one (it ends at the first character that is not a letter, digit, _ or .).
_TOKEN = re.compile(r"\\\$|\$\{(?P<wrapped>[^}]*)\}|\$(?P<bare>[A-Za-z0-9_.]+)")
_BODY_PREFIX = "request.body"


def _variables(expression: str) -> Iterable[str]:
    for match in _TOKEN.finditer(expression):
        variable = match.group("wrapped") or match.group("bare")
        if variable is not None:
            yield variable


def _check_selection_expression(expression: str) -> None:
    if not expression:
        raise BadRequest("RouteSelectionExpression is required for WebSocket APIs")
    for variable in _variables(expression):
        if variable != _BODY_PREFIX and not variable.startswith(_BODY_PREFIX + "."):
            raise BadRequest(
                f"Invalid route selection expression {expression!r}: WebSocket APIs select "
                f"routes on $request.body.<path>, not ${variable}")


def _stringify(value: Any) -> str:
    """A selected JSON value as API Gateway renders it: the result is always a string."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(_stringify(item) for item in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def _lookup_path(document: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


def evaluate_selection_expression(expression: str, body: str) -> str | None:
    """Evaluate a route selection expression against a message body.

    Returns None when the expression refers to the body and the body is not a JSON
    object (API Gateway then falls back to ``$default``); a path that is not in the body
    evaluates to ``""`` (``"${request.body.action}-${request.body.nope}"`` → ``"join-"``).
    A body nested deeper than Python's parser goes counts as not JSON: a client must not
    be able to crash route selection (AWS documents no nesting limit).
    """
    pieces, uses_body = _parsed(expression)
    document: Any = None
    if uses_body:
        try:
            document = json.loads(body)
        except (TypeError, ValueError, RecursionError):
            return None
        if not isinstance(document, dict):
            return None
    try:
        return "".join(text if path is None else text + _stringify(_lookup_path(document, path))
                       for text, path in pieces)
    except RecursionError:  # a selected value nested too deeply to render
        return None


@functools.lru_cache(maxsize=256)
def _parsed(expression: str) -> tuple[tuple[tuple[str, str | None], ...], bool]:
    """An expression as (literal text, body path to append or None) pieces, and whether
    it reads the body: parsed once, as every message of the API is routed with it."""
    pieces: list[tuple[str, str | None]] = []
    end = 0
    for match in _TOKEN.finditer(expression):
        text = expression[end:match.start()]
        variable = match.group("wrapped") or match.group("bare")
        if variable is None:  # an escaped dollar
            pieces.append((text + "$", None))
        else:
            pieces.append((text, variable[len(_BODY_PREFIX) + 1:]))
        end = match.end()
    pieces.append((expression[end:], None))
    return tuple(pieces), any(path is not None for _, path in pieces)


def select_route(table: RouteTable, body: str) -> str | None:
    """The route key a message selects: its own route, else ``$default``, else None."""
    key = evaluate_selection_expression(table.route_selection_expression, body)
    if key is not None and key not in _LIFECYCLE_ROUTES and key in table.routes:
        return key
    return DEFAULT if DEFAULT in table.routes else None


# -- small pure helpers the gateway uses -------------------------------------------------

_FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:(?P<name>[A-Za-z0-9_-]+)")


def function_name_from_uri(uri: str | None) -> str | None:
    """The Lambda function an integration or authorizer URI names.

    ``arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations``
    and a bare function ARN both work; a qualifier (``:alias``) is ignored.
    """
    match = _FUNCTION_ARN.search(uri or "")
    return match.group("name") if match else None


def policy_allows(policy: Mapping[str, Any] | None, method_arn: str) -> bool:
    """Whether an authorizer's IAM policy lets the caller invoke ``method_arn``.

    As in IAM (:mod:`.iam_policy`): an explicit Deny wins and anything not allowed is
    denied; ``*`` and ``?`` are the only wildcards.
    """
    return evaluate([policy or {}], action="execute-api:Invoke", resource=method_arn).allowed


# -- the registry --------------------------------------------------------------------


class WebSocketApis:
    """Every WebSocket API of the local cloud, keyed by API id."""

    def __init__(self) -> None:
        self._apis: dict[str, _Api] = {}
        # Writers serialize on this lock; readers need none (they see whole records).
        self._lock = threading.Lock()
        # Live tables of auto-deploy stages, rebuilt when their API record changes.
        self._live: dict[str, tuple[_Api, RouteTable]] = {}

    # -- mutators (any thread) --------------------------------------------------------

    def put_api(self, api_id: str, *, name: str,
                route_selection_expression: str = "$request.body.action") -> None:
        """Create an API, or update its name and expression keeping its resources."""
        _check_selection_expression(route_selection_expression)
        with self._lock:
            current = self._apis.get(api_id)
            if current is None:
                self._apis[api_id] = _Api(api_id, name, route_selection_expression)
            else:
                self._apis[api_id] = replace(
                    current, name=name, route_selection_expression=route_selection_expression)

    def delete_api(self, api_id: str) -> None:
        with self._lock:
            self._api(api_id)
            del self._apis[api_id]
            self._live.pop(api_id, None)

    def put_integration(self, api_id: str, integration_id: str, *, integration_type: str,
                        integration_uri: str | None = None, credentials_arn: str | None = None,
                        timeout_ms: int | None = None) -> None:
        """Create or replace an integration, refusing what API Gateway's control plane would."""
        if integration_type not in _INTEGRATION_TYPES:
            raise BadRequest(f"Invalid integration type {integration_type!r}")
        if integration_type != "MOCK" and not integration_uri:
            raise BadRequest(f"An integration of type {integration_type} needs an IntegrationUri")
        low, high = _TIMEOUT_RANGE_MS
        if timeout_ms is not None and not low <= timeout_ms <= high:
            raise BadRequest(f"Timeout must be between {low} and {high} milliseconds")
        integration = Integration(integration_id, integration_type, integration_uri,
                                  credentials_arn, timeout_ms)
        self._update(api_id, lambda api: replace(
            api, integrations=_with(api.integrations, integration_id, integration)))

    def delete_integration(self, api_id: str, integration_id: str) -> None:
        self._update(api_id, lambda api: replace(
            api, integrations=_without(api.integrations, integration_id, "integration")))

    def put_route(self, api_id: str, route_id: str, *, route_key: str, target: str | None = None,
                  authorization_type: str = "NONE", authorizer_id: str | None = None,
                  route_response_selection_expression: str | None = None) -> None:
        """Create or replace a route; ``target`` looks like ``integrations/abc1234``."""
        route = Route(route_id, route_key, target, authorization_type, authorizer_id,
                      route_response_selection_expression)
        _check_route(route)

        def apply(api: _Api) -> _Api:
            for other in api.routes.values():
                if other.route_key == route_key and other.route_id != route_id:
                    raise Conflict(f"Route with key {route_key} already exists for this API")
            return replace(api, routes=_with(api.routes, route_id, route))

        self._update(api_id, apply)

    def delete_route(self, api_id: str, route_id: str) -> None:
        def apply(api: _Api) -> _Api:
            responses = {k: v for k, v in api.route_responses.items() if v.route_id != route_id}
            return replace(api, routes=_without(api.routes, route_id, "route"),
                           route_responses=responses)

        self._update(api_id, apply)

    def put_route_response(self, api_id: str, route_response_id: str, *, route_id: str,
                           route_response_key: str) -> None:
        """Make a route two-way; WebSocket APIs only support the ``$default`` key."""
        if route_response_key != DEFAULT:
            raise BadRequest("WebSocket APIs only support the $default route response key")
        response = RouteResponse(route_response_id, route_id, route_response_key)

        def apply(api: _Api) -> _Api:
            if route_id not in api.routes:
                raise NotFound(f"Invalid route identifier specified {route_id}")
            return replace(api, route_responses=_with(
                api.route_responses, route_response_id, response))

        self._update(api_id, apply)

    def delete_route_response(self, api_id: str, route_response_id: str) -> None:
        self._update(api_id, lambda api: replace(api, route_responses=_without(
            api.route_responses, route_response_id, "route response")))

    def put_authorizer(self, api_id: str, authorizer_id: str, *, authorizer_type: str,
                       authorizer_uri: str, identity_source: list[str]) -> None:
        """A REQUEST Lambda authorizer (the only kind WebSocket APIs have)."""
        if authorizer_type != "REQUEST":
            raise BadRequest("WebSocket APIs support REQUEST authorizers only")
        authorizer = Authorizer(authorizer_id, authorizer_type, authorizer_uri,
                                tuple(identity_source))
        self._update(api_id, lambda api: replace(
            api, authorizers=_with(api.authorizers, authorizer_id, authorizer)))

    def delete_authorizer(self, api_id: str, authorizer_id: str) -> None:
        self._update(api_id, lambda api: replace(
            api, authorizers=_without(api.authorizers, authorizer_id, "authorizer")))

    def create_deployment(self, api_id: str, deployment_id: str, *,
                          stage_name: str | None = None) -> None:
        """Freeze the routes as they are now; with ``stage_name``, point that stage at them."""

        def apply(api: _Api) -> _Api:
            if not api.routes:
                raise BadRequest("At least one route is required before deploying the Api.")
            stages = api.stages
            if stage_name is not None:
                stage = _lookup(api.stages, stage_name, "stage")
                stages = _with(stages, stage_name, replace(stage, deployment_id=deployment_id))
            return replace(api, deployments=_with(api.deployments, deployment_id, _snapshot(api)),
                           stages=stages)

        self._update(api_id, apply)

    def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        def apply(api: _Api) -> _Api:
            if any(s.deployment_id == deployment_id for s in api.stages.values()):
                raise BadRequest(
                    "Active stages pointing to this deployment must be moved or deleted")
            return replace(api, deployments=_without(api.deployments, deployment_id, "deployment"))

        self._update(api_id, apply)

    def put_stage(self, api_id: str, stage_name: str, *, deployment_id: str | None = None,
                  auto_deploy: bool = False,
                  stage_variables: Mapping[str, str] | None = None) -> None:
        """Create or update a stage; updating without ``deployment_id`` keeps the current one."""

        def apply(api: _Api) -> _Api:
            if deployment_id is not None:
                _lookup(api.deployments, deployment_id, "deployment")
            current = api.stages.get(stage_name)
            kept = deployment_id or (current.deployment_id if current else None)
            stage = Stage(stage_name, kept, auto_deploy,
                          MappingProxyType(dict(stage_variables or {})))
            return replace(api, stages=_with(api.stages, stage_name, stage))

        self._update(api_id, apply)

    def delete_stage(self, api_id: str, stage_name: str) -> None:
        self._update(api_id, lambda api: replace(
            api, stages=_without(api.stages, stage_name, "stage")))

    def reset(self) -> None:
        with self._lock:
            self._apis = {}
            self._live = {}

    # -- readers (the gateway's loop) ---------------------------------------------------

    def has_api(self, api_id: str) -> bool:
        return api_id in self._apis

    def api_ids(self) -> list[str]:
        return sorted(self._apis)

    def record(self, api_id: str) -> _Api:
        """An API as it is now, whole (a frozen value): what the API Gateway V2 control
        plane's reads show. NotFound if there is no such API."""
        return self._api(api_id)

    def has_stage(self, api_id: str, stage_name: str) -> bool:
        api = self._apis.get(api_id)
        return api is not None and stage_name in api.stages

    def resolve(self, api_id: str, stage_name: str) -> RouteTable | None:
        """The route table ``stage_name`` serves now, or None if it serves nothing.

        None means: no such API or stage, or a stage that has never been deployed (no
        deployment and not ``auto_deploy``; an auto-deploy stage of an API without routes
        has nothing to deploy either).
        """
        api = self._apis.get(api_id)
        stage = api.stages.get(stage_name) if api else None
        if api is None or stage is None:
            return None
        if stage.auto_deploy:
            table = self._live_table(api) if api.routes else None
        else:
            table = api.deployments.get(stage.deployment_id or "")
        if table is None or not stage.stage_variables:
            return table
        return replace(table, stage_variables=stage.stage_variables)

    select_route = staticmethod(select_route)

    # -- helpers ------------------------------------------------------------------------

    def _api(self, api_id: str) -> _Api:
        try:
            return self._apis[api_id]
        except KeyError:
            raise NotFound(f"Invalid API identifier specified {api_id}") from None

    def _update(self, api_id: str, change: Callable[[_Api], _Api]) -> None:
        with self._lock:
            self._apis[api_id] = change(self._api(api_id))

    def _live_table(self, api: _Api) -> RouteTable:
        cached = self._live.get(api.api_id)
        if cached is not None and cached[0] is api:
            return cached[1]
        table = _snapshot(api)
        self._live[api.api_id] = (api, table)
        return table
