"""S3 static website hosting, emulated: a bucket's website endpoint on the local cloud's port.

Where a website lives
---------------------
On AWS a bucket's website is ``http://{bucket}.s3-website-{region}.amazonaws.com`` (some
regions: ``.s3-website.{region}.``); that is the bucket's ``WebsiteURL`` attribute. Locally
the same website is served on the local cloud's one port in two forms:

* the **path form**, which the local ``WebsiteURL`` output uses and which works in any
  browser, through jupyter-server-proxy and from other machines in class play::

      http://127.0.0.1:{port}/_website/{bucket}/{key}
      e.g. http://127.0.0.1:4580/_website/workshop-website-sitebucket-1a2b3c4d/battle/
      via a proxy: https://{jupyter-host}/{base}/proxy/4580/_website/{bucket}/battle/
      class play:  http://{ADDR}:4580/_website/{bucket}/battle/

  Everything after ``/_website/{bucket}/`` is the object key, exactly as everything after
  the host is on AWS. No bucket name can start with ``_``, so the prefix never clashes
  with S3's own path-style API (``/{bucket}/{key}``). ``/_website/{bucket}`` without the
  slash answers ``302`` to ``{bucket}/`` (a *relative* Location, so that it also works
  behind a proxy prefix), and pages must use relative asset paths only;
* the **virtual-host form**, as on AWS, for a browser on this machine (browsers resolve
  ``*.localhost`` to loopback)::

      http://{bucket}.s3-website-{region}.localhost:{port}/{key}
      http://{bucket}.s3-website.{region}.localhost:{port}/{key}

A page served in the path form can find the local cloud's WebSocket gateway from its own
location: everything before ``/_website/`` is the prefix (empty, or a proxy's
``/…/proxy/4580``), and the API is ``ws[s]://{location.host}{prefix}/{apiId}/{stage}``.

What it does (looked up in the S3 user guide: website endpoints, index documents,
custom error documents, permissions for website access, Block Public Access)
--------------------------------------------------------------------------------
* GET and HEAD only; any other method answers ``405 MethodNotAllowed``.
* Errors are HTML pages, not XML: ``404 NoSuchBucket``, ``404 NoSuchWebsiteConfiguration``,
  ``404 NoSuchKey``, ``403 AccessDenied``; with an error document configured, its content
  is served with the error's own status (4XX only); if the error document itself cannot be
  read, the default page says so in a second section.
* The index document answers for the root and for every "folder" (a key ending in ``/``);
  ``folder`` without a slash, when no object has that key but ``folder/{index}`` exists,
  answers ``302 Found`` to ``folder/``.
* Only publicly readable objects are served: a bucket policy statement that allows
  everyone (``"Principal": "*"``) ``s3:GetObject`` on the key, not overridden by a Deny,
  or an object ACL granting READ to AllUsers; Block Public Access settings
  (``IgnorePublicAcls``, ``RestrictPublicBuckets``) are honoured. A missing key is ``404``
  (the website endpoint says so whatever the policy), a private one ``403``.
* ``Content-Type`` is the object's own; ``ETag``, ``Last-Modified`` and ``If-None-Match``
  / ``If-Modified-Since`` (``304``) as on a GET; ``x-amz-website-redirect-location`` on an
  object answers ``301`` to it; ``RedirectAllRequestsTo`` and ``RoutingRules`` redirect.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import re
import secrets
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, unquote

from aiohttp import web

from .s3_public_access import (
    PublicAccessBlock,
    RequestContext,
    acl_grants_public_read,
    anonymous_read,
    parse_public_access_block,
)
from .settings import Settings

__all__ = ["PATH_PREFIX", "Address", "Reply", "Websites", "WebsiteConfig", "parse_address",
           "parse_website_config", "serve", "website_url"]

PATH_PREFIX = "/_website/"
_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3-website[-.]"
                   r"(?P<region>[a-z0-9-]+)\.localhost\.?(?::\d+)?$")
_AWS_WEBSITE_URL = re.compile(r"^http://(?P<bucket>[a-z0-9][a-z0-9.-]+)\.s3-website[-.]"
                              r"[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(?P<rest>/.*)?$")
# Headers of an object that a website GET passes on (S3 sends the object's own).
_OBJECT_HEADERS = ("content-type", "content-length", "etag", "last-modified", "accept-ranges",
                   "content-range", "cache-control", "content-encoding", "content-disposition",
                   "content-language", "expires", "x-amz-version-id")
_HTML = "text/html; charset=utf-8"


# -- addresses ------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """Which bucket a website request is for, and its object key.

    ``key`` is None for the path form's bare ``/_website/{bucket}`` (no slash yet).
    """

    bucket: str
    key: str | None
    form: str                   # "path" or "host"


def parse_address(host: str, raw_path: str, *, region: str) -> Address | None:
    """The website address of a request, or None if it is not a website request."""
    path = raw_path.split("?", 1)[0]
    if path.startswith(PATH_PREFIX):
        bucket, slash, key = path[len(PATH_PREFIX):].partition("/")
        return Address(unquote(bucket), unquote(key) if slash else None, "path")
    found = _HOST.match(host.lower())
    if found and found["region"] == region:
        return Address(found["bucket"], unquote(path.lstrip("/")), "host")
    return None


def website_url(url: str, endpoint_url: str) -> str:
    """``url`` if it is not an S3 website endpoint, else its local path form.

    ``http://b.s3-website-us-east-1.amazonaws.com`` becomes
    ``http://127.0.0.1:4580/_website/b``, what a CloudFormation ``WebsiteURL`` output
    shows locally.
    """
    found = _AWS_WEBSITE_URL.match(url)
    if found is None:
        return url
    return f"{endpoint_url.rstrip('/')}{PATH_PREFIX}{found['bucket']}{found['rest'] or ''}"


# -- the website configuration ----------------------------------------------------------


@dataclass(frozen=True)
class WebsiteConfig:
    """A bucket's website configuration (PutBucketWebsite), as plain values."""

    index_suffix: str | None = None
    error_key: str | None = None
    redirect_all: Mapping[str, str] | None = None
    routing_rules: tuple[tuple[Mapping[str, str], Mapping[str, str]], ...] = ()


