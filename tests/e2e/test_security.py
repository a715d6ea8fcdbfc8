"""The four attacks of issue 10, replayed against a running local cloud, each refused with
nothing changed; and each way a client can hold the wrong credentials gets the error
AWS gives, as boto3 raises it."""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import websocket
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from workshop import cloud as lifecycle
from workshop.emulator.credentials import ADMIN_TOKEN_HEADER, CredentialStore, credentials_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ECHO = FIXTURES / "e2e" / "echo.yaml"
EVIL = "http://evil.example"
NO_RETRY = Config(retries={"max_attempts": 1})
# Every admin endpoint, as a web page could send it (a simple request needs no preflight).
ADMIN_PATHS = ["/_workshop/status", "/_workshop/deploy", "/_workshop/outputs",
               "/_workshop/stack", "/_workshop/delete", "/_workshop/reset",
               "/_workshop/shutdown", "/_workshop/faults", "/moto-api/reset",
               "/moto-api/data.json"]


@pytest.fixture(scope="module")
def guarded(cloud: dict) -> dict[str, Any]:
    """A deployed stack and a table: what every attack below must leave in place."""
    outputs = lifecycle.deploy(ECHO, stack_name="guarded")["outputs"]
    boto3.client("dynamodb").create_table(
        TableName="guarded-scores", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return {"outputs": outputs, "pid": cloud["pid"]}


def assert_unchanged(guarded: dict[str, Any]) -> None:
    state = lifecycle.status()
    assert state is not None and state["pid"] == guarded["pid"], "the cloud was stopped"
    assert "guarded" in state["stacks"]
    assert "guarded-scores" in boto3.client("dynamodb").list_tables()["TableNames"]


def send(method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b"",
         address: str = "127.0.0.1", port: int | None = None
         ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """A raw request, with exactly the headers given (Host too, if given)."""
    connection = http.client.HTTPConnection(
        address, port or int(os.environ["WORKSHOP_PORT"]), timeout=30)
    headers = dict(headers or {})
    try:
        connection.putrequest(method, path, skip_host="Host" in headers,
                              skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def admin_token() -> str:
    return json.loads(credentials_path(Path(os.environ["WORKSHOP_HOME"])).read_text())[
        "admin_token"]


def cors_headers(headers: http.client.HTTPMessage) -> list[str]:
    return [name for name in headers if name.lower().startswith("access-control-")]


# -- attack 1: a cross-origin simple POST to the admin API -------------------------------------


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_a_web_page_cannot_use_the_admin_api(guarded: dict, path: str) -> None:
    for method in ("POST", "GET"):
        status, headers, body = send(method, path, body=b'{"stack_name": "guarded"}',
                                     headers={"Content-Type": "text/plain", "Origin": EVIL})
        assert status in (401, 403), (method, path, status, body)
        assert not cors_headers(headers)
    assert_unchanged(guarded)


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_the_admin_api_wants_its_token_even_without_an_origin(guarded: dict, path: str) -> None:
    missing = send("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
    wrong = send("POST", path, body=b"{}", headers={"Content-Type": "application/json",
                                                    ADMIN_TOKEN_HEADER: admin_token()[:-2]})
    assert (missing[0], wrong[0]) == (401, 403)
    assert json.loads(wrong[2])["refused"] == "token"
    assert_unchanged(guarded)


def test_the_cli_and_the_notebook_calls_send_the_token(guarded: dict) -> None:
    assert lifecycle.outputs(stack_name="guarded") == guarded["outputs"]
    status, _, body = send("GET", "/_workshop/status",
                           headers={ADMIN_TOKEN_HEADER: admin_token()})
    assert status == 200 and json.loads(body)["security"]["admin_token"] is True


# -- attack 2: a foreign Host (DNS rebinding) --------------------------------------------------


def signed(service: str, target: str, body: bytes, *, host: str,
           keys: tuple[str, str] | None = None) -> dict[str, str]:
    """Headers of a request correctly signed with this installation's keys for ``host``."""
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0", "Host": host})
    key_id, secret = keys or (os.environ["AWS_ACCESS_KEY_ID"],
                              os.environ["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_a_foreign_host_is_refused_even_correctly_signed(guarded: dict) -> None:
    body = json.dumps({"TableName": "guarded-scores"}).encode()
    headers = signed("dynamodb", "DynamoDB_20120810.DeleteTable", body,
                     host="attacker.example:80")
    status, _, reply = send("POST", "/", headers=headers, body=body)
    assert status == 403 and json.loads(reply)["refused"] == "host"
    status, _, reply = send("GET", "/_workshop/status",
                            headers={"Host": "attacker.example", ADMIN_TOKEN_HEADER: admin_token()})
    assert status == 403
    assert_unchanged(guarded)


def test_loopback_names_are_this_clouds(guarded: dict) -> None:
    port = os.environ["WORKSHOP_PORT"]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"api.localhost:{port}"):
        body = json.dumps({}).encode()
        status, _, reply = send("POST", "/", body=body, headers=signed(
            "dynamodb", "DynamoDB_20120810.ListTables", body, host=host))
        assert status == 200, reply


# -- attack 3: CORS ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/_workshop/reset", "/2015-03-31/functions/x/invocations"])
def test_a_cors_preflight_is_refused_and_offers_nothing(guarded: dict, path: str) -> None:
    status, headers, _ = send("OPTIONS", path, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type"})
    assert status == 403 and not cors_headers(headers)


def test_a_signed_call_from_a_web_page_is_refused(guarded: dict) -> None:
    """Even with the keys, a page's fetch (it sends Origin) is not served."""
    body = json.dumps({"TableName": "guarded-scores"}).encode()
    host = f"127.0.0.1:{os.environ['WORKSHOP_PORT']}"
    headers = signed("dynamodb", "DynamoDB_20120810.DeleteTable", body, host=host)
    status, response_headers, reply = send("POST", "/", body=body,
                                           headers={**headers, "Origin": EVIL})
    assert status == 403 and json.loads(reply)["refused"] == "origin"
    assert not cors_headers(response_headers)
    assert_unchanged(guarded)


def test_the_game_accepts_any_origin_as_api_gateway_does(guarded: dict) -> None:
    ws = websocket.create_connection(guarded["outputs"]["WebSocketURL"], timeout=10,
                                     origin=EVIL)
    ws.send(json.dumps({"action": "echo", "data": "from a page"}))
    assert json.loads(ws.recv())["data"] == "from a page"
    ws.close()


# -- attack 4: unsigned calls, and the wrong credentials ---------------------------------------


UNSIGNED = [
    # (what, method, path, headers, body, status, code)
    ("dynamodb", "POST", "/", {"X-Amz-Target": "DynamoDB_20120810.DeleteTable",
                               "Content-Type": "application/x-amz-json-1.0"},
     b'{"TableName": "guarded-scores"}', 400, "MissingAuthenticationTokenException"),
    ("stepfunctions", "POST", "/", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                                    "Content-Type": "application/x-amz-json-1.0"},
     b"{}", 400, "MissingAuthenticationTokenException"),
    ("logs", "POST", "/", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                           "Content-Type": "application/x-amz-json-1.1"},
     b"{}", 400, "MissingAuthenticationTokenException"),
    ("sqs", "POST", "/", {"X-Amz-Target": "AmazonSQS.CreateQueue",
                          "Content-Type": "application/x-amz-json-1.0"},
     b'{"QueueName": "planted"}', 403, "MissingAuthenticationToken"),
    ("sns", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
     b"Action=CreateTopic&Name=planted&Version=2010-03-31", 403, "MissingAuthenticationToken"),
    ("lambda", "POST", "/2015-03-31/functions/anything/invocations", {}, b"{}", 403,
     "MissingAuthenticationTokenException"),
    ("s3", "PUT", "/planted-bucket", {}, b"", 403, "AccessDenied"),
]


@pytest.mark.parametrize(("what", "method", "path", "headers", "body", "status", "code"),
                         UNSIGNED, ids=[row[0] for row in UNSIGNED])
def test_an_unsigned_call_is_refused_in_the_services_own_words(
        guarded: dict, what: str, method: str, path: str, headers: dict, body: bytes,
        status: int, code: str) -> None:
    got, response_headers, reply = send(method, path, headers=headers, body=body)
    assert got == status
    text = reply.decode()
    assert code in text or response_headers.get("x-amzn-ErrorType") == code, text
    assert "planted" not in json.dumps(boto3.client("sqs").list_queues(), default=str)
    assert "planted" not in json.dumps(boto3.client("sns").list_topics(), default=str)
    buckets = boto3.client("s3").list_buckets()["Buckets"]
    assert "planted-bucket" not in [bucket["Name"] for bucket in buckets]
    assert_unchanged(guarded)


def test_an_unsigned_post_to_connections_is_refused(guarded: dict) -> None:
    api_path = urlsplit(guarded["outputs"]["WebSocketURL"]).path
    status, headers, reply = send("POST", f"{api_path}/@connections/abc=", body=b"spoof")
    assert status == 403 and headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(reply) == {"message": "Missing Authentication Token"}


@functools.lru_cache(maxsize=1)
def shared_session() -> boto3.session.Session:
    """One session for the many clients below (each new session reloads every model)."""
    return boto3.session.Session()


def client(service: str, **keys: str) -> Any:
    keys = {"aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"], **keys}
    return shared_session().client(service, config=NO_RETRY,
                                   region_name=os.environ["AWS_REGION"],
                                   endpoint_url=os.environ["AWS_ENDPOINT_URL"], **keys)


CALLS = {
    "dynamodb": lambda c: c.list_tables(),
    "sns": lambda c: c.list_topics(),
    "sqs": lambda c: c.list_queues(),
    "s3": lambda c: c.list_buckets(),
    "lambda": lambda c: c.list_functions(),
    "stepfunctions": lambda c: c.list_state_machines(),
    "logs": lambda c: c.describe_log_groups(),
    "iam": lambda c: c.list_roles(),
}
WRONG_SECRET = {"dynamodb": "InvalidSignatureException", "sns": "SignatureDoesNotMatch",
                "sqs": "SignatureDoesNotMatch", "s3": "SignatureDoesNotMatch",
                "lambda": "InvalidSignatureException", "iam": "SignatureDoesNotMatch",
                "stepfunctions": "InvalidSignatureException", "logs": "InvalidSignatureException"}
UNKNOWN_KEY = {"dynamodb": "UnrecognizedClientException", "sns": "InvalidClientTokenId",
               "sqs": "InvalidClientTokenId", "s3": "InvalidAccessKeyId",
               "lambda": "UnrecognizedClientException", "iam": "InvalidClientTokenId",
               "stepfunctions": "UnrecognizedClientException",
               "logs": "UnrecognizedClientException"}
BAD_TOKEN = {**UNKNOWN_KEY, "s3": "InvalidToken"}


def error_code(service: str, **keys: str) -> str:
    with pytest.raises(ClientError) as error:
        CALLS[service](client(service, **keys))
    return error.value.response["Error"]["Code"]


@pytest.mark.parametrize("service", sorted(CALLS))
def test_the_wrong_credentials_get_the_error_aws_gives(guarded: dict, service: str) -> None:
    assert error_code(service, aws_secret_access_key="x" * 40) == WRONG_SECRET[service]
    assert error_code(service, aws_access_key_id="AKIAIOSFODNN7EXAMPLE") == UNKNOWN_KEY[service]
    # The installation's key with a session token it was never issued with.
    assert error_code(service, aws_session_token="forged") == BAD_TOKEN[service]
    CALLS[service](client(service))  # and the right ones work


def test_the_wrong_credentials_for_connections_get_api_gateways_errors(guarded: dict) -> None:
    url = urlsplit(guarded["outputs"]["WebSocketURL"])
    endpoint = f"http://{url.netloc}{url.path}"

    def post(**keys: str) -> str:
        management = shared_session().client(
            "apigatewaymanagementapi", endpoint_url=endpoint, config=NO_RETRY,
            region_name=os.environ["AWS_REGION"],
            **{"aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"], **keys})
        with pytest.raises(ClientError) as error:
            management.post_to_connection(ConnectionId="abc=", Data=b"x")
        return error.value.response["Error"]["Code"]

    assert post(aws_secret_access_key="x" * 40) == "InvalidSignatureException"
    assert post(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                aws_secret_access_key="y" * 40) == "AccessDeniedException"
    assert post(aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]) == "GoneException"


def test_refusals_are_in_the_clouds_log(guarded: dict) -> None:
    send("POST", "/_workshop/reset", body=b"{}", headers={"Origin": EVIL})
    log = Path(os.environ["WORKSHOP_HOME"], f"cloud-{os.environ['WORKSHOP_PORT']}.log")
    lines = [line for line in log.read_text().splitlines() if "workshop.access" in line]
    assert any("POST /_workshop/reset" in line and "[origin]" in line and EVIL in line
               for line in lines)
    assert any("[signature]" in line and "AKIAIOSFODNN7EXAMPLE" in line for line in lines)


# -- the credentials file, from the command line -----------------------------------------------


def workshop(*args: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if home is not None:
        env["WORKSHOP_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_env_exports_this_installations_keys(guarded: dict) -> None:
    result = workshop("env")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE"
    assert f"export AWS_ACCESS_KEY_ID={os.environ['AWS_ACCESS_KEY_ID']}" in result.stdout
    assert "testing" not in result.stdout


def test_a_loose_credentials_file_is_one_line_naming_chmod(guarded: dict) -> None:
    path = credentials_path(Path(os.environ["WORKSHOP_HOME"]))
    path.chmod(0o644)
    try:
        result = workshop("status")
    finally:
        path.chmod(0o600)
    assert result.returncode == 1
    assert result.stderr == f"workshop status: {path} can be read or written by other users " \
        f"(mode 0644): run `chmod 600 {path}`\n"


def test_another_installations_token_is_explained(guarded: dict, tmp_path: Path) -> None:
    """Another WORKSHOP_HOME on the same port: its token is refused, and said so."""
    CredentialStore.load(tmp_path, account_id="123456789012", create=True)
    result = workshop("reset", home=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "refuses the admin token" in result.stderr and "WORKSHOP_HOME" in result.stderr
    assert_unchanged(guarded)


def test_a_credentials_file_gone_while_the_cloud_runs_is_explained(guarded: dict,
                                                                   tmp_path: Path) -> None:
    result = workshop("deploy", "--template", str(ECHO), "--stack-name", "guarded",
                      home=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "is missing, but a local cloud is running" in result.stderr
    assert "python -m workshop down" in result.stderr
    assert not credentials_path(tmp_path).exists()
    assert_unchanged(guarded)


# -- class play: what --host exposes ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_class_play_exposes_the_game_and_nothing_else(guarded: dict, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``up --host 127.0.0.2``: the WebSocket game (and websites) answer there; the AWS and
    admin APIs, even correctly signed or with the token, answer on 127.0.0.1 only."""
    port = free_port()
    for name, value in (("WORKSHOP_HOME", str(tmp_path)), ("WORKSHOP_PORT", str(port)),
                        ("WORKSHOP_TIME_SCALE", "0.01")):
        monkeypatch.setenv(name, value)
    started = subprocess.run([sys.executable, "-m", "workshop", "up", "--host", "127.0.0.2"],
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    try:
        assert started.returncode == 0, started.stderr
        assert (f"class play: http://127.0.0.2:{port} serves the game only (WebSocket "
                "connections and websites)") in started.stdout
        local_url = lifecycle.deploy(ECHO, stack_name="room")["outputs"]["WebSocketURL"]
        secrets = json.loads(credentials_path(tmp_path).read_text())
        _check_exposure(local_url, port, secrets)
    finally:
        lifecycle.down()


def _check_exposure(local_url: str, port: int, secrets: dict[str, str]) -> None:
    # The game, from "another machine":
    ws = websocket.create_connection(local_url.replace("127.0.0.1", "127.0.0.2"), timeout=10)
    ws.send(json.dumps({"action": "echo", "data": "class"}))
    assert json.loads(ws.recv())["data"] == "class"
    ws.close()
    website = send("GET", "/_website/no-such-bucket/", address="127.0.0.2", port=port)
    assert b'"refused"' not in website[2]  # the website endpoint answered, not the door
    # Everything else, from there, even signed or with the token:
    keys = (secrets["aws_access_key_id"], secrets["aws_secret_access_key"])
    api_path = urlsplit(local_url).path
    status, _, reply = send("POST", f"{api_path}/@connections/abc=", address="127.0.0.2",
                            port=port, body=b"x")
    assert status == 403 and json.loads(reply)["refused"] == "exposure"
    status, _, reply = send("POST", "/_workshop/reset", address="127.0.0.2", port=port,
                            headers={ADMIN_TOKEN_HEADER: secrets["admin_token"]}, body=b"{}")
    assert status == 403 and json.loads(reply)["refused"] == "exposure"
    for address, expected in (("127.0.0.2", 403), ("127.0.0.1", 200)):
        body = b"{}"
        headers = signed("dynamodb", "DynamoDB_20120810.ListTables", body,
                         host=f"{address}:{port}", keys=keys)
        status, _, reply = send("POST", "/", headers=headers, body=body, address=address,
                                port=port)
        assert status == expected, reply


@pytest.mark.parametrize(("address", "words"), [
    ("0.0.0.0", "would listen on every address"),
    ("127.0.0.1", "is where the AWS and admin APIs already listen"),
    ("classroom.local", "is not an IP address"),
])
def test_host_must_be_one_other_address_of_this_machine(address: str, words: str) -> None:
    result = workshop("up", "--host", address)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"workshop up: --host {address}") and words in result.stderr
