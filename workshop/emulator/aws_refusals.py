"""How each AWS service refuses a request, in its own protocol and words.

A client written against AWS must see, locally, the error AWS gives: boto3 raises a
``ClientError`` whose code comes from the body (``__type`` for JSON services, ``<Code>``
for XML ones), from the ``x-amzn-ErrorType`` header (REST-JSON), or from SQS's
``x-amzn-query-error`` header. The codes, statuses and messages below are AWS's, from its
error references and real replies quoted in SDK issues:

* JSON services (DynamoDB, Step Functions, CloudWatch Logs), status 400:
  ``MissingAuthenticationTokenException`` "Request is missing Authentication Token",
  ``UnrecognizedClientException`` "The security token included in the request is
  invalid.", ``InvalidSignatureException``, ``ExpiredTokenException``;
* query services (SNS, SQS, IAM, STS), status 403, ``<ErrorResponse>``:
  ``MissingAuthenticationToken``, ``InvalidClientTokenId``, ``SignatureDoesNotMatch``
  (also "Signature expired: …"), ``ExpiredToken``; SQS's JSON protocol says the same codes
  in ``x-amzn-query-error``;
* Lambda (REST-JSON), status 403: ``MissingAuthenticationTokenException`` "Missing
  Authentication Token", ``UnrecognizedClientException``, ``InvalidSignatureException``;
* API Gateway's execute-api (``@connections``), status 403 with ``{"message": …}``, as
  AWS's "troubleshoot HTTP 403 errors from API Gateway" lists them:
  ``MissingAuthenticationTokenException``, ``AccessDeniedException`` "The security token
  included in the request is invalid.", ``InvalidSignatureException``;
* S3, ``<Error>``: an unsigned request is anonymous and gets ``AccessDenied`` (buckets are
  private); ``InvalidAccessKeyId``, ``SignatureDoesNotMatch`` (with the string to sign),
  ``InvalidToken``, ``ExpiredToken``, ``RequestTimeTooSkewed``, "Request has expired" for
  a presigned URL, ``XAmzContentSHA256Mismatch``.

:func:`aws_error` renders any error in a protocol (IAM refusals use it too).
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .sigv4 import Problem, RequestParts, SignatureError, signature_service

__all__ = ["ErrorReply", "Protocol", "aws_error", "protocol_of", "signature_refusal"]

_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details.")
_S3_MISMATCH = ("The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.")
# The query protocol's XML namespace of each service, by its API version.
_QUERY_NAMESPACES = {
    "2010-03-31": "http://sns.amazonaws.com/doc/2010-03-31/",
    "2012-11-05": "http://queue.amazonaws.com/doc/2012-11-05/",
    "2010-05-08": "https://iam.amazonaws.com/doc/2010-05-08/",
    "2011-06-15": "https://sts.amazonaws.com/doc/2011-06-15/",
    "2010-05-15": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
}
# REST-JSON services the local cloud serves (Lambda's API; API Gateway V2's control plane),
# and their paths, for requests that carry no signature to name the service.
_REST_JSON_SERVICES = frozenset({"lambda", "apigateway", "execute-api"})
_REST_JSON_PATH = re.compile(r"^/(?:\d{4}-\d{2}-\d{2}|v2)/")


class Protocol(enum.Enum):
    """The wire protocol a request speaks, and so the shape of its errors."""

    JSON = "json"  # X-Amz-Target: DynamoDB, Step Functions, CloudWatch Logs
    SQS_JSON = "sqs-json"  # SQS's JSON protocol, query-compatible error codes
    QUERY = "query"  # Action=… : SNS, SQS (query), IAM, STS, CloudFormation
    REST_JSON = "rest-json"  # Lambda's REST API
    EXECUTE_API = "execute-api"  # API Gateway's @connections management API
    S3 = "s3"


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error reply as plain values."""

    status: int
    headers: dict[str, str]
    body: bytes


def protocol_of(parts: RequestParts, *, execute_api: bool = False) -> Protocol:
    """The protocol a request speaks, from its shape (and ``execute_api``: the server
    routed it to ``@connections``), as AWS's front ends tell them apart."""
    if execute_api:
        return Protocol.EXECUTE_API
    target = parts.header("X-Amz-Target") or ""
    if target.startswith("AmazonSQS."):
        return Protocol.SQS_JSON
    if target:
        return Protocol.JSON
    if "Action" in _form_fields(parts):
        return Protocol.QUERY
    service = signature_service(parts)
    if service != "s3" and (service in _REST_JSON_SERVICES or _REST_JSON_PATH.match(
            parts.raw_path)):
        return Protocol.REST_JSON
    return Protocol.S3