def _children(element: ElementTree.Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {child.tag.split("}")[-1]: (child.text or "") for child in element}


def parse_website_config(xml: bytes) -> WebsiteConfig:
    """The configuration from GetBucketWebsite's XML."""
    root = ElementTree.fromstring(xml)
    for element in root.iter():
        element.tag = element.tag.split("}")[-1]
    rules = tuple((_children(rule.find("Condition")), _children(rule.find("Redirect")))
                  for rule in root.iterfind("RoutingRules/RoutingRule"))
    return WebsiteConfig(
        index_suffix=root.findtext("IndexDocument/Suffix"),
        error_key=root.findtext("ErrorDocument/Key"),
        redirect_all=_children(root.find("RedirectAllRequestsTo")) or None,
        routing_rules=rules)


# -- what the website reads from S3 ------------------------------------------------------


@dataclass
class Stored:
    """One S3 API answer: status, lower-case headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


class BucketStore(Protocol):
    """The S3 calls the website endpoint makes, as the bucket's owner."""

    def bucket(self, bucket: str, subresource: str) -> Stored: ...

    def object(self, bucket: str, key: str, *, method: str, headers: Mapping[str, str]
               ) -> Stored: ...

    def object_acl(self, bucket: str, key: str) -> Stored: ...


# -- serving --------------------------------------------------------------------------


@dataclass
class Reply:
    """What the website endpoint answers."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class _Failure(Exception):
    """An S3 error on the way to an object: its status, code, message and details."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


_REASONS = {301: "Moved Permanently", 302: "Found", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


def _request_ids() -> tuple[str, str]:
    return (secrets.token_hex(8).upper(),
            base64.b64encode(secrets.token_bytes(48)).decode())


def _error_page(failure: _Failure, *, request_id: str, host_id: str,
                error_document: _Failure | None = None) -> bytes:
    """S3's own HTML error page (not XML: website endpoints answer browsers)."""
    title = f"{failure.status} {_REASONS.get(failure.status, 'Error')}"
    items = [("Code", failure.code), ("Message", failure.message), *failure.details.items(),
             ("RequestId", request_id), ("HostId", host_id)]
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>",
             "<ul>", *(f"<li>{name}: {html.escape(value)}</li>" for name, value in items),
             "</ul>"]
    if error_document is not None:
        nested = [("Code", error_document.code), ("Message", error_document.message),
                  *error_document.details.items()]
        lines += ["<h3>An Error Occurred While Attempting to Retrieve a Custom Error "
                  "Document</h3>", "<ul>",
                  *(f"<li>{name}: {html.escape(value)}</li>" for name, value in nested),
                  "</ul>"]
    lines += ["<hr/>", "</body>", "</html>", ""]
    return "\n".join(lines).encode()


class _Site:
    """One bucket's website while answering one request (its settings read once)."""

    def __init__(self, store: BucketStore, bucket: str, context: RequestContext) -> None:
        self.store, self.bucket, self.context = store, bucket, context
        found = store.bucket(bucket, "website")
        if found.status == 404 and b"NoSuchBucket" in found.body:
            raise _Failure(404, "NoSuchBucket", "The specified bucket does not exist",
                           BucketName=bucket)
        if found.status != 200:
            raise _Failure(404, "NoSuchWebsiteConfiguration",
                           "The specified bucket does not have a website configuration",
                           BucketName=bucket)
        self.config = parse_website_config(found.body)
        policy = store.bucket(bucket, "policy")
        self.policy = json.loads(policy.body) if policy.status == 200 else None
        block = store.bucket(bucket, "publicAccessBlock")
        self.block = (parse_public_access_block(block.body) if block.status == 200
                      else PublicAccessBlock())
        ownership = store.bucket(bucket, "ownershipControls")
        self.acls_enabled = b"BucketOwnerEnforced" not in ownership.body

    def _public(self, key: str) -> bool:
        acl_public = False
        if self.acls_enabled and not self.block.ignore_public_acls:
            acl = self.store.object_acl(self.bucket, key)
            acl_public = acl.status == 200 and acl_grants_public_read(_grants(acl.body))
        return anonymous_read(bucket=self.bucket, key=key, policy=self.policy,
                              block=self.block, acl_public=acl_public,
                              acls_enabled=self.acls_enabled, context=self.context)

    def read(self, key: str, *, method: str, headers: Mapping[str, str]) -> Stored:
        """The object, if it exists and everyone may read it; else a _Failure."""
        found = self.store.object(self.bucket, key, method=method, headers=headers)
        if found.status == 404:
            raise _Failure(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        if not self._public(key):
            raise _Failure(403, "AccessDenied", "Access Denied")
        return found

    def exists(self, key: str) -> bool:
        return self.store.object(self.bucket, key, method="HEAD", headers={}).status == 200


def _grants(xml: bytes) -> list[dict[str, str]]:
    root = ElementTree.fromstring(xml)
    grants = []
    for grant in root.iter():
        if grant.tag.split("}")[-1] != "Grant":
            continue
        fields = {child.tag.split("}")[-1]: child for child in grant}
        grantee = fields.get("Grantee")
        uri = next((c.text for c in (grantee if grantee is not None else [])
                    if c.tag.split("}")[-1] == "URI"), None)
        permission = fields.get("Permission")
        grants.append({"uri": uri or "",
                       "permission": permission.text if permission is not None else ""})
    return grants


def _redirect(status: int, location: str) -> Reply:
    return Reply(status, {"Location": location, "Content-Length": "0"})


def _rule_redirect(redirect: Mapping[str, str], condition: Mapping[str, str], key: str,
                   *, host: str) -> Reply:
    """Where a routing rule sends ``key`` (S3: "Configuring redirects with routing rules")."""
    if "ReplaceKeyWith" in redirect:
        key = redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in redirect:
        prefix = condition.get("KeyPrefixEquals", "")
        key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix):]
    scheme = redirect.get("Protocol", "http")
    return _redirect(int(redirect.get("HttpRedirectCode", "301")),
                     f"{scheme}://{redirect.get('HostName', host)}/{quote(key)}")


