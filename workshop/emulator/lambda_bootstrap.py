"""One Lambda worker: imports a handler once, then serves invocations one at a time.

The local cloud's Lambda runtime starts this file as ``python -u lambda_bootstrap.py``
with the function's environment and ``cwd`` set to its code. It behaves like AWS's
Python runtime (``awslambdaric``): the same error types and messages, the same
``context`` object, the same log format, module state kept between invocations.

Protocol with the runtime. Each message is a JSON header line carrying ``size``,
followed by ``size`` bytes of body:

* requests arrive on stdin: ``{"requestId", "deadlineMs", "invokedFunctionArn"}``
  with the event as body;
* replies leave on the fd named by ``_WORKSHOP_CONTROL_FD``: ``init`` once (or
  ``init-error`` with the error document, and the worker exits), then ``result`` or
  ``error`` per request, the body being the response payload;
* stdout and stderr are the function's log. Before each reply the worker flushes them
  and writes the ``_WORKSHOP_LOG_SENTINEL`` marker, so the runtime knows it has every
  line of the phase when the reply arrives.

Standalone on purpose: it imports nothing of the ``workshop`` package, so handler code
running here cannot come to depend on it.
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import importlib
import importlib.abc
import importlib.util
import json
import logging
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

# Multi-line log records travel as one line with "\r" between their lines; the runtime
# turns them back into one multi-line CloudWatch event, as AWS's runtime does.
ERROR_LINE_SEPARATOR = "\r"
ERROR_INDENT = "\u00a0"  # awslambdaric indents traceback lines with no-break spaces

# AWS_LAMBDA_LOG_LEVEL (advanced logging controls) names levels its own way.
_LOG_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
               "WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}

_request_id = ""


class FaultError(Exception):
    """A runtime-level failure with an AWS error type (``Runtime.ImportModuleError``...)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class LambdaContext:
    """The ``context`` argument, with the attributes and methods of AWS's."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        self.identity = CognitoIdentity()
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: Any) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},"
                f"function_name={self.function_name},"
                f"invoked_function_arn={self.invoked_function_arn}])")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


class _LambdaLogHandler(logging.Handler):
    """Writes each record as one log event, in the Python runtime's text format."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            sys.stdout.write(text[:-1].replace("\n", ERROR_LINE_SEPARATOR) + "\n")
        except Exception:  # noqa: BLE001 - logging's own convention for a failed emit
            self.handleError(record)


def setup_logging() -> None:
    """The root logger of AWS's Python runtime: its format, level WARNING unless
    ``AWS_LAMBDA_LOG_LEVEL`` says otherwise."""
    logging.Formatter.converter = time.gmtime
    handler = _LambdaLogHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    ))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = _LOG_LEVELS.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper())
    if level is not None:
        root.setLevel(level)


def log_error(error: dict[str, Any]) -> None:
    """``[ERROR] Type: message`` and the traceback, as one event (awslambdaric's format)."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for entry in error["stackTrace"]:
            for line in entry.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LINE_SEPARATOR.join(lines) + "\n")


def make_error(message: str, error_type: str, trace: list[str] | None, request_id: str
               ) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type,
            "requestId": request_id, "stackTrace": trace or []}


def user_trace(tb: Any) -> list[str]:
    """The traceback from the first frame that is not this bootstrap's."""
    frames = traceback.extract_tb(tb)
    while frames and frames[0].filename == __file__:
        frames.pop(0)
    return traceback.format_list(frames)


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import ``module.function`` the way awslambdaric does, with its error types."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultError("Runtime.MalformedHandlerName",
                         f"Bad handler '{handler}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise FaultError("Runtime.ImportModuleError",
                         f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise FaultError("Runtime.UserCodeSyntaxError",
                         f"Syntax error in module '{module_name}': {error}", trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError("Runtime.HandlerNotFound",
                         f"Handler '{function_name}' missing on module '{module_name}'") from None


class _Encoder(json.JSONEncoder):
    """awslambdaric's encoder: ``Decimal`` (what boto3 returns for DynamoDB numbers) as numbers."""

    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            return int(o) if o == o.to_integral_value() else float(o)
        return super().default(o)


def runtime_version() -> tuple[int, ...]:
    """``(3, 12)`` for ``AWS_Lambda_python3.12``: the python3.12 runtime (and later
    ones) stopped escaping non-ASCII characters in responses."""
    version = os.environ.get("AWS_EXECUTION_ENV", "").rpartition("python")[2]
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def marshal(response: Any) -> bytes:
    if isinstance(response, bytes):
        return response
    try:
        return _Encoder(ensure_ascii=runtime_version() < (3, 12)).encode(response).encode()
    except Exception as error:  # noqa: BLE001 - whatever the encoder raises, as awslambdaric
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {error}") from None


class Channel:
    """Requests in, replies out, and the end-of-phase marker in the log stream."""

    def __init__(self, requests: BinaryIO, replies: BinaryIO, log_fd: int, sentinel: bytes
                 ) -> None:
        self._requests = requests
        self._replies = replies
        self._log_fd = log_fd
        self._sentinel = sentinel

    def receive(self) -> tuple[dict[str, Any], bytes] | None:
        line = self._requests.readline()
        if not line:
            return None
        header = json.loads(line)
        return header, self._requests.read(header["size"])

    def reply(self, kind: str, body: bytes = b"") -> None:
        self._end_log_phase()
        # ru_maxrss is in kilobytes on Linux, bytes on macOS.
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss_mb = math.ceil(rss / (1024 * 1024 if sys.platform == "darwin" else 1024))
        header = {"type": kind, "size": len(body), "maxMemoryMB": rss_mb}
        self._replies.write(json.dumps(header).encode() + b"\n" + body)
        self._replies.flush()

    def _end_log_phase(self) -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            # A handler may have replaced or closed them.
            with contextlib.suppress(Exception):
                stream.flush()
        flush_c_stdio()
        os.write(self._log_fd, self._sentinel)


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None)


