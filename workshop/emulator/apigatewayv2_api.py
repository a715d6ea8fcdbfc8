"""The API Gateway V2 control plane's reads (``/v2/apis…``), from the gateway's own state.

``aws apigatewayv2 get-routes`` and ``boto3.client("apigatewayv2")`` see the WebSocket
APIs the local gateway serves (:class:`~.websocket_api.WebSocketApis`, which the
deployer fills from templates): the same ids, routes, integrations, stages and
deployments that decide what a client's message does. moto has an ``apigatewayv2``
backend too, but nothing the local cloud deploys lives there, so these routes answer
instead of it, and every ``/v2/`` request stops here.

Writes are not taken: the local cloud changes APIs through templates (``workshop
deploy``, ``sam deploy``), and any other call is answered with a
``BadRequestException`` saying so, in API Gateway's REST-JSON error shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NamedTuple

from aiohttp import web

from .aws_operations import operation_name
from .aws_refusals import Protocol, aws_error
from .execute_api_urls import local_url
from .front_door import IDENTITY
from .iam_enforcement import IamEnforcer, refusal_response
from .iam_requests import apigateway_call
from .settings import Settings
from .websocket_api import NotFound, WebSocketApiError, WebSocketApis

__all__ = ["apigatewayv2_routes"]

_PREFIX = "/v2/apis"
_DEFAULT_TIMEOUT_MS = 29_000  # an integration's timeout unless the template sets one
_DEFAULT_PAGE = 100
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def apigatewayv2_routes(apis: WebSocketApis, settings: Settings, *,
                        iam: IamEnforcer | None = None) -> list[web.RouteDef]:
    """The reads, and an answer for every other ``/v2/`` call."""
    api = _ApiGatewayV2(apis, settings, iam)
    reads: list[tuple[str, Handler]] = [
        ("", api.get_apis),
        ("/{apiId}", api.get_api),
        ("/{apiId}/routes/{routeId}/routeresponses", api.get_route_responses),
        ("/{apiId}/authorizers", api.get_authorizers),
    ]
    for part in _PARTS:  # GetRoutes and GetRoute, GetIntegrations and GetIntegration, …
        reads += [(f"/{{apiId}}/{part.path}", api.lister(part)),
                  (f"/{{apiId}}/{part.path}/{{{part.id_param}}}", api.getter(part))]
    routes = [web.get(_PREFIX + path, api.answering(handler), allow_head=False)
              for path, handler in reads]
    routes.append(web.route("*", "/v2/{tail:.*}", api.answering(api.unsupported)))
    return routes


class _ApiGatewayV2:
    def __init__(self, apis: WebSocketApis, settings: Settings, iam: IamEnforcer | None
                 ) -> None:
        self._apis = apis
        self._settings = settings
        self._iam = iam

    def answering(self, handler: Handler) -> Handler:
        """``handler`` behind the IAM check, with API Gateway's error replies."""

        async def answer(request: web.Request) -> web.StreamResponse:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
            try:
                return await handler(request)
            except WebSocketApiError as error:
                return _error(error.code, str(error), error.status)

        return answer

    def _refusal(self, request: web.Request) -> web.Response | None:
        identity = request.get(IDENTITY)
        if self._iam is None or getattr(identity, "role_arn", None) is None:
            return None  # the learner's own credentials
        call = apigateway_call(request.method, request.path, region=self._settings.region)
        refusal = self._iam.refusal(identity, call, source_ip=request.remote or "127.0.0.1")
        return refusal_response(refusal) if refusal else None

    # -- the reads -------------------------------------------------------------------------

    async def get_apis(self, request: web.Request) -> web.Response:
        records = [self._apis.record(api_id) for api_id in self._apis.api_ids()]
        return _page(request, [(r.api_id, self._api(r)) for r in records])

    async def get_api(self, request: web.Request) -> web.Response:
        return _reply(self._api(self._record(request)))

    def lister(self, part: _Part) -> Handler:
        """GetRoutes, GetIntegrations, …: one page of an API's ``part``."""

        async def get_all(request: web.Request) -> web.Response:
            items = getattr(self._record(request), part.path)
            return _page(request, [(key, part.shape(key, value)) for key, value in items.items()])

        return get_all

    def getter(self, part: _Part) -> Handler:
        """GetRoute, GetIntegration, …: one of an API's ``part``, by its id."""

        async def get_one(request: web.Request) -> web.Response:
            key = request.match_info[part.id_param]
            found = _find(getattr(self._record(request), part.path), key, part.what)
            return _reply(part.shape(key, found))

        return get_one

    async def get_route_responses(self, request: web.Request) -> web.Response:
        record = self._record(request)
        route_id = request.match_info["routeId"]
        _find(record.routes, route_id, "Route")
        responses = [(i, {"routeResponseId": i, "routeResponseKey": r.route_response_key})
                     for i, r in record.route_responses.items() if r.route_id == route_id]
        return _page(request, responses)

    async def get_authorizers(self, request: web.Request) -> web.Response:
        authorizers = self._record(request).authorizers
        return _page(request, [(i, {"authorizerId": i, "authorizerType": a.authorizer_type,
                                    "authorizerUri": a.authorizer_uri,
                                    "identitySource": list(a.identity_source)})
                               for i, a in authorizers.items()])

    async def unsupported(self, request: web.Request) -> web.Response:
        operation = operation_name("apigatewayv2", request.method, request.path) or \
            f"{request.method} {request.path}"
        return _error("BadRequestException", (
            f"{operation} is not supported by the local cloud, which changes APIs through "
            "templates: edit template.yaml and deploy it (workshop deploy, or sam deploy)"),
            400)

    # -- helpers ----------------------------------------------------------------------------

    def _record(self, request: web.Request) -> Any:
        api_id = request.match_info["apiId"]
        try:
            return self._apis.record(api_id)
        except NotFound:
            raise NotFound(f"Invalid API identifier specified "
                           f"{self._settings.account_id}:{api_id}") from None

    def _api(self, record: Any) -> dict[str, Any]:
        # The address the stack's outputs give: the local ws:// twin of wss://{id}.execute-api….
        endpoint = local_url(f"wss://{self._settings.execute_api_host(record.api_id)}",
                             self._settings.endpoint_url)
        return {"apiEndpoint": endpoint.rstrip("/"), "apiId": record.api_id,
                "apiKeySelectionExpression": "$request.header.x-api-key",
                "disableExecuteApiEndpoint": False, "name": record.name,
                "protocolType": "WEBSOCKET",
                "routeSelectionExpression": record.route_selection_expression, "tags": {}}


