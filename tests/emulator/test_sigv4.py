"""SigV4 (and S3's SigV2) verification agrees with botocore's signer, byte for byte.

Requests are signed by botocore itself, with real clients of every service the workshop
uses, and verified by ``workshop.emulator.sigv4``; then each way a signature can be wrong
is refused for the right reason.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

from workshop.emulator import sigv4
from workshop.emulator.credentials import CredentialStore
from workshop.emulator.s3_sigv2 import is_sigv2, verify_sigv2
from workshop.emulator.sigv4 import Problem, RequestParts, SignatureError, verify

ENDPOINT = "http://127.0.0.1:4599"
STORE = CredentialStore.ephemeral(account_id="123456789012")
ROOT = STORE.installation


class Captured(Exception):
    """Raised by the capture hook: the request botocore was about to send."""

    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def parts_of(prepared: Any) -> RequestParts:
    """The request as the local cloud receives it (urllib3 adds Host from the URL)."""
    url = urlsplit(prepared.url)
    headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", url.netloc))
    body = prepared.body or b""
    if not isinstance(body, bytes):
        body = body.read() if hasattr(body, "read") else body.encode()
    return RequestParts(prepared.method, url.path, url.query, headers, body)


def captured(service: str, operation: str, *, credentials: dict[str, str] | None = None,
             config: Config | None = None, **kwargs: Any) -> RequestParts:
    """What botocore sends for ``operation``, signed, without sending it."""
    keys = credentials or {"AWS_ACCESS_KEY_ID": ROOT.aws_access_key_id,
                           "AWS_SECRET_ACCESS_KEY": ROOT.aws_secret_access_key}
    client = boto3.session.Session().client(
        service, endpoint_url=ENDPOINT, region_name="us-east-1", config=config,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys.get("AWS_SESSION_TOKEN"))

    def capture(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as caught:
        getattr(client, operation)(**kwargs)
    return parts_of(caught.value.request)


AWKWARD = "a b/ü ñ/+&=?#[]%~!$'()*,;:@.txt"

CALLS = [
    ("dynamodb", "put_item", {"TableName": "rooms", "Item": {"pk": {"S": "é 🎮 \u2028"}}}),
    ("dynamodb", "query", {"TableName": "rooms", "IndexName": "by_user",
                           "KeyConditionExpression": "u = :u",
                           "ExpressionAttributeValues": {":u": {"S": "x"}}}),
    ("sqs", "send_message", {"QueueUrl": f"{ENDPOINT}/123456789012/q",
                             "MessageBody": "hello & goodbye = 100% ü"}),
    ("sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                        "Message": "a+b c&d=e ü\n", "Subject": "~*'()"}),
    ("stepfunctions", "start_execution", {"stateMachineArn": "arn:aws:states:us-east-1:"
                                          "123456789012:stateMachine:m", "input": "{}"}),
    ("logs", "filter_log_events", {"logGroupName": "/aws/lambda/f", "filterPattern": "ERROR"}),
    ("lambda", "invoke", {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f",
                          "Qualifier": "live", "Payload": b'{"a": "\\u00fc"}'}),
    ("lambda", "list_functions", {"Marker": "a b+c", "MaxItems": 5}),
    ("iam", "get_role", {"RoleName": "game-role"}),
    ("s3", "put_object", {"Bucket": "game-pages", "Key": AWKWARD, "Body": b"<html>",
                          "Metadata": {"who": "me"}}),
    ("s3", "list_objects_v2", {"Bucket": "game-pages", "Prefix": "a b/+ü",
                               "Delimiter": "/"}),
    ("s3", "get_object", {"Bucket": "game-pages", "Key": "./../x//y",
                          "ResponseContentType": "text/html; charset=utf-8"}),
    ("apigatewaymanagementapi", "post_to_connection", {"ConnectionId": "L0SM9cOFvHcCIhw=",
                                                        "Data": b"hi"}),
]


@pytest.mark.parametrize(("service", "operation", "kwargs"), CALLS,
                         ids=[f"{s}.{o}" for s, o, _ in CALLS])
def test_every_service_botocore_signs_verifies(service: str, operation: str,
                                               kwargs: dict) -> None:
    if service == "apigatewaymanagementapi":  # its endpoint carries the API and stage
        parts = _management(f"{ENDPOINT}/abc123/prod", kwargs)
    else:
        parts = captured(service, operation, **kwargs)
    assert verify(parts, lookup=STORE.identify).arn == "arn:aws:iam::123456789012:root"


def _management(endpoint: str, kwargs: dict) -> RequestParts:
    client = boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=ROOT.aws_access_key_id,
        aws_secret_access_key=ROOT.aws_secret_access_key)

    def capture(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as caught:
        client.post_to_connection(**kwargs)
    return parts_of(caught.value.request)


@pytest.mark.parametrize("path", ["/", "/a/./b/../c//d/", "/%E2%9C%93/x%20y", "/a%2Fb/~c",
                                  "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations"])
@pytest.mark.parametrize("query", [{}, {"b": "2", "a": "1"}, [("k", "2"), ("k", "1")],
                                   {"space": "a b", "plus": "a+b", "uni": "ü✓", "tilde": "~",
                                    "empty": ""}])
@pytest.mark.parametrize("signer", [SigV4Auth, S3SigV4Auth])
def test_awkward_paths_and_queries_verify(signer: type, path: str, query: Any) -> None:
    """Repeated names, unicode, reserved characters, dot segments, for S3's rules and the
    others' (S3 signs the path as sent; the others normalise it and encode it again)."""
    url = ENDPOINT + path + (f"?{percent_encode_sequence(query)}" if query else "")
    request = AWSRequest(method="POST", url=url, data=b"body \xff", headers={"X-Extra": " a  b "})
    service = "s3" if signer is S3SigV4Auth else "dynamodb"
    signer(_credentials(), service, "eu-west-1").add_auth(request)
    assert verify(parts_of(request.prepare()), lookup=STORE.identify) == STORE.root


