"""moto's AWS services, called in-process behind the local cloud's one port.

DynamoDB, SNS, SQS, S3, IAM, CloudWatch Logs and the Step Functions control plane are
moto's. Rather than reverse-proxying to a second HTTP server (one more hop on every
call), aiohttp hands each request to moto's WSGI application on a thread pool.

Five things are adjusted here, and only here:

* moto's Step Functions interpreter is switched on, and its Task states reach Lambda
  (and SNS, DynamoDB…) on this same port through ``127.0.0.1`` rather than
  ``localhost``, which resolves to ``::1`` first on some machines, signed with a
  session of the state machine's role (moto's fixed fake keys would be refused, and
  IAM checks each call against the role's policies, as on AWS);
* Wait states and retry back-offs sleep ``time_scale`` times as long;
* a Task whose resource is a plain Lambda ARN reports an error of the Lambda *service*
  (a ``ServiceException`` from Invoke, say) as ``Lambda.ServiceException``, as Step
  Functions does, so a Retry can name it (moto's interpreter reports ``Exception``); a
  refused Invoke (``AccessDeniedException``) is ``Lambda.AWSLambdaException``, as AWS
  reports it;
* AWS-managed policies a role names are made in moto's IAM on demand
  (:mod:`.aws_managed_policies`);
* an execution started without a name gets a UUID, as on AWS (moto would call it
  "None", and refuse the next unnamed start);
* DynamoDB requests run one at a time. moto checks a condition and writes the item in
  separate Python steps, so two threads could both pass ``attribute_not_exists``;
  DynamoDB promises those writes are atomic, and the labs' matchmaking relies on it;
* work moto repeats on every request, or that grows with the tables (a transaction
  deep-copied every table it names), is cut down in :mod:`.moto_costs`;
* S3 blocks public access on new buckets and refuses public bucket policies while it
  does, as AWS does since April 2023 (:mod:`.s3_public_access`).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import secrets
import string
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import aws_managed_policies, moto_costs, s3_public_access
from .credentials import CredentialStore
from .settings import Settings

__all__ = ["MotoServices", "RoleSessions"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def _configure_moto(settings: Settings, credentials: CredentialStore) -> None:
    """Switch on what the local cloud needs before moto's backends are first used."""
    # moto's interpreter builds its clients for http://localhost:{MOTO_PORT}.
    os.environ["MOTO_PORT"] = str(settings.port)
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    default_user_config["iam"]["load_aws_managed_policies"] = False
    for name in ("werkzeug", "moto.stepfunctions.parser", "flask_cors"):
        # werkzeug logs every request and the interpreter an ERROR for every *caught*
        # state error: learners would drown in noise that is not a fault.
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _route_interpreter_to_loopback(RoleSessions(credentials))
    _scale_interpreter_sleeps(settings.time_scale)
    _name_lambda_service_errors()
    _name_lambda_access_denied()
    moto_costs.install()
    s3_public_access.install()
    aws_managed_policies.install()


class RoleSessions:
    """Credentials a state machine's Task calls are signed with: a session of the state
    machine's role (as Step Functions assumes it), reused until it nears its expiry."""

    def __init__(self, credentials: CredentialStore, *, margin: float = 3600.0) -> None:
        self._credentials = credentials
        self._margin = margin
        self._sessions: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, role_arn: str | None) -> Mapping[str, str]:
        if role_arn is None:  # no role to act as: the cloud's own (a reset's warm-up…)
            return self._credentials.environment()
        with self._lock:
            session = self._sessions.get(role_arn)
            expiry = self._credentials.session_expiry(session["AWS_SESSION_TOKEN"]) \
                if session else None
            if session is None or expiry is None or expiry - time.time() < self._margin:
                # Step Functions names its sessions with 32 random letters.
                name = "".join(secrets.choice(string.ascii_letters) for _ in range(32))
                session = self._credentials.issue_role_session(role_arn, session_name=name)
                self._sessions[role_arn] = session
            return session


