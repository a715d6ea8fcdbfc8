"""The local cloud's front door: what every request passes before any service sees it.

Anything that can reach the port could otherwise use the cloud, including a web page in the
learner's browser (a cross-origin ``text/plain`` POST needs no permission, and DNS
rebinding lets a page read the answers). So, as Jupyter guards its own port and as AWS
guards its APIs:

* **the game is public, the rest is not.** WebSocket client connections and static
  websites (what ``public`` says) are served to anyone, with any ``Host`` and ``Origin``,
  as API Gateway and S3 websites are: a page behind jupyter-server-proxy arrives with the
  proxy's ``Host``. On the address ``--host`` exposes (class play) nothing else is served;
* **AWS APIs** (moto's services, Lambda, ``@connections``) demand a SigV4 signature made
  with credentials this cloud issued; a refusal is the service's own error
  (:mod:`.aws_refusals`). The verified :class:`~.credentials.Identity` is stored on the
  request as ``request[IDENTITY]`` for the services (and IAM) to use;
* **the admin API** (``/_workshop/…``, and moto's ``/moto-api/…``) demands the admin token
  in ``X-Workshop-Admin-Token``, compared in constant time: 401 without, 403 wrong;
* both refuse a ``Host`` that is not a loopback name (``localhost``, ``*.localhost``,
  ``127.0.0.0/8``, ``[::1]``) or the exposed address (DNS rebinding), any ``Origin``
  (no browser page has business there: boto3, the CLI and notebooks send none), and CORS
  preflights; no ``Access-Control-*`` header ever leaves them (moto adds some: removed).

Every refusal is logged with its reason (``workshop.access``), so an instructor can see
why a request failed.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .aws_refusals import Protocol, protocol_of, signature_refusal
from .credentials import ADMIN_TOKEN_HEADER, CredentialStore, Identity
from .s3_sigv2 import is_sigv2, verify_sigv2
from .settings import SERVER_NAME, Settings
from .sigv4 import Problem, RequestParts, SignatureError, verify

__all__ = ["FrontDoor", "IDENTITY", "host_allowed", "is_loopback_host"]

log = logging.getLogger("workshop.access")

# Where the verified Identity is stored on a request (aiohttp's typed request keys).
IDENTITY = web.RequestKey("workshop.identity", Identity)
_PUBLIC = web.RequestKey("workshop.public", bool)
_ADMIN_PREFIXES = ("/_workshop/", "/moto-api/")
_CORS_PREFIX = "access-control-"

_USE_OUR_KEYS = ("sign with this installation's keys: `eval \"$(python -m workshop env)\"` "
                 "in a shell, `workshop.up()` in a notebook")
# What to do about each refused signature: the client gets AWS's own words, the log this.
_HINTS = {
    Problem.MISSING: _USE_OUR_KEYS,
    Problem.INCOMPLETE: "sign with SigV4, as boto3 and the AWS CLI do",
    Problem.UNKNOWN_KEY: _USE_OUR_KEYS,
    Problem.MISMATCH: _USE_OUR_KEYS + " (the secret key does not go with the key id)",
    Problem.BAD_TOKEN: "unset AWS_SESSION_TOKEN (`python -m workshop env` does), or use the "
                       "session token issued with this key",
    Problem.EXPIRED_TOKEN: "role sessions last 12 hours: a Lambda worker gets a new one "
                           "when it is replaced; redeploy or `workshop down`/`up`",
    Problem.SKEWED: "this machine's clock and the request's time differ by over 15 minutes",
    Problem.PRESIGN_EXPIRED: "make a new presigned URL",
    Problem.CONTENT_SHA_MISMATCH: "the body changed after it was signed",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Predicate = Callable[[web.Request], bool]


def is_loopback_host(name: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761), 127.0.0.0/8 or ::1."""
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str | None, *, exposed: str | None = None) -> bool:
    """Whether a ``Host`` header names this cloud: loopback, or the exposed address."""
    if not host_header:
        return False
    name = _host_name(host_header)
    if is_loopback_host(name):
        return True
    return exposed is not None and _same_address(name, exposed)


