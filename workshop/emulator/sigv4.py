"""AWS Signature Version 4, verified: plain values in, the signer's identity out.

The local cloud answers only requests signed with credentials it issued, as AWS does.
This module checks a request's signature exactly as AWS computes it
(docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):

* the ``Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…``
  header, or the same in the query string (a presigned URL: ``X-Amz-Signature`` …);
* the canonical request: method, the path (URI-encoded twice and normalised, except for
  S3, whose path is used as sent), the query sorted by encoded name then value, the
  signed headers (values trimmed, repeats joined with ``,``), and the payload's SHA-256
  (S3 may say ``UNSIGNED-PAYLOAD``, or a hash in ``x-amz-content-sha256`` that must match
  the body);
* the request time: within 15 minutes of now (5 for API Gateway's execute-api, which says
  "- 5 min." in its message); a presigned URL until ``X-Amz-Date + X-Amz-Expires``.

Nothing here knows about aiohttp: :class:`RequestParts` holds plain values, and a refusal
is a :class:`SignatureError` naming the :class:`Problem`; :mod:`.aws_refusals` turns it
into each service's own error. S3's chunk-signed uploads (``STREAMING-AWS4-HMAC-SHA256-
PAYLOAD``) have their seed signature checked, not each chunk's; botocore sends them only
over HTTPS, which the local cloud does not serve.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote_plus

from .credentials import Identity, SessionExpired

__all__ = [
    "ALGORITHM", "CredentialLookup", "Problem", "RequestParts", "SignatureError",
    "canonical_path", "parse_http_date",
    "canonical_query", "max_skew_seconds", "signature_service", "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AMZ_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3: "X-Amz-Expires must be less than a week"

# A function from (access key id, session token) to (identity, secret key), or None when
# the key is unknown; it may raise SessionExpired.
CredentialLookup = Callable[[str, "str | None"], "tuple[Identity, str] | None"]


class Problem(enum.Enum):
    """Why a request's credentials were refused (each service names these its own way)."""

    MISSING = "the request is not signed"
    INCOMPLETE = "the signature is incomplete or malformed"
    UNKNOWN_KEY = "the access key id is not one the local cloud issued"
    BAD_TOKEN = "the session token is not one the local cloud issued with this key"
    EXPIRED_TOKEN = "the session token has expired"
    MISMATCH = "the signature does not match (wrong secret key, or the request was changed)"
    SKEWED = "the request time is too far from now"
    PRESIGN_EXPIRED = "the presigned URL has expired"
    CONTENT_SHA_MISMATCH = "x-amz-content-sha256 does not match the body"


@dataclass(frozen=True)
class RequestParts:
    """What a signature covers: the request as it arrived, undecoded."""

    method: str
    raw_path: str  # as sent, percent-encoded, without the query
    raw_query: str  # as sent, without the "?"
    headers: Sequence[tuple[str, str]]  # every header, in order, repeats kept
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def query_pairs(self) -> list[tuple[str, str]]:
        """``(name, value)``, decoded (``+`` is a space, as a form encoder writes it)."""
        pairs = []
        for piece in self.raw_query.split("&"):
            if piece:
                name, _, value = piece.partition("=")
                pairs.append((unquote_plus(name), unquote_plus(value)))
        return pairs


@dataclass
class SignatureError(Exception):
    """A refused signature: the problem, a sentence for the log and the reply, and what
    S3 reports back about it (the key, the string it expected to be signed…)."""

    problem: Problem
    detail: str
    access_key_id: str | None = None
    service: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.problem.value}: {self.detail}"


@dataclass(frozen=True)
class _Claim:
    """What a request says about its own signature."""

    access_key_id: str
    date: str  # YYYYMMDD of the scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    request_time: datetime
    session_token: str | None
    presigned_expires: int | None  # seconds, for a presigned URL


def signature_service(parts: RequestParts) -> str | None:
    """The service a request's credential scope names (``dynamodb``, ``s3``…), if any."""
    credential = _auth_fields(parts).get("Credential") if _has_header_auth(parts) else \
        dict(parts.query_pairs()).get("X-Amz-Credential")
    scope = (credential or "").split("/")
    return scope[3] if len(scope) == 5 else None


def max_skew_seconds(service: str | None) -> int:
    """How far a request's time may be from now: 15 minutes; execute-api says 5."""
    return 300 if service == "execute-api" else 900