def _form_fields(parts: RequestParts) -> dict[str, str]:
    fields = dict(parts.query_pairs())
    content_type = (parts.header("Content-Type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded") and parts.body:
        try:
            text = parts.body.decode()
        except UnicodeDecodeError:
            return fields
        fields.update(RequestParts("POST", "/", text, ()).query_pairs())
    return fields


def signature_refusal(error: SignatureError, parts: RequestParts, protocol: Protocol
                      ) -> ErrorReply:
    """The reply AWS gives for ``error`` in ``protocol``."""
    if protocol is Protocol.S3:
        return _s3_refusal(error, parts)
    code, message, status = _refusal_code(error, protocol)
    return aws_error(protocol, code=code, message=message, status=status, parts=parts)


def _refusal_code(error: SignatureError, protocol: Protocol) -> tuple[str, str, int]:
    problem = error.problem
    query = protocol in (Protocol.QUERY, Protocol.SQS_JSON)
    status = 403 if protocol is not Protocol.JSON else 400
    if problem is Problem.MISSING:
        if query:
            return "MissingAuthenticationToken", "Request is missing Authentication Token", 403
        if protocol is Protocol.JSON:
            return ("MissingAuthenticationTokenException",
                    "Request is missing Authentication Token", 400)
        return "MissingAuthenticationTokenException", "Missing Authentication Token", 403
    if problem is Problem.INCOMPLETE:
        return ("IncompleteSignature" if query else "IncompleteSignatureException",
                error.detail, 400)
    if problem in (Problem.UNKNOWN_KEY, Problem.BAD_TOKEN):
        code = {Protocol.EXECUTE_API: "AccessDeniedException"}.get(
            protocol, "InvalidClientTokenId" if query else "UnrecognizedClientException")
        return code, _INVALID_TOKEN, status
    if problem is Problem.EXPIRED_TOKEN:
        return ("ExpiredToken" if query else "ExpiredTokenException"), _EXPIRED_TOKEN, status
    code = "SignatureDoesNotMatch" if query else "InvalidSignatureException"
    if problem is Problem.MISMATCH:
        return code, _mismatch_message(error), status
    return code, error.detail, status  # SKEWED, PRESIGN_EXPIRED, CONTENT_SHA_MISMATCH


def _mismatch_message(error: SignatureError) -> str:
    canonical, string_to_sign = (error.extra.get("CanonicalRequest"),
                                 error.extra.get("StringToSign"))
    if canonical is None or string_to_sign is None:
        return error.detail  # refused before the signature was computed (its scope's date)
    # As DynamoDB (and other services) append it, so the signer can see what differed.
    return (f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n")


def aws_error(protocol: Protocol, *, code: str, message: str, status: int,
              parts: RequestParts | None = None, fields: dict[str, str] | None = None
              ) -> ErrorReply:
    """An error reply in ``protocol`` that boto3 turns into ``ClientError(code)``."""
    request_id = str(uuid.uuid4())
    if protocol is Protocol.S3:
        return _s3_error(code, message, status, fields or {}, request_id)
    if protocol is Protocol.QUERY:
        version = _form_fields(parts).get("Version", "") if parts is not None else ""
        namespace = _QUERY_NAMESPACES.get(version)
        xmlns = f' xmlns="{namespace}"' if namespace else ""
        body = (f"<ErrorResponse{xmlns}><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return ErrorReply(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id},
                          body.encode())
    headers = {"x-amzn-RequestId": request_id}
    if protocol in (Protocol.JSON, Protocol.SQS_JSON):
        headers["Content-Type"] = "application/x-amz-json-1.0"
        document = {"__type": f"com.amazon.coral.service#{code}", "message": message}
        if protocol is Protocol.SQS_JSON:
            headers["x-amzn-query-error"] = f"{code};Sender"
    else:  # REST-JSON and execute-api: the code in a header
        headers.update({"Content-Type": "application/json", "x-amzn-ErrorType": code})
        document = {"message": message}
    return ErrorReply(status, headers, json.dumps(document).encode())


def _s3_refusal(error: SignatureError, parts: RequestParts) -> ErrorReply:
    problem, key = error.problem, error.access_key_id or ""
    token = {"Token-0": parts.header("X-Amz-Security-Token")
             or dict(parts.query_pairs()).get("X-Amz-Security-Token", "")}
    presigned = parts.header("Authorization") is None
    table: dict[Problem, tuple[str, str, int, dict[str, str]]] = {
        Problem.MISSING: ("AccessDenied", "Access Denied", 403, {}),
        Problem.INCOMPLETE: ("AuthorizationQueryParametersError" if presigned
                             else "AuthorizationHeaderMalformed", error.detail, 400, {}),
        Problem.UNKNOWN_KEY: ("InvalidAccessKeyId", "The AWS Access Key Id you provided does "
                              "not exist in our records.", 403, {"AWSAccessKeyId": key}),
        Problem.BAD_TOKEN: ("InvalidToken", "The provided token is malformed or otherwise "
                            "invalid.", 400, token),
        Problem.EXPIRED_TOKEN: ("ExpiredToken", "The provided token has expired.", 400, token),
        Problem.MISMATCH: ("SignatureDoesNotMatch", _S3_MISMATCH, 403,
                           {"AWSAccessKeyId": key, **error.extra}),
        Problem.SKEWED: ("RequestTimeTooSkewed", "The difference between the request time "
                         "and the current time is too large.", 403, error.extra),
        Problem.PRESIGN_EXPIRED: ("AccessDenied", "Request has expired", 403, error.extra),
        Problem.CONTENT_SHA_MISMATCH: ("XAmzContentSHA256Mismatch", error.detail, 400,
                                       error.extra),
    }
    code, message, status, fields = table[problem]
    return aws_error(Protocol.S3, code=code, message=message, status=status, fields=fields)


def _s3_error(code: str, message: str, status: int, fields: dict[str, str],
              request_id: str) -> ErrorReply:
    extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>")
    return ErrorReply(status, {"Content-Type": "application/xml",
                               "x-amz-request-id": request_id, "x-amz-id-2": request_id},
                      body.encode())
