"""API Gateway ``execute-api`` addresses, mapped onto the local cloud's one port.

On AWS a WebSocket API lives at ``wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}``
(``.amazonaws.com.cn`` in the China regions) and its ``@connections`` API at ``https://``
the same host. Locally both live under one loopback port, with the API id as the first
path segment. Handlers keep building the AWS address (``https://{domainName}/{stage}``);
a botocore hook sends it here instead.

The hook runs on ``before-sign``, so the request is signed for the address it is sent to,
as any SigV4 client signs: the local cloud verifies every request one way, without
guessing which AWS host and path a client signed for before it was redirected.

The Lambda worker bootstrap loads this file by path, so it imports only the standard
library (and botocore, when installing the hook).
"""

from __future__ import annotations

import re
import sys
from typing import Any
from urllib.parse import urlsplit

__all__ = ["install_redirect", "local_url"]

_EXECUTE_API = re.compile(
    r"^(?P<scheme>wss?|https?)://(?P<api_id>[A-Za-z0-9]+)\.execute-api\."
    r"[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(?::\d+)?(?P<rest>[/?#].*)?$"
)
_EVENT = "before-sign.apigatewaymanagementapi"
_UNIQUE_ID = "workshop-execute-api-redirect"
# The endpoint the hook redirects to; a module global so that installing again (a new
# port) changes where already-registered hooks point.
_endpoint: dict[str, str] = {}


def local_url(url: str, endpoint_url: str) -> str:
    """``url`` if it is not an execute-api address, else its local-cloud equivalent.

    ``wss://abc.execute-api.us-east-1.amazonaws.com/prod`` becomes
    ``ws://127.0.0.1:4580/abc/prod``; ``https://`` becomes the endpoint's own scheme.
    """
    match = _EXECUTE_API.match(url)
    if match is None:
        return url
    endpoint = urlsplit(endpoint_url)
    scheme = endpoint.scheme
    if match["scheme"].startswith("ws"):
        scheme = "wss" if scheme == "https" else "ws"
    rest = match["rest"] or ""
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}://{endpoint.netloc}/{match['api_id']}{rest}"


def _redirect(request: Any, **kwargs: Any) -> None:
    """botocore ``before-sign`` hook: point an execute-api request at the local cloud."""
    endpoint = _endpoint.get("url")
    if endpoint:
        request.url = local_url(request.url, endpoint)


def install_redirect(endpoint_url: str) -> None:
    """Send every ``apigatewaymanagementapi`` call for an execute-api host to ``endpoint_url``.

    Covers botocore sessions created from now on (botocore's built-in handler list) and
    boto3's default session if it already exists. Installing twice is harmless.
    """
    from botocore import handlers

    _endpoint["url"] = endpoint_url
    if not any(spec[:2] == (_EVENT, _redirect) for spec in handlers.BUILTIN_HANDLERS):
        handlers.BUILTIN_HANDLERS.append((_EVENT, _redirect))
    boto3 = sys.modules.get("boto3")  # never import boto3 just for this
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None:
        session.events.register(_EVENT, _redirect, unique_id=_UNIQUE_ID)