def verify(parts: RequestParts, *, lookup: CredentialLookup, now: float | None = None
           ) -> Identity:
    """The identity that signed ``parts``; raises :class:`SignatureError` otherwise."""
    now = time.time() if now is None else now
    claim = _claim(parts)
    try:
        known = lookup(claim.access_key_id, claim.session_token)
    except SessionExpired as error:
        raise SignatureError(Problem.EXPIRED_TOKEN, str(error), claim.access_key_id,
                             claim.service) from None
    if known is None:
        # A session key without its token is unknown, as on AWS; a token that does not
        # belong to the key (or comes with long-term keys) is a bad token.
        if claim.session_token:
            problem, detail = Problem.BAD_TOKEN, f"access key {claim.access_key_id} with a " \
                "session token the local cloud did not issue with it"
        else:
            problem, detail = Problem.UNKNOWN_KEY, f"access key {claim.access_key_id}" + (
                " without its session token" if claim.access_key_id.startswith("ASIA") else "")
        raise SignatureError(problem, detail, claim.access_key_id, claim.service)
    identity, secret = known
    _check_time(claim, now)
    canonical = _canonical_request(parts, claim)
    string_to_sign = "\n".join([
        ALGORITHM, claim.request_time.strftime(_AMZ_DATE),
        f"{claim.date}/{claim.region}/{claim.service}/aws4_request",
        hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(secret, claim.date, claim.region, claim.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, claim.signature.lower()):
        raise SignatureError(
            Problem.MISMATCH, f"signed by {claim.access_key_id} with another secret key, or "
            "changed after signing", claim.access_key_id, claim.service,
            {"StringToSign": string_to_sign, "CanonicalRequest": canonical,
             "SignatureProvided": claim.signature})
    return identity


# -- what the request claims ----------------------------------------------------------------


def _has_header_auth(parts: RequestParts) -> bool:
    return (parts.header("Authorization") or "").startswith("AWS4-")


def _auth_fields(parts: RequestParts) -> dict[str, str]:
    value = (parts.header("Authorization") or "")[len(ALGORITHM):]
    fields = {}
    for piece in value.split(","):
        name, sep, text = piece.strip().partition("=")
        if sep:
            fields[name.strip()] = text.strip()
    return fields


def _claim(parts: RequestParts) -> _Claim:
    authorization = parts.header("Authorization")
    query = dict(parts.query_pairs())
    if authorization is not None:
        if not authorization.startswith(ALGORITHM + " "):
            raise SignatureError(Problem.INCOMPLETE, "Unsupported AWS 'algorithm': "
                                 f"{authorization.split(' ', 1)[0]!r} (expected {ALGORITHM})")
        return _header_claim(parts, _auth_fields(parts))
    if "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        return _query_claim(query)
    raise SignatureError(Problem.MISSING, "no Authorization header and no X-Amz-Signature")


def _header_claim(parts: RequestParts, fields: dict[str, str]) -> _Claim:
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if
               not fields.get(name)]
    if missing:
        raise SignatureError(Problem.INCOMPLETE, " ".join(
            f"Authorization header requires '{name}' parameter." for name in missing))
    amz_date, date = parts.header("X-Amz-Date"), parts.header("Date")
    if amz_date is None and date is None:
        raise SignatureError(Problem.INCOMPLETE, "Authorization header requires existence "
                             "of either a 'X-Amz-Date' or a 'Date' header.")
    when = _parse_time(amz_date) if amz_date is not None else parse_http_date(date or "")
    return _scoped(fields["Credential"], fields["SignedHeaders"], fields["Signature"], when,
                   parts.header("X-Amz-Security-Token"), None)


def _query_claim(query: dict[str, str]) -> _Claim:
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
                "X-Amz-SignedHeaders", "X-Amz-Expires")
    missing = [name for name in required if not query.get(name)]
    if missing:
        raise SignatureError(Problem.INCOMPLETE, " ".join(
            f"AWS query-string parameters must include '{name}'." for name in missing)
            + " Re-examine the query-string parameters.")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise SignatureError(Problem.INCOMPLETE, "Unsupported AWS 'algorithm': "
                             f"{query['X-Amz-Algorithm']!r}")
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 < expires <= _MAX_PRESIGN_SECONDS:
        raise SignatureError(Problem.INCOMPLETE, "X-Amz-Expires must be a number of seconds "
                             "between 1 and 604800 (a week)")
    return _scoped(query["X-Amz-Credential"], query["X-Amz-SignedHeaders"],
                   query["X-Amz-Signature"], _parse_time(query["X-Amz-Date"]),
                   query.get("X-Amz-Security-Token"), expires)


def _scoped(credential: str, signed_headers: str, signature: str, when: datetime,
            token: str | None, expires: int | None) -> _Claim:
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        raise SignatureError(Problem.INCOMPLETE, f"Credential={credential!r} should be "
                             "<key id>/<YYYYMMDD>/<region>/<service>/aws4_request")
    key, date, region, service, _ = scope
    if date != when.strftime("%Y%m%d"):
        raise SignatureError(
            Problem.MISMATCH, "Date in Credential scope does not match YYYYMMDD from "
            f"ISO-8601 version of date from HTTP: '{date}' != "
            f"'{when.strftime('%Y%m%d')}', from '{when.strftime(_AMZ_DATE)}'.", key, service)
    headers = [name.strip().lower() for name in signed_headers.split(";") if name.strip()]
    if "host" not in headers:
        raise SignatureError(Problem.INCOMPLETE, "'Host' or ':authority' must be a "
                             "'SignedHeader' in the AWS Authorization.", key, service)
    return _Claim(key, date, region, service, headers, signature, when, token or None, expires)