def _matching_rule(config: WebsiteConfig, key: str, error: int | None
                   ) -> tuple[Mapping[str, str], Mapping[str, str]] | None:
    for condition, redirect in config.routing_rules:
        prefix = condition.get("KeyPrefixEquals")
        code = condition.get("HttpErrorCodeReturnedEquals")
        if prefix is not None and not key.startswith(prefix):
            continue
        if code is not None and (error is None or int(code) != error):
            continue
        if code is None and error is not None:
            continue              # prefix-only rules were applied before the lookup
        return condition, redirect
    return None


def _object_reply(found: Stored, *, method: str, status: int | None = None) -> Reply:
    # aiohttp counts a GET's body itself; a HEAD says how long the GET would be.
    passed = [n for n in _OBJECT_HEADERS if n != "content-length" or method == "HEAD"]
    headers = {name.title() if name != "etag" else "ETag": value
               for name, value in found.headers.items() if name in passed}
    headers.update({f"x-amz-meta-{n[11:]}": v for n, v in found.headers.items()
                    if n.startswith("x-amz-meta-")})
    return Reply(status or found.status, headers, b"" if method == "HEAD" else found.body)


def serve(store: BucketStore, *, method: str, address: Address, host: str,
          headers: Mapping[str, str], context: RequestContext) -> Reply:
    """Answer one website request as S3's website endpoint does."""
    request_id, host_id = _request_ids()

    def failed(failure: _Failure, nested: _Failure | None = None) -> Reply:
        body = _error_page(failure, request_id=request_id, host_id=host_id,
                           error_document=nested)
        return Reply(failure.status, {"Content-Type": _HTML},
                     b"" if method == "HEAD" else body)

    if method not in ("GET", "HEAD"):
        return failed(_Failure(405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               Method=method, ResourceType="OBJECT"))
    try:
        site = _Site(store, address.bucket, context)
    except _Failure as failure:
        return failed(failure)
    reply = _serve_site(site, method=method, address=address, host=host, headers=headers,
                        failed=failed)
    reply.headers.setdefault("x-amz-request-id", request_id)
    reply.headers.setdefault("x-amz-id-2", host_id)
    return reply