def test_a_role_session_verifies_as_the_role() -> None:
    session = STORE.issue_role_session("arn:aws:iam::123456789012:role/game/ConnectRole",
                                       session_name="ConnectFunction")
    parts = captured("dynamodb", "get_item", credentials=session, TableName="t",
                     Key={"pk": {"S": "x"}})
    identity = verify(parts, lookup=STORE.identify)
    assert identity.arn == "arn:aws:sts::123456789012:assumed-role/ConnectRole/ConnectFunction"
    assert identity.role_arn == "arn:aws:iam::123456789012:role/game/ConnectRole"


def test_presigned_urls_verify_until_they_expire() -> None:
    s3v4 = Config(signature_version="s3v4")
    for config in (s3v4, None):  # boto3's default makes SigV2 URLs in us-east-1
        client = boto3.session.Session().client(
            "s3", endpoint_url=ENDPOINT, region_name="us-east-1", config=config,
            aws_access_key_id=ROOT.aws_access_key_id,
            aws_secret_access_key=ROOT.aws_secret_access_key)
        url = urlsplit(client.generate_presigned_url(
            "get_object", Params={"Bucket": "pages", "Key": AWKWARD,
                                  "ResponseContentType": "text/plain"}, ExpiresIn=60))
        parts = RequestParts("GET", url.path, url.query, [("Host", url.netloc)])
        check = verify_sigv2 if is_sigv2(parts) else verify
        assert check(parts, lookup=STORE.identify) == STORE.root
        with pytest.raises(SignatureError) as late:
            check(parts, lookup=STORE.identify, now=time.time() + 120)
        assert late.value.problem is Problem.PRESIGN_EXPIRED


def test_generic_presigned_query_auth_verifies() -> None:
    request = AWSRequest(method="GET", url=ENDPOINT + "/?Action=ListTopics&Version=2010-03-31")
    SigV4QueryAuth(_credentials(), "sns", "us-east-1", expires=300).add_auth(request)
    assert verify(parts_of(request.prepare()), lookup=STORE.identify) == STORE.root


# -- each way to be wrong -------------------------------------------------------------------


def refused(parts: RequestParts, **options: Any) -> SignatureError:
    with pytest.raises(SignatureError) as error:
        verify(parts, lookup=STORE.identify, **options)
    return error.value


def test_an_unsigned_request_is_missing_authentication() -> None:
    parts = RequestParts("POST", "/", "", [("Host", "127.0.0.1:4599"),
                                          ("X-Amz-Target", "DynamoDB_20120810.ListTables")],
                         b"{}")
    assert refused(parts).problem is Problem.MISSING


def test_a_wrong_secret_does_not_match() -> None:
    wrong = {"AWS_ACCESS_KEY_ID": ROOT.aws_access_key_id, "AWS_SECRET_ACCESS_KEY": "x" * 40}
    error = refused(captured("dynamodb", "list_tables", credentials=wrong))
    assert error.problem is Problem.MISMATCH
    assert error.extra["CanonicalRequest"].startswith("POST\n/\n")


def test_a_changed_body_does_not_match() -> None:
    parts = captured("dynamodb", "delete_table", TableName="rooms")
    tampered = RequestParts(parts.method, parts.raw_path, parts.raw_query, parts.headers,
                            b'{"TableName": "players"}')
    assert refused(tampered).problem is Problem.MISMATCH


def test_an_unknown_key_is_refused() -> None:
    other = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
             "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    assert refused(captured("sns", "list_topics", credentials=other)).problem is \
        Problem.UNKNOWN_KEY