def _parse_time(text: str) -> datetime:
    # What SDKs send is read without strptime, which is slow (every request passes here);
    # anything else, an impossible date included, is strptime's to take or refuse.
    digits = _AMZ_DATE_DIGITS.fullmatch(text)
    if digits is not None:
        try:
            return datetime(*map(int, digits.groups()), tzinfo=timezone.utc)
        except ValueError:
            pass
    try:
        return datetime.strptime(text, _AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError(Problem.INCOMPLETE, f"X-Amz-Date {text!r} is not in the "
                             "ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'") from None


def parse_http_date(text: str) -> datetime:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise SignatureError(Problem.INCOMPLETE, f"Date {text!r} is not an HTTP date") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _check_time(claim: _Claim, now: float) -> None:
    signed_at = claim.request_time.timestamp()
    stamp = claim.request_time.strftime(_AMZ_DATE)
    if claim.presigned_expires is not None:
        if now > signed_at + claim.presigned_expires:
            raise SignatureError(
                Problem.PRESIGN_EXPIRED, "Request has expired", claim.access_key_id,
                claim.service, {"X-Amz-Expires": str(claim.presigned_expires),
                                "Expires": _iso(signed_at + claim.presigned_expires),
                                "ServerTime": _iso(now)})
        return
    skew = max_skew_seconds(claim.service)
    minutes = skew // 60
    if signed_at < now - skew:
        detail = (f"Signature expired: {stamp} is now earlier than {_amz(now - skew)} "
                  f"({_amz(now)} - {minutes} min.)")
    elif signed_at > now + skew:
        detail = (f"Signature not yet current: {stamp} is still later than "
                  f"{_amz(now + skew)} ({_amz(now)} + {minutes} min.)")
    else:
        return
    raise SignatureError(Problem.SKEWED, detail, claim.access_key_id, claim.service,
                         {"RequestTime": stamp, "ServerTime": _iso(now),
                          "MaxAllowedSkewMilliseconds": str(skew * 1000)})


def _amz(epoch: float) -> str:
    return time.strftime(_AMZ_DATE, time.gmtime(epoch))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# -- the canonical request ----------------------------------------------------------------


def _canonical_request(parts: RequestParts, claim: _Claim) -> str:
    """The canonical request AWS would build from ``parts`` for this claim."""
    presigned = claim.presigned_expires is not None
    return "\n".join([
        parts.method.upper(),
        canonical_path(parts.raw_path, service=claim.service),
        canonical_query(parts.raw_query, presigned=presigned),
        "".join(f"{name}:{_header_value(parts, name)}\n" for name in claim.signed_headers),
        ";".join(claim.signed_headers),
        _payload_hash(parts, claim.service, presigned=presigned),
    ])


def canonical_path(raw_path: str, *, service: str) -> str:
    """S3: the path as sent. Other services: dot segments and repeated slashes removed,
    then each byte URI-encoded again (the path arrives encoded once)."""
    if service == "s3":
        return raw_path or "/"
    return quote(_remove_dot_segments(raw_path), safe="/~")


def _remove_dot_segments(path: str) -> str:
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and kept else ""
    return leading + "/".join(kept) + trailing


def canonical_query(raw_query: str, *, presigned: bool = False) -> str:
    """Name=value pairs URI-encoded (RFC 3986 unreserved kept), sorted by name then value;
    a presigned URL's own ``X-Amz-Signature`` left out."""
    pairs = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _header_value(parts: RequestParts, name: str) -> str:
    return ",".join(" ".join(value.split()) for value in parts.header_values(name))


def _payload_hash(parts: RequestParts, service: str, *, presigned: bool) -> str:
    """What the signature covers of the body; a claimed hash must be the body's own."""
    claimed = parts.header("x-amz-content-sha256")
    if claimed is None:
        if presigned and service == "s3":
            return UNSIGNED_PAYLOAD
        return hashlib.sha256(parts.body).hexdigest() if parts.body else _EMPTY_SHA256
    if _HEX64.match(claimed):
        actual = hashlib.sha256(parts.body).hexdigest()
        if actual != claimed:
            raise SignatureError(
                Problem.CONTENT_SHA_MISMATCH, "The provided 'x-amz-content-sha256' header "
                "does not match what was computed.", service=service,
                extra={"ClientComputedContentSHA256": claimed,
                       "S3ComputedContentSHA256": actual})
        return claimed
    if service == "s3" and (claimed == UNSIGNED_PAYLOAD or claimed.startswith("STREAMING-")):
        return claimed
    raise SignatureError(Problem.INCOMPLETE, f"x-amz-content-sha256 {claimed!r} is not a "
                         "SHA-256 hex digest" + ("" if service == "s3" else
                                                 f" ({service} signs every payload)"),
                         service=service)


@lru_cache(maxsize=512)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key for one day, region and service (cached: four HMACs saved)."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key