def _serve_site(site: _Site, *, method: str, address: Address, host: str,
                headers: Mapping[str, str], failed: Any) -> Reply:
    config = site.config
    if config.redirect_all:
        scheme = config.redirect_all.get("Protocol", "http")
        return _redirect(301, f"{scheme}://{config.redirect_all.get('HostName', host)}/"
                              f"{quote(address.key or '')}")
    if address.key is None:        # /_website/{bucket}: the root needs its slash
        return _redirect(302, f"{quote(address.bucket)}/")
    asked = address.key
    rule = _matching_rule(config, asked, None)
    if rule is not None:
        return _rule_redirect(rule[1], rule[0], asked, host=host)
    folder = asked == "" or asked.endswith("/")
    key = asked + (config.index_suffix or "") if folder else asked
    try:
        found = site.read(key, method=method, headers=headers)
    except _Failure as failure:
        if failure.status == 404 and not folder and config.index_suffix \
                and site.exists(f"{asked}/{config.index_suffix}"):
            last = asked.rsplit("/", 1)[-1]
            return _redirect(302, f"/{quote(asked)}/" if address.form == "host"
                             else f"{quote(last)}/")
        return _error_reply(site, failure, key=key, method=method, host=host, failed=failed)
    location = found.headers.get("x-amz-website-redirect-location")
    if location:
        return _redirect(301, location)
    return _object_reply(found, method=method)