def _host_name(host_header: str) -> str:
    """The name of ``host:port``, ``[v6]:port`` or a bare host."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.strip("[]")) == ipaddress.ip_address(b.strip("[]"))
    except ValueError:
        return a.lower() == b.lower()


class FrontDoor:
    """The checks, as an aiohttp middleware (``middleware``) and a response hook."""

    def __init__(self, settings: Settings, credentials: CredentialStore, *,
                 public: Predicate, execute_api: Predicate) -> None:
        self._settings = settings
        self._credentials = credentials
        self._public = public
        self._execute_api = execute_api

    def install(self, app: web.Application) -> None:
        app.middlewares.append(self.middleware)
        app.on_response_prepare.append(self._strip_cors)

    def enforced(self) -> dict[str, Any]:
        """What the front door enforces, for ``workshop status``."""
        return {"signatures": "SigV4, with this installation's credentials",
                "admin_token": True, "hosts": "loopback" + (
                    f" and {self._settings.public_host}" if self._settings.public_host else ""),
                "cors": False, "exposed": self._settings.public_host}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        exposed_socket = self._on_exposed_socket(request)
        if self._public(request):
            request[_PUBLIC] = True
            return await handler(request)
        if exposed_socket:
            return self._refuse(request, 403, "exposure", (
                f"on {self._settings.public_host} the local cloud serves only the game "
                "(WebSocket connections and websites); its AWS and admin APIs answer on "
                "loopback only"))
        refusal = self._browser_refusal(request)
        if refusal is not None:
            return refusal
        if request.path.startswith(_ADMIN_PREFIXES):
            refusal = self._admin_refusal(request)
            return refusal if refusal is not None else await handler(request)
        parts = await _parts(request)
        protocol = protocol_of(parts, execute_api=self._execute_api(request))
        try:
            request[IDENTITY] = self._verify(parts, protocol)
        except SignatureError as error:
            reply = signature_refusal(error, parts, protocol)
            _log_refusal(request, "signature", f"{error}; {_HINTS[error.problem]}")
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        return await handler(request)

    # -- the checks ------------------------------------------------------------------------

    def _verify(self, parts: RequestParts, protocol: Protocol) -> Identity:
        """SigV4 everywhere; S3 also takes the SigV2 its presigned URLs still use."""
        if protocol is Protocol.S3 and is_sigv2(parts):
            return verify_sigv2(parts, lookup=self._credentials.identify)
        return verify(parts, lookup=self._credentials.identify)

    def _on_exposed_socket(self, request: web.Request) -> bool:
        if not self._settings.public_host or request.transport is None:
            return False
        sockname = request.transport.get_extra_info("sockname")
        return bool(sockname) and _same_address(str(sockname[0]), self._settings.public_host)

    def _browser_refusal(self, request: web.Request) -> web.Response | None:
        host = request.headers.get("Host")
        if not host_allowed(host, exposed=self._settings.public_host):
            return self._refuse(request, 403, "host", (
                f"Host {host!r} is not this local cloud's: use 127.0.0.1 or localhost "
                "(a foreign Host is how DNS rebinding reaches a local port)"))
        if request.method == "OPTIONS":
            return self._refuse(request, 403, "cors", (
                "CORS preflight refused: the local cloud's AWS and admin APIs are not "
                "offered to web pages"))
        origin = request.headers.get("Origin")
        if origin is not None:
            return self._refuse(request, 403, "origin", (
                f"a request from a web page (Origin {origin!r}) is refused: the local "
                "cloud's AWS and admin APIs are for boto3, the CLI and notebooks"))
        return None

    def _admin_refusal(self, request: web.Request) -> web.Response | None:
        token = request.headers.get(ADMIN_TOKEN_HEADER)
        if not token:
            return self._refuse(request, 401, "token", (
                f"the admin API needs the admin token ({ADMIN_TOKEN_HEADER}) from "
                "credentials.json in WORKSHOP_HOME: use `python -m workshop …`, which sends it"))
        if not self._credentials.admin_token_matches(token):
            return self._refuse(request, 403, "token", (
                "wrong admin token: this local cloud was started with another "
                "WORKSHOP_HOME, or its credentials.json was replaced since"))
        return None

    def _refuse(self, request: web.Request, status: int, check: str, reason: str
                ) -> web.Response:
        _log_refusal(request, check, reason)
        return web.json_response({"server": SERVER_NAME, "refused": check, "error": reason},
                                 status=status)

    async def _strip_cors(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.get(_PUBLIC):
            return
        for name in [n for n in response.headers if n.lower().startswith(_CORS_PREFIX)]:
            del response.headers[name]


async def _parts(request: web.Request) -> RequestParts:
    raw_path, _, raw_query = request.raw_path.partition("?")
    return RequestParts(request.method, raw_path, raw_query, list(request.headers.items()),
                        await request.read())


def _log_refusal(request: web.Request, check: str, reason: str) -> None:
    log.warning("refused %s %s (Host %s, from %s) [%s]: %s", request.method,
                request.path[:200], request.headers.get("Host", "-")[:100],
                request.remote or "?", check, reason)