def test_session_tokens_must_be_genuine_and_present() -> None:
    session = STORE.issue_role_session("arn:aws:iam::123456789012:role/r", session_name="f")
    missing = {k: v for k, v in session.items() if k != "AWS_SESSION_TOKEN"}
    assert refused(captured("sqs", "list_queues", credentials=missing)).problem is \
        Problem.UNKNOWN_KEY
    forged = {**session, "AWS_SESSION_TOKEN": session["AWS_SESSION_TOKEN"][:-4] + "AAAA"}
    assert refused(captured("sqs", "list_queues", credentials=forged)).problem is \
        Problem.BAD_TOKEN
    # Another session's token with this key: refused too.
    other = STORE.issue_role_session("arn:aws:iam::123456789012:role/admin", session_name="f")
    swapped = {**session, "AWS_SESSION_TOKEN": other["AWS_SESSION_TOKEN"]}
    assert refused(captured("sqs", "list_queues", credentials=swapped)).problem is \
        Problem.BAD_TOKEN
    # The installation's long-term key with a token is not a session.
    with_token = {"AWS_ACCESS_KEY_ID": ROOT.aws_access_key_id,
                  "AWS_SECRET_ACCESS_KEY": ROOT.aws_secret_access_key,
                  "AWS_SESSION_TOKEN": session["AWS_SESSION_TOKEN"]}
    assert refused(captured("sqs", "list_queues", credentials=with_token)).problem is \
        Problem.BAD_TOKEN


def test_an_expired_session_is_refused_as_expired() -> None:
    clock = [1_000_000.0]
    store = CredentialStore(ROOT, account_id="123456789012", session_seconds=60,
                            clock=lambda: clock[0])
    session = store.issue_role_session("arn:aws:iam::123456789012:role/r", session_name="f")
    parts = captured("logs", "describe_log_groups", credentials=session)
    clock[0] += 61
    with pytest.raises(SignatureError) as error:
        verify(parts, lookup=store.identify)
    assert error.value.problem is Problem.EXPIRED_TOKEN


@pytest.mark.parametrize(("offset", "words"), [(-16 * 60, "Signature expired"),
                                               (16 * 60, "Signature not yet current")])
def test_a_request_more_than_15_minutes_off_is_refused(offset: int, words: str) -> None:
    parts = captured("dynamodb", "list_tables")
    error = refused(parts, now=time.time() - offset)
    assert error.problem is Problem.SKEWED and error.detail.startswith(words)
    assert "- 15 min.)" in error.detail or "+ 15 min.)" in error.detail
    assert verify(parts, lookup=STORE.identify, now=time.time() + 14 * 60) == STORE.root


def test_execute_api_allows_five_minutes_as_api_gateway_says() -> None:
    parts = _management(f"{ENDPOINT}/abc/prod", {"ConnectionId": "c=", "Data": b"x"})
    error = refused(parts, now=time.time() + 6 * 60)
    assert error.problem is Problem.SKEWED and "- 5 min.)" in error.detail


def test_an_s3_body_must_match_its_claimed_hash() -> None:
    parts = captured("s3", "put_object", Bucket="pages", Key="index.html", Body=b"<html>")
    tampered = RequestParts(parts.method, parts.raw_path, parts.raw_query, parts.headers,
                            b"<script>")
    assert refused(tampered).problem is Problem.CONTENT_SHA_MISMATCH


@pytest.mark.parametrize("authorization", [
    "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
    "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/dynamodb/aws4_request",
    "AWS4-HMAC-SHA512 Credential=x, SignedHeaders=host, Signature=y",
])
def test_a_malformed_authorization_header_is_incomplete(authorization: str) -> None:
    parts = RequestParts("POST", "/", "", [("Host", "h"), ("Authorization", authorization),
                                          ("X-Amz-Date", "20240101T000000Z")])
    assert refused(parts).problem is Problem.INCOMPLETE


def test_sigv2_with_a_wrong_secret_does_not_match() -> None:
    client = boto3.session.Session().client(
        "s3", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=ROOT.aws_access_key_id, aws_secret_access_key="x" * 40)
    url = urlsplit(client.generate_presigned_url("get_object",
                                                 Params={"Bucket": "pages", "Key": "k"}))
    with pytest.raises(SignatureError) as error:
        verify_sigv2(RequestParts("GET", url.path, url.query, [("Host", url.netloc)]),
                     lookup=STORE.identify)
    assert error.value.problem is Problem.MISMATCH


def _credentials() -> Credentials:
    return Credentials(ROOT.aws_access_key_id, ROOT.aws_secret_access_key)


@pytest.mark.parametrize("text", ["20240101T000000Z", "20241231T235959Z", "20240229T120000Z",
                                  "20230229T120000Z", "20241301T000000Z", "20240101T246000Z",
                                  "2024011T000000Z", "20240101T000000", "20240101 000000Z",
                                  "２０２４0101T000000Z", ""])
def test_request_times_are_read_as_strptime_reads_them(text: str) -> None:
    # X-Amz-Date is read on every request, without strptime when it has the usual shape.
    try:
        expected = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        with pytest.raises(SignatureError, match="not in the ISO 8601 basic format"):
            sigv4._parse_time(text)
    else:
        assert sigv4._parse_time(text) == expected