class _Part(NamedTuple):
    """A kind of an API's parts: the record's attribute and the path's word for them, the
    path parameter naming one, the word API Gateway's NotFound message uses, its JSON."""

    path: str
    id_param: str
    what: str
    shape: Callable[[str, Any], dict[str, Any]]


_PARTS = (
    _Part("routes", "routeId", "Route", lambda _id, route: _route(route)),
    _Part("integrations", "integrationId", "Integration",
          lambda _id, integration: _integration(integration)),
    _Part("stages", "stageName", "stage", lambda _name, stage: _stage(stage)),
    _Part("deployments", "deploymentId", "Deployment",
          lambda deployment_id, _table: _deployment(deployment_id)),
)

def _find(mapping: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in mapping:
        raise NotFound(f"Invalid {what} identifier specified {key}")
    return mapping[key]


def _route(route: Any) -> dict[str, Any]:
    body = {"apiGatewayManaged": False, "apiKeyRequired": False,
            "authorizationType": route.authorization_type, "routeId": route.route_id,
            "routeKey": route.route_key}
    return _with_optional(body, target=route.target, authorizerId=route.authorizer_id,
                          routeResponseSelectionExpression=route.route_response_selection_expression)


def _integration(integration: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiGatewayManaged": False, "connectionType": "INTERNET",
        "integrationId": integration.integration_id,
        "integrationType": integration.integration_type,
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": integration.timeout_ms or _DEFAULT_TIMEOUT_MS}
    if integration.integration_type in ("AWS", "AWS_PROXY"):
        body |= {"integrationMethod": "POST", "payloadFormatVersion": "1.0"}
    return _with_optional(body, integrationUri=integration.integration_uri,
                          credentialsArn=integration.credentials_arn)


def _stage(stage: Any) -> dict[str, Any]:
    body = {"autoDeploy": stage.auto_deploy, "routeSettings": {}, "stageName": stage.stage_name,
            "stageVariables": dict(stage.stage_variables), "tags": {},
            "defaultRouteSettings": {"dataTraceEnabled": False,
                                     "detailedMetricsEnabled": False}}
    return _with_optional(body, deploymentId=stage.deployment_id)


def _deployment(deployment_id: str) -> dict[str, Any]:
    return {"autoDeployed": False, "deploymentId": deployment_id, "deploymentStatus": "DEPLOYED"}


def _with_optional(body: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return body | {k: v for k, v in optional.items() if v is not None}


def _page(request: web.Request, items: Iterable[tuple[str, dict[str, Any]]]) -> web.Response:
    """One page of ``items`` (sorted by id), after ``nextToken``, ``maxResults`` long."""
    ordered = sorted(items, key=lambda pair: pair[0])
    token = request.query.get("nextToken")
    if token:
        ordered = [pair for pair in ordered if pair[0] > token]
    raw = request.query.get("maxResults") or str(_DEFAULT_PAGE)
    if not raw.isdigit() or int(raw) < 1:
        raise _BadRequest(f"Invalid maxResults value: {raw}")
    page = ordered[:int(raw)]
    body: dict[str, Any] = {"items": [item for _key, item in page]}
    if len(ordered) > len(page):
        body["nextToken"] = page[-1][0]
    return _reply(body)


class _BadRequest(WebSocketApiError):
    """A malformed read (API Gateway's ``BadRequestException``)."""


def _reply(body: dict[str, Any]) -> web.Response:
    return web.json_response(body, headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _error(code: str, message: str, status: int) -> web.Response:
    reply = aws_error(Protocol.REST_JSON, code=code, message=message, status=status)
    return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
