"""S3's legacy Signature Version 2, verified: what boto3's presigned S3 URLs still use.

``boto3.client("s3").generate_presigned_url(...)`` without a ``signature_version``
config makes a SigV2 URL (``?AWSAccessKeyId=…&Signature=…&Expires=…``) in us-east-1, and
S3 accepts it, so the local cloud must too. The string to sign (S3 developer guide,
"Signing and authenticating REST requests")::

    METHOD \\n Content-MD5 \\n Content-Type \\n Expires (or Date) \\n
    x-amz-* headers, lower-cased and sorted, "name:value\\n" each
    /bucket/key as sent, plus the sub-resources (?acl, ?versionId=…, response-*…) sorted

signed with HMAC-SHA1 and base64-encoded. A presigned URL carries the ``x-amz-*`` and
``Content-*`` values it was signed with in its query. The ``Authorization: AWS
key:signature`` header form is checked the same way, with the ``Date`` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import unquote

from .credentials import Identity, SessionExpired
from .sigv4 import CredentialLookup, Problem, RequestParts, SignatureError, parse_http_date

__all__ = ["is_sigv2", "verify_sigv2"]

# The query parameters that name a sub-resource, and so are part of what is signed
# (botocore's HmacV1Auth.QSAOfInterest, from the same guide).
_SUB_RESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber",
    "policy", "requestPayment", "torrent", "versioning", "versionId", "versions", "website",
    "uploads", "uploadId", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "delete", "lifecycle", "tagging", "restore", "storageClass",
    "notification", "replication", "analytics", "metrics", "inventory", "select",
    "select-type", "object-lock",
})
_MAX_SKEW = 900


def is_sigv2(parts: RequestParts) -> bool:
    """Whether the request is signed (or presigned) with S3's Signature Version 2."""
    if (parts.header("Authorization") or "").startswith("AWS "):
        return True
    names = {name for name, _ in parts.query_pairs()}
    return {"AWSAccessKeyId", "Signature"} <= names


def verify_sigv2(parts: RequestParts, *, lookup: CredentialLookup, now: float | None = None
                 ) -> Identity:
    """The identity that signed an S3 SigV2 request; raises :class:`SignatureError`."""
    now = time.time() if now is None else now
    query = dict(parts.query_pairs())
    authorization = parts.header("Authorization")
    if authorization is not None:
        key, _, signature = authorization[len("AWS "):].partition(":")
        date = parts.header("Date") or ""
        signed_at = parse_http_date(date).timestamp() if date else 0.0
        token = parts.header("x-amz-security-token")
        expires = None
    else:
        key, signature, date = query["AWSAccessKeyId"], query["Signature"], query.get(
            "Expires", "")
        token = query.get("x-amz-security-token")
        signed_at = 0.0  # a presigned URL is good until Expires, whenever it was made
        try:
            expires = int(date)
        except ValueError:
            raise SignatureError(Problem.INCOMPLETE, "Expires must be a number of seconds "
                                 "since the epoch", key, "s3") from None
    try:
        known = lookup(key, token)
    except SessionExpired as error:
        raise SignatureError(Problem.EXPIRED_TOKEN, str(error), key, "s3") from None
    if known is None:
        problem = Problem.BAD_TOKEN if token else Problem.UNKNOWN_KEY
        raise SignatureError(problem, f"access key {key}", key, "s3")
    identity, secret = known
    _check_time(expires, signed_at, now, key)
    string_to_sign = _string_to_sign(parts, query, date, presigned=authorization is None)
    expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(),
                                         hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError(Problem.MISMATCH, f"signed by {key} with another secret key, or "
                             "changed after signing", key, "s3",
                             {"StringToSign": string_to_sign, "SignatureProvided": signature})
    return identity


def _check_time(expires: int | None, signed_at: float, now: float, key: str) -> None:
    if expires is not None:
        if now > expires:
            raise SignatureError(Problem.PRESIGN_EXPIRED, "Request has expired", key, "s3",
                                 {"Expires": _iso(expires), "ServerTime": _iso(now)})
    elif abs(now - signed_at) > _MAX_SKEW:
        raise SignatureError(Problem.SKEWED, "the Date header is more than 15 minutes from "
                             "now", key, "s3", {"RequestTime": _iso(signed_at),
                                                "ServerTime": _iso(now),
                                                "MaxAllowedSkewMilliseconds": "900000"})


def _string_to_sign(parts: RequestParts, query: dict[str, str], date: str, *,
                    presigned: bool) -> str:
    def value(name: str) -> str:
        from_query = query.get(name) if presigned else None
        return (from_query if from_query is not None else parts.header(name) or "").strip()

    amz: dict[str, list[str]] = {}
    for name, text in parts.headers:
        if name.lower().startswith("x-amz-"):
            amz.setdefault(name.lower(), []).append(text.strip())
    if presigned:
        for name, text in query.items():
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), []).append(text.strip())
    lines = [parts.method.upper(), value("content-md5"), value("content-type"), date]
    lines += [f"{name}:{','.join(values)}" for name, values in sorted(amz.items())]
    return "\n".join([*lines, _canonical_resource(parts)])


def _canonical_resource(parts: RequestParts) -> str:
    resources = []
    for piece in parts.raw_query.split("&"):
        name, sep, text = piece.partition("=")
        if name in _SUB_RESOURCES:
            resources.append((name, f"{name}={unquote(text)}" if sep else name))
    resources.sort(key=lambda item: item[0])
    suffix = "&".join(text for _, text in resources)
    return parts.raw_path + (f"?{suffix}" if suffix else "")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