def _error_reply(site: _Site, failure: _Failure, *, key: str, method: str, host: str,
                 failed: Any) -> Reply:
    """A 4XX: a routing rule for it, else the error document with the error's status."""
    rule = _matching_rule(site.config, key, failure.status)
    if rule is not None:
        return _rule_redirect(rule[1], rule[0], key, host=host)
    if not site.config.error_key:
        return failed(failure)
    try:
        document = site.read(site.config.error_key, method=method, headers={})
    except _Failure as nested:
        return failed(failure, nested)
    location = document.headers.get("x-amz-website-redirect-location")
    if location:
        return _redirect(301, location)
    return _object_reply(document, method=method, status=failure.status)


# -- the aiohttp side ------------------------------------------------------------------


# moto answers an unsigned object read by the object's ACL alone; the website endpoint has
# already applied S3's rules for anonymous readers (policy, ACL, Block Public Access), so
# it reads as the bucket's owner. The signature is never checked on this in-process path.
_OWNER = {"Authorization": "AWS4-HMAC-SHA256 Credential=WEBSITEENDPOINT/20230101/us-east-1/"
                           "s3/aws4_request, SignedHeaders=host, Signature=0"}
# Request headers a website GET passes on to the object read (conditional and range GETs).
_PASSED = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range")


class _MotoStore:
    """The :class:`BucketStore` of the local cloud: moto's S3, called in-process."""

    def __init__(self, moto: Any) -> None:
        self._moto = moto

    def _call(self, method: str, path: str, query: str = "",
              headers: Mapping[str, str] | None = None) -> Stored:
        status, raw, body = self._moto.request(method, path, query=query,
                                               headers={**_OWNER, **(headers or {})})
        return Stored(status, {name.lower(): value for name, value in raw}, body)

    def bucket(self, bucket: str, subresource: str) -> Stored:
        return self._call("GET", f"/{quote(bucket)}", subresource)

    def object(self, bucket: str, key: str, *, method: str, headers: Mapping[str, str]
               ) -> Stored:
        passed = {name: value for name, value in headers.items() if name.lower() in _PASSED}
        return self._call(method, self._path(bucket, key), headers=passed)

    def object_acl(self, bucket: str, key: str) -> Stored:
        return self._call("GET", self._path(bucket, key), "acl")

    @staticmethod
    def _path(bucket: str, key: str) -> str:
        return f"/{quote(bucket)}/{quote(key, safe='/~')}"


class Websites:
    """The local cloud's S3 website endpoints: claims website requests and answers them."""

    def __init__(self, settings: Settings, moto: Any) -> None:
        self._settings = settings
        self._store = _MotoStore(moto)

    def address(self, request: web.Request) -> Address | None:
        return parse_address(request.host, request.raw_path, region=self._settings.region)

    def owns(self, request: web.Request) -> bool:
        """Whether ``request`` is for a website endpoint (path or virtual-host form)."""
        return self.address(request) is not None

    async def handle(self, request: web.Request) -> web.Response:
        address = self.address(request)
        assert address is not None, "handle() is only called for requests owns() claimed"
        context = RequestContext(source_ip=request.remote or "127.0.0.1",
                                 referer=request.headers.get("Referer"),
                                 user_agent=request.headers.get("User-Agent"),
                                 partition=self._settings.partition)
        reply = await asyncio.to_thread(
            serve, self._store, method=request.method, address=address, host=request.host,
            headers=dict(request.headers), context=context)
        response = web.Response(status=reply.status, body=reply.body)
        response.headers.update(reply.headers)
        response.headers["Server"] = "AmazonS3"
        return response