def flush_c_stdio() -> None:
    """Flush C-level ``printf`` buffers too, so extension modules' output is not held back."""
    with contextlib.suppress(ImportError, OSError, AttributeError):
        _libc().fflush(None)


def invoke(handler: Callable[[Any, Any], Any], header: dict[str, Any], event_body: bytes
           ) -> tuple[str, bytes]:
    """Run one invocation; ``("result", payload)`` or ``("error", error document)``."""
    global _request_id
    request_id = _request_id = header["requestId"]
    try:
        context = LambdaContext(request_id, header["deadlineMs"], header["invokedFunctionArn"])
        try:
            event = json.loads(event_body)
        except ValueError as error:
            raise FaultError("Runtime.UnmarshalError",
                             f"Unable to unmarshal input: {error}") from None
        return "result", marshal(handler(event, context))
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:  # noqa: BLE001 - any error of the handler is the function's
        error = make_error(str(exc), type(exc).__name__, user_trace(exc.__traceback__),
                           request_id)
    log_error(error)
    return "error", json.dumps(error).encode()


def initialise() -> Callable[[Any, Any], Any] | dict[str, Any]:
    """The handler, or the error document of a failed init (already logged)."""
    try:
        return load_handler(os.environ["_HANDLER"])
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, "")
    except Exception as exc:  # noqa: BLE001 - any error of the module's code is an init error
        error = make_error(str(exc), type(exc).__name__, user_trace(exc.__traceback__), "")
    log_error(error)
    return error


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``callback`` right after module ``name`` is first imported.

    Importing botocore costs about 0.4 s: the execute-api redirect is installed when the
    handler imports boto3, not on every cold start of handlers that never do.
    """

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self._name = name
        self._callback = callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self._name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            self._callback()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_execute_api_redirect(endpoint_url: str) -> None:
    """Make ``*.execute-api.*.amazonaws.com`` (and ``….amazonaws.com.cn``) management calls
    reach the local cloud."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "execute_api_urls.py")
    spec = importlib.util.spec_from_file_location("_workshop_execute_api_urls", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]

    def install() -> None:
        module.install_redirect(endpoint_url)

    if "botocore.handlers" in sys.modules:
        install()
    else:
        sys.meta_path.insert(0, _AfterImport("botocore.handlers", install))


def open_channel() -> Channel:
    """Take the private fds out of the handler's reach before its code runs."""
    control_fd = int(os.environ.pop("_WORKSHOP_CONTROL_FD"))
    sentinel = os.environ.pop("_WORKSHOP_LOG_SENTINEL").encode()
    os.set_inheritable(control_fd, False)
    # Requests keep a private copy of stdin; the handler's stdin reads nothing, as on AWS.
    requests_fd = os.dup(0)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    # A private copy of stdout for the sentinel, in case the handler redirects fd 1.
    log_fd = os.dup(1)
    return Channel(os.fdopen(requests_fd, "rb"), os.fdopen(control_fd, "wb"), log_fd, sentinel)


def main() -> int:
    channel = open_channel()
    code_dir = os.environ["LAMBDA_TASK_ROOT"]
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0]) == here:
        sys.path[0] = code_dir  # the handler's code, not the emulator's, comes first
    else:
        sys.path.insert(0, code_dir)
    endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint_url:
        install_execute_api_redirect(endpoint_url)
    setup_logging()
    handler = initialise()
    if isinstance(handler, dict):
        channel.reply("init-error", json.dumps(handler).encode())
        return 1  # as on AWS: the environment is torn down and initialised again
    channel.reply("init")
    while (request := channel.receive()) is not None:
        kind, body = invoke(handler, *request)
        channel.reply(kind, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