def _route_interpreter_to_loopback(signer: Callable[[str | None], Mapping[str, str]]) -> None:
    """Task calls go to this port on 127.0.0.1, signed with the credentials ``signer``
    gives for the Task's role (the state machine's, or the Task's ``Credentials``): the
    front door refuses moto's fixed fake keys, and IAM checks what the role may do."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    # A reset configures moto again: wrap the real boto3, not the previous wrapper.
    real_boto3 = getattr(boto_client, "_workshop_real_boto3", boto_client.boto3)
    boto_client._workshop_real_boto3 = real_boto3  # type: ignore[attr-defined]
    # moto builds a new client for every Task it runs, and building one costs tens of
    # milliseconds: a ten-question trivia game spent most of its time there. Clients are
    # thread-safe and these differ only by service, region, endpoint and credentials.
    clients: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()
    task_role = threading.local()  # the role of the Task building a client, on its thread

    def client(*args: Any, **kwargs: Any) -> Any:
        url = kwargs.get("endpoint_url")
        if url:
            kwargs["endpoint_url"] = url.replace("//localhost:", "//127.0.0.1:")
        credentials = signer(getattr(task_role, "arn", None))
        kwargs.update(aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                      aws_session_token=credentials.get("AWS_SESSION_TOKEN"))
        key = (args, kwargs.get("service_name"), kwargs.get("region_name"),
               kwargs.get("endpoint_url"), kwargs["aws_access_key_id"])
        with lock:
            if key not in clients:
                clients[key] = real_boto3.client(*args, **kwargs)
            return clients[key]

    boto_client.boto3 = types.SimpleNamespace(client=client)
    original = getattr(boto_client, "_workshop_real_client_for", boto_client.boto_client_for)
    boto_client._workshop_real_client_for = original  # type: ignore[attr-defined]

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto hands every Task's client its StateCredentials (the execution's role).
        task_role.arn = getattr(state_credentials, "role_arn", None)
        try:
            return original(region, service, state_credentials)
        finally:
            task_role.arn = None

    client_for._workshop_patched = True  # type: ignore[attr-defined]
    # The interpreter's modules import boto_client_for by name: rebind those loaded.
    for name, module in list(sys.modules.items()):
        current = getattr(module, "boto_client_for", None) \
            if name.startswith("moto.stepfunctions.parser") else None
        if current is original or getattr(current, "_workshop_patched", False):
            module.boto_client_for = client_for  # type: ignore[union-attr]


def _scale_interpreter_sleeps(scale: float) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        wait_function,
    )

    def scaled_wait(self: Any, env: Any, wait_seconds: float) -> None:
        # Waking early (StopExecution sets the event) ends the wait, as in moto.
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    wait_function.WaitFunction._wait_interval = scaled_wait
    retrier_decl.time = types.SimpleNamespace(sleep=lambda seconds: _sleep(seconds * scale))


def _name_lambda_service_errors() -> None:
    """A plain Lambda ARN Task fails with ``Lambda.<code>`` when Invoke itself fails.

    AWS: "Lambda errors are reported as Lambda.ErrorName" (Step Functions' guide,
    "Handle Lambda service exceptions"), for both ways of invoking a function. moto's
    ``arn:aws:states:::lambda:invoke`` integration does so; its plain-ARN Task reports
    ``Exception``, which no ``Lambda.ServiceException`` Retry would match.
    """
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = StateTaskLambda._from_error
    if getattr(original, "_workshop_patched", False):
        return  # a reset configures moto again

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error, cause = state_task_service_lambda.StateTaskServiceLambda \
            ._error_cause_from_client_error(ex)
        return FailureEvent(
            env=env, error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=EventDetails(lambdaFunctionFailedEventDetails=(
                LambdaFunctionFailedEventDetails(error=error, cause=cause))))

    from_error._workshop_patched = True  # type: ignore[attr-defined]
    StateTaskLambda._from_error = from_error  # type: ignore[method-assign]


def _name_lambda_access_denied() -> None:
    """A Lambda Task refused by IAM fails with ``Lambda.AWSLambdaException``.

    That is how Step Functions reports an Invoke its role may not make (both for a plain
    function ARN and ``arn:aws:states:::lambda:invoke``), with the cause "User: … is not
    authorized to perform: lambda:InvokeFunction … (Service: AWSLambda; Status Code: 403;
    Error Code: AccessDeniedException; …)", as executions quoted in SDK and sample-app
    issues show. moto would name it ``Lambda.AccessDeniedException``.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )

    service = state_task_service_lambda.StateTaskServiceLambda
    original = service._error_cause_from_client_error
    if getattr(original, "_workshop_patched", False):
        return

    def error_cause(client_error: Any) -> tuple[str, str]:
        error, cause = original(client_error)
        if client_error.response.get("Error", {}).get("Code") == "AccessDeniedException":
            error = "Lambda.AWSLambdaException"
        return error, cause

    error_cause._workshop_patched = True  # type: ignore[attr-defined]
    service._error_cause_from_client_error = staticmethod(error_cause)  # type: ignore[method-assign]


