"""The Lambda REST API of the local cloud: Invoke, GetFunction(Configuration), ListFunctions.

boto3's ``lambda`` client and moto's Step Functions interpreter reach the runtime
through these routes, so the replies are shaped exactly as Lambda's: an
``x-amzn-RequestId`` header on every one, function errors as status 200 with
``X-Amz-Function-Error``, API errors with ``x-amzn-ErrorType`` and Lambda's JSON body.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .front_door import IDENTITY
from .iam_enforcement import IamEnforcer, principals_of, refusal_response
from .iam_requests import lambda_call
from .lambda_runtime import LambdaError, LambdaRuntime, ServiceError

__all__ = ["lambda_routes"]

log = logging.getLogger("workshop.lambda")

_PREFIX = "/2015-03-31/functions"
_LOG_TAIL_BYTES = 4096  # X-Amz-Log-Result carries the last 4 KB of the log
_DEFAULT_PAGE = 50

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def lambda_routes(runtime: LambdaRuntime, *, iam: IamEnforcer | None = None
                  ) -> list[web.RouteDef]:
    """The Lambda API's routes, to add to the local cloud's application; ``iam`` checks
    a role's Invoke against its policies and the function's resource policy."""
    api = _LambdaApi(runtime, iam)
    return [
        web.post(_PREFIX + "/{name}/invocations", api.answering(api.invoke)),
        web.get(_PREFIX + "/{name}/configuration", api.answering(api.get_configuration)),
        web.get(_PREFIX + "/{name}", api.answering(api.get_function)),
        web.get(_PREFIX, api.answering(api.list_functions)),
        web.get(_PREFIX + "/", api.answering(api.list_functions)),
    ]


class _LambdaApi:
    def __init__(self, runtime: LambdaRuntime, iam: IamEnforcer | None) -> None:
        self._runtime = runtime
        self._iam = iam

    def answering(self, handler: Handler) -> Handler:
        """``handler``, with Lambda's error replies for the runtime's errors."""

        async def answer(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except LambdaError as error:
                return self._error(error)
            except Exception:  # still an answer boto3 (and Step Functions) can parse
                log.exception("the Lambda API failed on %s %s", request.method, request.path)
                return self._error(ServiceError("The local Lambda service failed; "
                                                "see the local cloud's log."))

        return answer

    async def invoke(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        refusal = self._refusal(request, "InvokeFunction", name)
        if refusal is not None:
            return refusal
        result = await self._runtime.invoke(
            name, await request.read(),
            invocation_type=request.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
        )
        headers = {"x-amzn-RequestId": result.request_id}
        if result.status_code == 200:
            headers["X-Amz-Executed-Version"] = "$LATEST"
            if request.headers.get("X-Amz-Log-Type") == "Tail":
                tail = result.log_tail.encode()[-_LOG_TAIL_BYTES:]
                headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return web.Response(status=result.status_code, body=result.payload, headers=headers,
                            content_type="application/json")

    def _refusal(self, request: web.Request, action: str, name: str | None
                 ) -> web.Response | None:
        """AccessDeniedException if the caller's role may not do ``action`` (on function
        ``name``). In one account, the function's resource policy may allow Invoke too."""
        identity = request.get(IDENTITY)
        if self._iam is None or getattr(identity, "role_arn", None) is None:
            return None  # no checks, or the learner's own credentials
        settings = self._runtime.settings
        call = lambda_call(action, name, region=settings.region, account=settings.account_id)

        def allowed_by_function(_access: object) -> bool:
            principals = set(principals_of(identity, settings.account_id))
            return (action == "InvokeFunction" and name is not None
                    and self._runtime.invoke_allowed_for(name, principals=principals))

        refusal = self._iam.refusal(identity, call, source_ip=request.remote or "127.0.0.1",
                                    resource_policy=allowed_by_function)
        return refusal_response(refusal) if refusal else None

    async def get_function(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        refusal = self._refusal(request, "GetFunction", name)
        if refusal is not None:
            return refusal
        configuration = self._runtime.describe_function(name)
        config = self._runtime.get_function(name)
        body: dict[str, Any] = {
            "Configuration": configuration,
            # AWS answers a pre-signed S3 URL of the package; the code is local here.
            "Code": {"RepositoryType": "S3", "Location": Path(config.code_dir).resolve().as_uri()},
            "Tags": {},
        }
        if config.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": config.reserved_concurrency}
        return self._reply(body)

    async def get_configuration(self, request: web.Request) -> web.Response:
        name = _qualified(request.match_info["name"], request.query.get("Qualifier"))
        refusal = self._refusal(request, "GetFunctionConfiguration", name)
        if refusal is not None:
            return refusal
        return self._reply(self._runtime.describe_function(name))

    async def list_functions(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, "ListFunctions", None)
        if refusal is not None:
            return refusal
        names = self._runtime.function_names()
        marker = request.query.get("Marker")
        if marker:
            names = [name for name in names if name > marker]
        try:
            page_size = int(request.query.get("MaxItems") or _DEFAULT_PAGE)
        except ValueError:
            page_size = _DEFAULT_PAGE
        page = names[:max(page_size, 1)]
        body: dict[str, Any] = {"Functions": [self._runtime.describe_function(n) for n in page]}
        if len(names) > len(page):
            body["NextMarker"] = page[-1]
        return self._reply(body)

    def _error(self, error: LambdaError) -> web.Response:
        return web.json_response(error.body(), status=error.status, headers={
            "x-amzn-RequestId": self._runtime.ids.request_id(),
            "x-amzn-ErrorType": error.code,
        })

    def _reply(self, body: dict[str, Any]) -> web.Response:
        return web.json_response(body, headers={"x-amzn-RequestId": self._runtime.ids.request_id()})


def _qualified(name: str, qualifier: str | None) -> str:
    """The function name with the ``Qualifier`` query parameter folded in."""
    if not qualifier or name.endswith(":" + qualifier):
        return name
    return f"{name}:{qualifier}"