def _named_execution(headers: Any, body: bytes) -> bytes:
    """A StartExecution request without a name, given a UUID one, as AWS does.

    moto's interpreter would name the execution "None" and refuse the next unnamed start
    with ExecutionAlreadyExists. Done on the request, because patching the interpreter's
    backend means importing it at start-up, which takes seconds.
    """
    if headers.get("X-Amz-Target") != "AWSStepFunctions.StartExecution":
        return body
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body  # moto answers a malformed request itself
    if not isinstance(request, dict) or request.get("name"):
        return body
    return json.dumps({**request, "name": str(uuid.uuid4())}).encode()


def _sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


class MotoServices:
    """moto's WSGI application, served from aiohttp on a thread pool."""

    def __init__(self, settings: Settings, *, credentials: CredentialStore | None = None,
                 threads: int = 16) -> None:
        self._credentials = credentials or CredentialStore.ephemeral(
            account_id=settings.account_id, partition=settings.partition)
        _configure_moto(settings, self._credentials)
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        self._settings = settings
        self._app = DomainDispatcherApplication(create_backend_app)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="moto")
        self._dynamodb_lock = threading.Lock()

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one AWS API request with moto."""
        body = _named_execution(request.headers, await request.read())
        environ = self._environ(request, body)
        status, headers, payload = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._call, environ
        )
        response = web.Response(status=status, body=payload)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                response.headers.add(name, value)
        return response

    def call(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
             ) -> tuple[int, bytes]:
        """Call moto from Python in this process (used for resets and warm-up)."""
        status, _headers, payload = self.request(method, path, body=body, headers=headers)
        return status, payload

    def request(self, method: str, raw_path: str, *, query: str = "", body: bytes = b"",
                headers: dict[str, str] | None = None
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Call moto in this process with a query string, keeping the reply's headers
        (the S3 website endpoint reads buckets and objects this way)."""
        environ = self._base_environ(method, raw_path, query, body, headers or {}, "127.0.0.1")
        return self._call(environ)

    def reset(self) -> None:
        """Forget every resource and item in every moto service."""
        status, payload = self.call("POST", "/moto-api/reset")
        if status != 200:
            raise RuntimeError(f"moto reset failed: {status} {payload[:200]!r}")
        _configure_moto(self._settings, self._credentials)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- WSGI plumbing -------------------------------------------------------------

    def _environ(self, request: web.Request, body: bytes) -> dict[str, Any]:
        raw_path, _, query = request.raw_path.partition("?")
        peer = request.remote or "127.0.0.1"
        return self._base_environ(request.method, raw_path, query, body, request.headers, peer)

    def _base_environ(self, method: str, raw_path: str, query: str, body: bytes,
                      headers: Any, peer: str) -> dict[str, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            # WSGI carries the decoded path as latin-1 text; werkzeug re-decodes it.
            "PATH_INFO": unquote(raw_path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self._settings.host,
            "SERVER_PORT": str(self._settings.port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": peer,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        environ.setdefault("HTTP_HOST", f"{self._settings.host}:{self._settings.port}")
        return environ

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self._dynamodb_lock:
                return self._call_app(environ)
        return self._call_app(environ)

    def _call_app(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                           ) -> Any:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        chunks = self._app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        return int(started["status"].split()[0]), started["headers"], payload
