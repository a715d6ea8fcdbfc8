"""Lambda functions run the way AWS runs them, in worker processes of this machine.

Each function gets worker subprocesses (``lambda_bootstrap.py``), each serving one
invocation at a time with its module state kept warm, as a Lambda execution environment
does. Concurrent invocations start more workers, up to the function's reserved
concurrency or ``Settings.lambda_concurrency``; beyond that they wait for a worker, where
AWS (with far more capacity) would throttle only at the account's limit. A synchronous
invocation waits in its caller's task, so it never starts after its caller gave up
(API Gateway's 29 s): a late start would act for a client already told it failed.
Workers idle for
``Settings.worker_idle_seconds`` retire, so memory stays bounded.

Everything a handler can observe is AWS's: its environment variables (built from
scratch), the ``context`` object, ``Timeout`` enforced by killing the worker, crashes and
``sys.exit`` isolated in the worker, the error documents of the Python runtime, and log
lines (``START`` / ``END`` / ``REPORT``) that go to CloudWatch Logs through a
:class:`LogSink`.

The runtime lives in the server's asyncio loop; the deployer may call the
configuration methods from another thread.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import copy
import hashlib
import itertools
import json
import logging
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from .credentials import CredentialStore
from .faults import NO_INJECTION, FaultRegistry, Injection
from .iam_policy import action_matches, arn_like
from .ids import RANDOM_IDS, SYSTEM_CLOCK, Clock, IdSource
from .settings import Settings

__all__ = [
    "INVOCATION_TYPES",
    "RESERVED_VARIABLES",
    "FunctionConfig",
    "FunctionNotFound",
    "InvalidParameterValue",
    "InvalidRequestContent",
    "InvokeResult",
    "LambdaError",
    "LambdaRuntime",
    "LogSink",
    "ResourceConflict",
    "ResourceNotFound",
    "ServiceError",
    "ServiceEvent",
    "TooManyRequests",
    "ValidationError",
    "check_function_name",
    "check_reserved_variables",
]

log = logging.getLogger("workshop.lambda")

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
# AWS gives an on-demand function's init phase ten seconds, whatever its Timeout.
INIT_TIMEOUT = 10.0
# How long a dead worker's last output may take to drain (its children may hold the pipe).
_DRAIN_TIMEOUT = 2.0
_VERSION = "$LATEST"
# A worker whose role credentials expire within this many seconds is replaced rather
# than reused (Lambda, too, refreshes an environment's credentials before they run out).
_CREDENTIALS_MARGIN = 3600.0
# Lambda's own constraint on a function's Role (CreateFunction's API reference).
_ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"

# Variables AWS sets and refuses to let a function override.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
# What a worker keeps of the server's environment: enough to run this Python, no more.
_INHERITED_VARIABLES = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "VIRTUAL_ENV", "CONDA_PREFIX",
    "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "SYSTEMROOT",
)
# Lambda's own pattern for FunctionName, with groups to take an ARN apart.
_FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d{1}:)?"
    r"(?P<account>\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(:(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
# How Go (and so Lambda) names the signal that ended a process.
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated", signal.SIGBUS: "bus error", signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception", signal.SIGINT: "interrupt", signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
}

LogEvent = tuple[int, str]  # (timestamp in ms, message)


# -- errors ---------------------------------------------------------------------------


class LambdaError(Exception):
    """An error answer of the Lambda API: ``code`` and ``status`` are AWS's."""

    code: ClassVar[str] = "ServiceException"
    status: ClassVar[int] = 500
    error_kind: ClassVar[str] = "User"
    # Lambda spells the key "Message" in some errors and "message" in others.
    message_key: ClassVar[str] = "Message"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Lambda answers with."""
        return {"Type": self.error_kind, self.message_key: self.message}


class ServiceError(LambdaError):
    error_kind = "Service"


class ResourceNotFound(LambdaError):
    code, status = "ResourceNotFoundException", 404


class FunctionNotFound(ResourceNotFound):
    def __init__(self, arn: str) -> None:
        super().__init__(f"Function not found: {arn}")
        self.arn = arn


class InvalidParameterValue(LambdaError):
    code, status = "InvalidParameterValueException", 400


class InvalidRequestContent(LambdaError):
    code, status, message_key = "InvalidRequestContentException", 400, "message"


class ValidationError(LambdaError):
    code, status, message_key = "ValidationException", 400, "message"


class ResourceConflict(LambdaError):
    code, status = "ResourceConflictException", 409


class TooManyRequests(LambdaError):
    code, status = "TooManyRequestsException", 429

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, Any]:
        return {**super().body(), "Reason": self.reason}


# -- public values ----------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionConfig:
    """What a ``AWS::Serverless::Function`` says about running the function."""

    name: str
    handler: str  # "module.function", module relative to code_dir (dots for packages)
    code_dir: Path
    runtime: str = "python3.12"
    timeout: float = 3.0  # seconds, AWS's default
    memory_size: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    reserved_concurrency: int | None = None
    role: str | None = None
    # Layer folders, in order; each one's ``python/`` is importable, as /opt/python is.
    layers: tuple[Path, ...] = ()
    # (CodeSha256, CodeSize) of the zip the code was unpacked from (the Lambda API's
    # CreateFunction/UpdateFunctionCode), which Lambda reports; None: hash the folder.
    package: tuple[str, int] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InvokeResult:
    """What Invoke answers: status 200, 202 (Event) or 204 (DryRun), and the payload."""

    status_code: int
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed
    request_id: str
    log_tail: str  # this invocation's log text, START to REPORT

    def json(self) -> Any:
        return json.loads(self.payload)


class ServiceEvent(bytes):
    """An event another emulated AWS service serialised itself (API Gateway's, say):
    JSON by construction, so Invoke does not parse it again to check, as it must a
    caller's payload. Parsing it cost more than building it, on every message."""


class LogSink(Protocol):
    """Where function logs go (CloudWatch Logs in the local cloud)."""

    def put_events(self, log_group_name: str, log_stream_name: str,
                   events: Sequence[LogEvent]) -> None: ...


# -- workers ----------------------------------------------------------------------------


def check_function_name(name: str) -> None:
    """ValidationError, in Lambda's words, for a function name it would refuse; checked
    before anything else, since the name becomes a folder name."""
    if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name):
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at 'functionName' failed "
            "to satisfy constraint: Member must have letters, numbers, hyphens and "
            "underscores only, at most 64 of them")


def check_reserved_variables(names: Collection[str]) -> None:
    """InvalidParameterValue, in Lambda's words, if any of ``names`` is a variable Lambda
    sets itself (the API and the deployer refuse the same way)."""
    reserved = sorted(RESERVED_VARIABLES & set(names))
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            "currently not supported for modification. Reserved keys used in this "
            f"request: {', '.join(reserved)}")

def _lines(data: bytes, marks: list[tuple[int, int]]) -> list[LogEvent]:
    """Log events of one phase's output; ``marks`` are (byte offset, time read) of chunks.

    A ``\\r`` inside a line separates the lines of one multi-line event (a log record or
    a traceback), as the bootstrap writes them.
    """
    offsets = [offset for offset, _ in marks]
    events: list[LogEvent] = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        stop = len(data) if end < 0 else end
        text = data[start:stop].decode(errors="replace").rstrip("\r").replace("\r", "\n")
        events.append((marks[bisect.bisect_right(offsets, start) - 1][1], text + "\n"))
        start = stop + 1
    return events


def _rebase(marks: list[tuple[int, int]], cut: int) -> list[tuple[int, int]]:
    """Chunk marks for the buffer that remains once its first ``cut`` bytes are gone."""
    offsets = [offset for offset, _ in marks]
    first = marks[bisect.bisect_right(offsets, cut) - 1][1]
    return [(0, first)] + [(offset - cut, t) for offset, t in marks if offset > cut]


class _LogReader:
    """A worker's stdout and stderr, cut into phases at the bootstrap's sentinel."""

    def __init__(self, sentinel: bytes, clock: Clock) -> None:
        self._sentinel = sentinel
        self._clock = clock
        self._buffer = bytearray()
        self._marks: list[tuple[int, int]] = []  # (offset in buffer, time read) per chunk
        self._phases: asyncio.Queue[list[LogEvent] | None] = asyncio.Queue()

    def feed(self, data: bytes) -> None:
        scan_from = max(0, len(self._buffer) - len(self._sentinel) + 1)
        self._marks.append((len(self._buffer), self._clock.now_ms()))
        self._buffer += data
        while (found := self._buffer.find(self._sentinel, scan_from)) >= 0:
            self._phases.put_nowait(_lines(bytes(self._buffer[:found]), self._marks))
            cut = found + len(self._sentinel)
            self._marks = _rebase(self._marks, cut)
            del self._buffer[:cut]
            scan_from = 0

    def feed_eof(self) -> None:
        self._phases.put_nowait(_lines(bytes(self._buffer), self._marks))
        self._phases.put_nowait(None)
        self._buffer.clear()

    async def phase(self) -> list[LogEvent]:
        """The output of the phase that just ended (its sentinel precedes the reply)."""
        events = await self._phases.get()
        if events is None:
            self._phases.put_nowait(None)
            return []
        return events

    async def rest(self) -> list[LogEvent]:
        """Everything until the worker's output closes (after it died)."""
        events: list[LogEvent] = []

        async def drain() -> None:
            while (more := await self._phases.get()) is not None:
                events.extend(more)

        try:
            await asyncio.wait_for(drain(), _DRAIN_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("a dead worker's output did not close; dropped the rest")
        return events


class _WorkerProtocol(asyncio.SubprocessProtocol):
    """Feeds a worker's output to its log reader and notes when it exits."""

    def __init__(self, logs: _LogReader) -> None:
        self.logs = logs
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.logs.feed(data)  # stdout, with stderr merged into it

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self.logs.feed_eof()

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class _TimedOut:
    """What :meth:`_Replies.next` yields when the phase ran past its time limit."""


_TIMED_OUT = _TimedOut()
Reply = tuple[dict[str, Any], bytes]  # (header, body) of one reply on the control pipe


class _Replies(asyncio.Protocol):
    """A worker's control pipe: replies (a JSON header line, then ``size`` bytes), parsed
    as they arrive and handed to the phase waiting for one.

    A future and a timer per phase, rather than ``wait_for`` over a stream read: every
    invocation passes through here, and a task per read was a measurable share of the
    local cloud's CPU under load.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._ready: deque[Reply | None] = deque()  # None: the pipe closed, or garbage
        self._waiter: asyncio.Future[Reply | _TimedOut | None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\n")) >= 0:
            try:
                header = json.loads(self._buffer[:end])
                size = end + 1 + header["size"]
            except (ValueError, KeyError, TypeError):
                self._buffer.clear()
                self._deliver(None)  # not the bootstrap speaking: as good as dead
                return
            if len(self._buffer) < size:
                return
            body = bytes(self._buffer[end + 1:size])
            del self._buffer[:size]
            self._deliver((header, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self._deliver(None)

    def next(self, timeout: float) -> asyncio.Future[Reply | _TimedOut | None]:
        """The next reply; ``None`` once the pipe has closed, ``_TIMED_OUT`` after
        ``timeout`` seconds without one."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply | _TimedOut | None] = loop.create_future()
        if self._ready:
            reply = self._ready.popleft()
            future.set_result(reply)
            if reply is None:
                self._ready.appendleft(None)  # closed stays closed
        else:
            self._waiter = future
            self._timer = loop.call_later(timeout, self._expire, future)
        return future

    def _deliver(self, reply: Reply | None) -> None:
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)
            if reply is None:
                self._ready.append(None)
        else:
            self._ready.append(reply)

    def _expire(self, future: asyncio.Future[Reply | _TimedOut | None]) -> None:
        if self._waiter is future:
            self._waiter = self._timer = None
        if not future.done():
            future.set_result(_TIMED_OUT)


class _Worker:
    """One worker process: its pipes, its log reader, which deployment it runs."""

    def __init__(self, transport: asyncio.SubprocessTransport, protocol: _WorkerProtocol,
                 replies: _Replies, replies_transport: asyncio.BaseTransport, *,
                 generation: int, log_stream: str) -> None:
        self.logs = protocol.logs
        self.generation = generation
        self.log_stream = log_stream
        self.max_memory_mb = 0
        self.last_used = 0.0
        self.killed = False
        # When its role session's credentials run out (epoch seconds); replaced before.
        self.credentials_expire = float("inf")
        self._transport = transport
        self._protocol = protocol
        self._replies = replies
        self._replies_transport = replies_transport

    @classmethod
    async def start(cls, *, env: dict[str, str], cwd: Path, generation: int, log_stream: str,
                    clock: Clock) -> _Worker:
        sentinel = f"\x1eend-of-phase-{secrets.token_hex(8)}\x1e"
        logs = _LogReader(sentinel.encode(), clock)
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _WorkerProtocol(logs), sys.executable, "-u", str(BOOTSTRAP),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, cwd=cwd, pass_fds=(write_fd,),
                # Its own process group, so a timeout kills whatever the handler started.
                start_new_session=True,
                env={**env, "_WORKSHOP_CONTROL_FD": str(write_fd),
                     "_WORKSHOP_LOG_SENTINEL": sentinel},
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        replies = _Replies()
        replies_transport, _ = await loop.connect_read_pipe(
            lambda: replies, os.fdopen(read_fd, "rb", 0))
        return cls(transport, protocol, replies, replies_transport, generation=generation,
                   log_stream=log_stream)

    @property
    def alive(self) -> bool:
        return not self.killed and self._transport.get_returncode() is None

    def send(self, header: dict[str, Any], body: bytes) -> bool:
        """Hand a request to the worker; False if it is gone."""
        stdin = self._transport.get_pipe_transport(0)
        if stdin is None or stdin.is_closing():
            return False
        stdin.write(json.dumps({**header, "size": len(body)}).encode() + b"\n" + body)
        return True

    async def receive(self, timeout: float) -> tuple[str, bytes] | _TimedOut | None:
        """The worker's next reply (kind, body); None once it has died, ``_TIMED_OUT``
        after ``timeout`` seconds without one."""
        reply = await self._replies.next(timeout)
        if reply is None or reply is _TIMED_OUT:
            return reply
        header, body = reply  # type: ignore[misc]
        if not isinstance(header, dict) or "type" not in header:
            return None
        self.max_memory_mb = header.get("maxMemoryMB", self.max_memory_mb)
        return header["type"], body

    def kill(self) -> None:
        self.killed = True
        try:
            os.killpg(self._transport.get_pid(), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    async def exit_reason(self) -> str:
        """Why the worker died, in Lambda's words; kills it if it lingers."""
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.exited), 1.0)
        except asyncio.TimeoutError:
            pass
        self.kill()  # it, if it lingers, and the rest of its process group
        await self._protocol.exited
        code = self._transport.get_returncode() or 0
        if code == 0:
            return "Runtime exited without providing a reason"
        if code > 0:
            return f"Runtime exited with error: exit status {code}"
        name = _SIGNAL_NAMES.get(-code) or signal.Signals(-code).name
        return f"Runtime exited with error: signal: {name}"

    async def close(self) -> None:
        self.kill()
        self._transport.close()
        self._replies_transport.close()
        await self._protocol.exited


@dataclass
class _Outcome:
    """How a phase (init or invoke) of a worker ended."""

    kind: str  # "init", "init-error", "result", "error", "timeout" or "exit"
    body: bytes = b""
    events: list[LogEvent] = field(default_factory=list)
    duration_ms: float = 0.0
    exit_reason: str = ""  # for "exit"
    time_limit: float = 0.0  # for "timeout": the limit it ran past, in seconds

    @property
    def worker_survives(self) -> bool:
        return self.kind in ("init", "result", "error")


class _Pool:
    """The workers of one function: idle ones (most recently used last), how many are
    alive, and the invocations waiting for one."""

    def __init__(self) -> None:
        self.idle: list[_Worker] = []
        self.size = 0
        self.waiters: deque[asyncio.Future[_Worker | None]] = deque()

    def hand_over(self, worker: _Worker | None) -> bool:
        """Give a worker (or, with None, its free slot) to the longest waiter, if any."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return True
        return False

    def free_slot(self) -> None:
        if not self.hand_over(None):
            self.size -= 1


@dataclass(frozen=True)
class _Turn:
    """An invocation's place in its function's pool: a warm worker, or (None) a free
    slot to start one in."""

    worker: _Worker | None


@dataclass
class _Function:
    config: FunctionConfig
    configuration: dict[str, Any]
    generation: int
    policy: dict[str, dict[str, Any]] = field(default_factory=dict)
    layers_sha: tuple[str, ...] = ()


# -- the runtime ------------------------------------------------------------------------


class LambdaRuntime:
    """The local cloud's Lambda service: functions, their workers, Invoke."""

    def __init__(self, settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
                 ids: IdSource = RANDOM_IDS, logs: LogSink | None = None,
                 faults: FaultRegistry | None = None,
                 credentials: CredentialStore | None = None) -> None:
        self.settings = settings
        # Workers get temporary credentials of their function's role, as on Lambda.
        self.credentials = credentials or CredentialStore.ephemeral(
            account_id=settings.account_id, partition=settings.partition, clock=clock.now)
        self.clock = clock
        self.ids = ids
        self._logs = logs
        # Faults injected on purpose (``workshop fault``); consulted on every invocation.
        self.faults = faults if faults is not None else FaultRegistry(clock=clock)
        self._lock = threading.RLock()  # guards _functions: the deployer writes from a thread
        self._functions: dict[str, _Function] = {}
        self._layers: dict[str, Path] = {}
        self._layer_numbers: dict[str, int] = {}  # highest version given, per layer
        self._generations = itertools.count(1)
        # Owned by the event loop the runtime first invokes in:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pools: dict[str, _Pool] = {}
        self._workers: set[_Worker] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reaper: asyncio.Task[None] | None = None

    # -- functions (thread-safe) ---------------------------------------------------------

    def put_function(self, config: FunctionConfig) -> dict[str, Any]:
        """Create or replace a function; its GetFunction ``Configuration``.

        Changed code or configuration retires the function's workers: the next
        invocation runs the new code, in-flight ones finish on the old.
        """
        self._validate(config)
        code_sha, code_size = config.package or _code_digest(config.code_dir)
        # Editing a layer's files changes no function property, but must reach new workers.
        layers_sha = tuple(_code_digest(layer)[0] for layer in config.layers)
        with self._lock:
            current = self._functions.get(config.name)
            if (current is not None and current.config == config
                    and current.configuration["CodeSha256"] == code_sha
                    and current.layers_sha == layers_sha):
                return copy.deepcopy(current.configuration)
            function = _Function(config, self._configuration(config, code_sha, code_size),
                                 next(self._generations),
                                 policy=current.policy if current else {},
                                 layers_sha=layers_sha)
            self._functions[config.name] = function
        if current is not None:
            self._call_in_loop(self._retire_stale)
        return copy.deepcopy(function.configuration)

    def create_function(self, config: FunctionConfig) -> dict[str, Any]:
        """Like :meth:`put_function`, but ResourceConflict if the name is taken (the
        Lambda API's CreateFunction; the deployer replaces with put_function)."""
        with self._lock:  # reentrant: put_function takes it again
            if config.name in self._functions:
                raise ResourceConflict(f"Function already exist: {config.name}")
            return self.put_function(config)

    def next_layer_version(self, layer_arn: str) -> int:
        """The number for a new version of the layer ``layer_arn`` (without a version):
        1, 2, 3… as Lambda numbers them, never one given before, even if deleted since.
        The deployer and the Lambda API share this count, as they share one account."""
        with self._lock:
            prefix = layer_arn + ":"
            existing = [int(arn[len(prefix):]) for arn in self._layers
                        if arn.startswith(prefix) and arn[len(prefix):].isdigit()]
            number = max([self._layer_numbers.get(layer_arn, 0), *existing]) + 1
            self._layer_numbers[layer_arn] = number
            return number

    def publish_layer(self, arn: str, content_dir: Path) -> None:
        """Make a layer version's folder available to functions that name its ARN."""
        with self._lock:
            self._layers[arn] = Path(content_dir)

    def delete_layer(self, arn: str) -> None:
        with self._lock:
            self._layers.pop(arn, None)

    def layer_arns(self) -> list[str]:
        """Every published layer version's ARN (the deployer's and the Lambda API's)."""
        with self._lock:
            return sorted(self._layers)

    def layer_dir(self, arn: str) -> Path:
        """The folder of a published layer version; ResourceNotFound for any other ARN."""
        with self._lock:
            if arn not in self._layers:
                raise ResourceNotFound(f"Layer version {arn} does not exist in the local cloud "
                                       "(layers from other accounts cannot be emulated)")
            return self._layers[arn]

    def delete_function(self, name: str) -> None:
        """Forget a function and stop its workers."""
        with self._lock:
            function = self._find(name)
            del self._functions[function.config.name]
        self._call_in_loop(self._retire_stale)

    def get_function(self, name: str) -> FunctionConfig:
        """A function's configuration, by name, ARN or partial ARN."""
        with self._lock:
            return self._find(name).config

    def describe_function(self, name: str) -> dict[str, Any]:
        """The ``Configuration`` GetFunction answers with."""
        with self._lock:
            return copy.deepcopy(self._find(name).configuration)

    def function_names(self) -> list[str]:
        with self._lock:
            return sorted(self._functions)

    def reset(self) -> None:
        """Forget every function, layer and injected fault; their workers retire."""
        with self._lock:
            self._functions.clear()
            self._layers.clear()
        self.faults.reset()
        self._call_in_loop(self._retire_stale)

    def add_permission(self, name: str, *, statement_id: str, action: str, principal: str,
                       source_arn: str | None = None, source_account: str | None = None) -> None:
        """Add a statement to the function's resource-based policy."""
        with self._lock:
            policy = self._find(name).policy
            if statement_id in policy:
                raise ResourceConflict(
                    f"The statement id ({statement_id}) provided already exists. Please provide "
                    "a new statement id, or remove the existing statement.")
            policy[statement_id] = {"action": action, "principal": principal,
                                    "source_arn": source_arn, "source_account": source_account}

    def remove_permission(self, name: str, statement_id: str) -> None:
        with self._lock:
            policy = self._find(name).policy
            if policy.pop(statement_id, None) is None:
                raise ResourceNotFound(f"Statement {statement_id} is not found in resource policy.")

    def policy_statements(self, name: str) -> dict[str, dict[str, Any]]:
        """The function's resource-policy statements by statement id (a copy), as
        :meth:`add_permission` stored them."""
        with self._lock:
            return copy.deepcopy(self._find(name).policy)

    def invoke_allowed(self, name: str, *, principal: str, source_arn: str) -> bool:
        """Whether the resource policy lets ``principal`` (a service) invoke the function
        on behalf of ``source_arn``; False for a function that does not exist."""
        with self._lock:
            try:
                statements = list(self._find(name).policy.values())
            except LambdaError:
                return False
        return any(_statement_allows(s, principal, source_arn) for s in statements)

    def invoke_allowed_for(self, name: str, *, principals: Collection[str]) -> bool:
        """Whether the resource policy names one of ``principals`` (a role's ARN, its
        session's ARN, the account) as allowed to invoke; False for an unknown function."""
        with self._lock:
            try:
                statements = list(self._find(name).policy.values())
            except LambdaError:
                return False
        return any(_statement_admits(s, principals) for s in statements)

    # -- invoking -------------------------------------------------------------------------

    async def invoke(self, name: str, payload: bytes, *,
                     invocation_type: str = "RequestResponse") -> InvokeResult:
        """Invoke a function as Lambda's Invoke API does.

        ``RequestResponse`` waits for the result; ``Event`` answers 202 and runs it in the
        background; ``DryRun`` answers 204 once the function is known to exist.

        Beyond the function's concurrency limit a ``RequestResponse`` invocation waits
        for a worker, where AWS (with far more capacity) would start it at once. It waits
        in the caller's task, so it never runs late behind the caller's back: a caller
        that stops waiting (cancels) before a worker is free withdraws it.
        """
        if invocation_type not in INVOCATION_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]")
        with self._lock:
            function = self._find(name)
        invoked_arn = self._invoked_arn(name, function)
        payload = _check_payload(payload)
        if function.config.reserved_concurrency == 0:
            raise TooManyRequests("Rate Exceeded.",
                                  reason="ReservedFunctionConcurrentInvocationLimitExceeded")
        request_id = self.ids.request_id()
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", None, request_id, "")
        injection = self.faults.draw(function.config.name)
        if injection != NO_INJECTION:
            log.info("%s %s: injected %s", function.config.name, request_id,
                     ", ".join(filter(None, [injection.error, injection.delay_ms
                                             and f"{injection.delay_ms} ms delay"])))
        if injection.service_error is not None:
            raise _injected_service_error(injection)  # the Lambda service "failed": no run
        self._start_background_work()
        turn = None
        if invocation_type == "RequestResponse":
            turn = await self._take_turn(self._pools.setdefault(function.config.name, _Pool()),
                                         function)
        # Once started, a task of its own: a caller that stops waiting (API Gateway's
        # 29 s) leaves the invocation running to its own timeout, as on AWS.
        execution = self._spawn_task(self._execute(function, request_id, payload, invoked_arn,
                                                   injection, turn=turn))
        if invocation_type == "Event":
            return InvokeResult(202, b"", None, request_id, "")
        return await asyncio.shield(execution)

    async def shutdown(self) -> None:
        """Kill every worker and stop background work."""
        tasks = list(self._tasks) + ([self._reaper] if self._reaper else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._reaper = None
        await asyncio.gather(*(worker.close() for worker in list(self._workers)),
                             return_exceptions=True)
        while self._tasks:  # workers retired by the cancelled invocations
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._workers.clear()
        self._pools.clear()

    async def _execute(self, function: _Function, request_id: str, payload: bytes,
                       invoked_arn: str, injection: Injection = NO_INJECTION, *,
                       turn: _Turn | None = None) -> InvokeResult:
        config = function.config
        pool = self._pools.setdefault(config.name, _Pool())
        worker, cold = await self._checkout(pool, function, turn)
        init: _Outcome | None = None
        finished = False
        try:
            outcome = init = await self._phase(worker, INIT_TIMEOUT) if cold else None
            started_ms = self.clock.now_ms()
            if outcome is None or outcome.kind == "init":
                outcome = await self._invoke_phase(worker, request_id, payload, invoked_arn,
                                                   config.timeout, injection)
            finished = outcome.worker_survives
        finally:
            if not finished:  # dead, timed out, or interrupted mid-request
                worker.kill()
            self._checkin(pool, worker)
        return self._finish(request_id, config, worker, init, started_ms, outcome)

    def _finish(self, request_id: str, config: FunctionConfig, worker: _Worker,
                init: _Outcome | None, started_ms: int, outcome: _Outcome) -> InvokeResult:
        """The invocation's result, and its log lines written as Lambda writes them."""
        initialised = init if init is not None and init.kind == "init" else None
        # Init output precedes START. A failed init is retried inside the invoke phase on
        # AWS, so its output (the outcome here) falls between START and END.
        events = list(initialised.events) if initialised else []
        events.append((started_ms, f"START RequestId: {request_id} Version: {_VERSION}\n"))
        events += outcome.events
        payload, function_error, status, error_type = _conclude(outcome, request_id)
        end = self.clock.now_ms()
        platform = _platform_log_line(outcome, request_id, end)
        if platform:  # why the invocation ended, as Lambda itself logs it
            events.append((end, platform))
        events.append((end, f"END RequestId: {request_id}\n"))
        events.append((end, _report_line(
            request_id, outcome.duration_ms,
            init_ms=initialised.duration_ms if initialised else None,
            memory_size=config.memory_size,
            max_memory=min(worker.max_memory_mb, config.memory_size),
            status=status, error_type=error_type)))
        events = _chronological(events)
        self._write_logs(config.name, worker.log_stream, events)
        return InvokeResult(200, payload, function_error, request_id,
                            "".join(text for _, text in events))

    async def _invoke_phase(self, worker: _Worker, request_id: str, payload: bytes,
                            invoked_arn: str, timeout: float,
                            injection: Injection = NO_INJECTION) -> _Outcome:
        header = {"requestId": request_id, "invokedFunctionArn": invoked_arn,
                  "deadlineMs": self.clock.now_ms() + int(timeout * 1000)}
        if injection.delay_ms or injection.function_error:
            return await self._injected_phase(worker, header, payload, timeout, injection)
        if not worker.send(header, payload):
            return await self._died(worker, self.clock.monotonic())
        return await self._phase(worker, timeout)

    async def _injected_phase(self, worker: _Worker, header: dict[str, Any], payload: bytes,
                              timeout: float, injection: Injection) -> _Outcome:
        """The invoke phase under injected faults, as FIS's Lambda extension runs it: the
        handler starts ``delay_ms`` late, the delay counting against ``Timeout``; an
        injected function error then ends the invocation instead of the handler."""
        delay = injection.delay_ms / 1000
        if delay >= timeout:
            await asyncio.sleep(timeout)
            return _Outcome("timeout", time_limit=timeout, duration_ms=timeout * 1000)
        await asyncio.sleep(delay)
        if injection.function_error:
            error = {"errorMessage": injection.message(), "errorType": injection.function_error,
                     "requestId": header["requestId"], "stackTrace": []}
            line = f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
            return _Outcome("error", json.dumps(error).encode(),
                            [(self.clock.now_ms(), line)], duration_ms=delay * 1000)
        if not worker.send(header, payload):
            return await self._died(worker, self.clock.monotonic())
        outcome = await self._phase(worker, timeout - delay)
        outcome.duration_ms += delay * 1000
        if outcome.kind == "timeout":
            outcome.time_limit = timeout
        return outcome

    async def _phase(self, worker: _Worker, timeout: float) -> _Outcome:
        """Wait for the worker's reply to end a phase, killing it past ``timeout``."""
        started = self.clock.monotonic()
        reply = await worker.receive(timeout)
        if reply is _TIMED_OUT:
            worker.kill()
            outcome = _Outcome("timeout", events=await worker.logs.rest(), time_limit=timeout)
        elif reply is None:
            return await self._died(worker, started)
        else:
            kind, body = reply  # type: ignore[misc]
            outcome = _Outcome(kind, body, await worker.logs.phase())
        outcome.duration_ms = (self.clock.monotonic() - started) * 1000
        return outcome

    async def _died(self, worker: _Worker, started: float) -> _Outcome:
        reason = await worker.exit_reason()
        events = await worker.logs.rest()
        return _Outcome("exit", events=events, exit_reason=reason,
                        duration_ms=(self.clock.monotonic() - started) * 1000)

    def _write_logs(self, function_name: str, log_stream: str, events: list[LogEvent]) -> None:
        if self._logs is None:
            return
        try:
            self._logs.put_events(f"/aws/lambda/{function_name}", log_stream, events)
        except Exception:  # losing a log line must not fail the invocation
            log.exception("could not write the logs of %s", function_name)

    # -- workers (event loop only) ----------------------------------------------------------

    async def _checkout(self, pool: _Pool, function: _Function,
                        turn: _Turn | None = None) -> tuple[_Worker, bool]:
        """A warm worker, or a new one (True) started in the slot ``turn`` holds."""
        if turn is None:
            turn = await self._take_turn(pool, function)
        if turn.worker is not None:
            return turn.worker, False
        try:
            return await self._start_worker(function), True
        except BaseException:
            pool.free_slot()
            raise

    async def _take_turn(self, pool: _Pool, function: _Function) -> _Turn:
        """A warm worker, or a free slot to start one in; beyond the concurrency limit,
        wait for one."""
        while pool.idle:
            worker = pool.idle.pop()
            if self._reusable(worker):
                return _Turn(worker)
            self._retire(pool, worker)
        limit = function.config.reserved_concurrency or self.settings.lambda_concurrency
        if pool.size < limit:
            pool.size += 1
            return _Turn(None)
        handed = await self._wait_turn(pool, function)
        if handed is not None and not self._reusable(handed):
            self._close(handed)  # redeployed meanwhile: its slot is ours now
            handed = None
        return _Turn(handed)

    async def _wait_turn(self, pool: _Pool, function: _Function) -> _Worker | None:
        waiter: asyncio.Future[_Worker | None] = asyncio.get_running_loop().create_future()
        pool.waiters.append(waiter)
        waiting_since = self.clock.monotonic()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over, then cancelled
                handed = waiter.result()
                if handed is None:
                    pool.free_slot()
                else:
                    self._checkin(pool, handed)
            else:
                log.warning("%s: an invocation was withdrawn by its caller after waiting "
                            "%.1f s for one of the function's %d busy workers: it never ran",
                            function.config.name, self.clock.monotonic() - waiting_since,
                            pool.size)
            raise

    def _checkin(self, pool: _Pool, worker: _Worker) -> None:
        worker.last_used = self.clock.monotonic()
        if not self._reusable(worker):
            self._retire(pool, worker)
        elif not pool.hand_over(worker):
            pool.idle.append(worker)

    def _reusable(self, worker: _Worker) -> bool:
        with self._lock:
            current = {f.generation for f in self._functions.values()}
        fresh = worker.credentials_expire - self.clock.now() > _CREDENTIALS_MARGIN
        return worker.alive and worker.generation in current and fresh

    def _retire(self, pool: _Pool, worker: _Worker) -> None:
        self._close(worker)
        pool.free_slot()

    def _close(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        self._spawn_task(worker.close())

    async def _start_worker(self, function: _Function) -> _Worker:
        config = function.config
        now = self.clock.now()
        log_stream = (time.strftime("%Y/%m/%d", time.gmtime(now))
                      + f"/[{_VERSION}]{uuid.uuid4().hex}")
        env = self._environment(config, log_stream)
        try:
            worker = await _Worker.start(env=env, cwd=Path(config.code_dir).resolve(),
                                         generation=function.generation,
                                         log_stream=log_stream, clock=self.clock)
        except OSError as error:
            raise ServiceError(f"Lambda could not start a worker for {config.name}: {error}"
                               ) from error
        worker.credentials_expire = self.credentials.session_expiry(
            env["AWS_SESSION_TOKEN"]) or float("inf")
        self._workers.add(worker)
        return worker

    def _retire_stale(self) -> None:
        """Stop idle workers of replaced or deleted functions (busy ones stop when done)."""
        for pool in self._pools.values():
            for worker in [w for w in pool.idle if not self._reusable(w)]:
                pool.idle.remove(worker)
                self._retire(pool, worker)

    async def _reap_idle(self) -> None:
        idle_seconds = self.settings.worker_idle_seconds
        while True:
            await asyncio.sleep(min(max(idle_seconds / 4, 0.05), 30.0))
            cutoff = self.clock.monotonic() - idle_seconds
            for pool in self._pools.values():
                for worker in [w for w in pool.idle if w.last_used < cutoff]:
                    pool.idle.remove(worker)
                    self._retire(pool, worker)

    def _start_background_work(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._reaper is None or self._reaper.get_loop() is not self._loop:
            self._reaper = self._loop.create_task(self._reap_idle())

    def _spawn_task(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Lambda background work failed", exc_info=task.exception())

    def _call_in_loop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the runtime's loop: now if this is it, else soon."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # no worker was ever started
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback()
        else:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop closed meanwhile
                pass

    # -- helpers --------------------------------------------------------------------------

    def _find(self, name: str) -> _Function:
        """The function a name, ARN or partial ARN (with ``:$LATEST``) designates."""
        match = _FUNCTION_NAME.fullmatch(name)
        if match is None:
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'functionName' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_FUNCTION_NAME.pattern}")
        region = (match["region"] or "").rstrip(":") or self.settings.region
        account = (match["account"] or "").rstrip(":") or self.settings.account_id
        # For the message only: a region AWS does not have is named in the cloud's partition.
        arn = f"arn:{self.settings.partition}:lambda:{region}:{account}:function:{match['name']}"
        qualifier = match["qualifier"]
        function = self._functions.get(match["name"])
        if (function is None or region != self.settings.region
                or account != self.settings.account_id or qualifier not in (None, _VERSION)):
            raise FunctionNotFound(f"{arn}:{qualifier}" if qualifier else arn)
        return function

    def _invoked_arn(self, name: str, function: _Function) -> str:
        arn = self.settings.function_arn(function.config.name)
        match = _FUNCTION_NAME.fullmatch(name)
        return f"{arn}:{match['qualifier']}" if match and match["qualifier"] else arn

    def _validate(self, config: FunctionConfig) -> None:
        check_function_name(config.name)
        if config.role and not re.fullmatch(_ROLE_PATTERN, config.role):
            raise ValidationError(
                f"1 validation error detected: Value '{config.role}' at 'role' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: "
                f"{_ROLE_PATTERN}")
        if not config.runtime.startswith("python3"):
            raise InvalidParameterValue(
                f"The local cloud runs Python functions only, not runtime {config.runtime}")
        check_reserved_variables(config.environment)
        if not Path(config.code_dir).is_dir():
            raise InvalidParameterValue(f"Code directory {config.code_dir} does not exist")

    def _configuration(self, config: FunctionConfig, code_sha: str, code_size: int
                       ) -> dict[str, Any]:
        now = self.clock.now()
        modified = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                    + f".{int(now * 1000) % 1000:03d}+0000")
        configuration: dict[str, Any] = {
            "FunctionName": config.name,
            "FunctionArn": self.settings.function_arn(config.name),
            "Runtime": config.runtime,
            "Role": self._role_arn(config),
            "Handler": config.handler,
            "CodeSize": code_size,
            "Description": config.description,
            "Timeout": int(config.timeout) if float(config.timeout).is_integer()
            else config.timeout,
            "MemorySize": config.memory_size,
            "LastModified": modified,
            "CodeSha256": code_sha,
            "Version": _VERSION,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid4()),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{config.name}"},
        }
        if config.environment:
            configuration["Environment"] = {"Variables": dict(config.environment)}
        if config.layers:
            configuration["Layers"] = self._layer_descriptions(config.layers)
        return configuration

    def _layer_descriptions(self, folders: tuple[Path, ...]) -> list[dict[str, Any]]:
        """Lambda's ``Layers`` field: each layer version's ARN and size, in order (the SAM
        CLI's ``sam sync --code`` compares them with the template's)."""
        with self._lock:
            arn_of = {folder: arn for arn, folder in self._layers.items()}
        return [{"Arn": arn_of[folder], "CodeSize": _code_digest(folder)[1]}
                for folder in folders if folder in arn_of]

    def _role_arn(self, config: FunctionConfig) -> str:
        return config.role or self.settings.arn("iam", f"role/{config.name}-role",
                                                in_region=False)

    def _environment(self, config: FunctionConfig, log_stream: str) -> dict[str, str]:
        """A worker's variables: built from scratch, as in a Lambda execution environment."""
        env = {name: os.environ[name] for name in _INHERITED_VARIABLES if name in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env["TZ"] = ":UTC"
        env["AWS_ENDPOINT_URL"] = self.settings.endpoint_url
        env.update({name: str(value) for name, value in config.environment.items()})
        env.update({
            "AWS_REGION": self.settings.region,
            "AWS_DEFAULT_REGION": self.settings.region,
            # The execution role's session, named after the function, as Lambda does.
            **self.credentials.issue_role_session(self._role_arn(config),
                                                  session_name=config.name),
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": _VERSION,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "LAMBDA_TASK_ROOT": str(Path(config.code_dir).resolve()),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "_HANDLER": config.handler,
        })
        if config.layers:
            # Lambda extracts layers to /opt and puts /opt/python on the path, after the
            # function's own code.
            layer_paths = [str(Path(layer).resolve() / "python") for layer in config.layers]
            env["PYTHONPATH"] = os.pathsep.join(
                layer_paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        return env


# -- pure helpers -----------------------------------------------------------------------


def _check_payload(payload: bytes) -> bytes:
    """The event as JSON text; Lambda refuses anything else before running the function."""
    if isinstance(payload, ServiceEvent):
        return payload
    if not payload:
        return b"{}"
    try:
        json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestContent("Could not parse request body into json: Could not parse "
                                    f"payload into json: {error}") from None
    return payload


def _conclude(outcome: _Outcome, request_id: str
              ) -> tuple[bytes, str | None, str | None, str | None]:
    """(payload, function error, REPORT status, REPORT error type) of a finished phase."""
    if outcome.kind == "result":
        return outcome.body, None, None, None
    if outcome.kind == "error":
        return outcome.body, "Unhandled", None, None
    if outcome.kind == "init-error":
        error_type = json.loads(outcome.body).get("errorType")
        return outcome.body, "Unhandled", "error", error_type
    if outcome.kind == "timeout":
        message = (f"RequestId: {request_id} Error: Task timed out after "
                   f"{outcome.time_limit:.2f} seconds")
        return _platform_error(message, "Sandbox.Timedout"), "Unhandled", "timeout", None
    message = f"RequestId: {request_id} Error: {outcome.exit_reason}"
    return (_platform_error(message, "Runtime.ExitError"), "Unhandled", "error",
            "Runtime.ExitError")


def _injected_service_error(injection: Injection) -> LambdaError:
    """The Invoke API's answer when an injected fault makes the Lambda service fail."""
    if injection.error == "Lambda.TooManyRequestsException":
        return TooManyRequests(f"Rate Exceeded. {injection.message()}",
                               reason="ConcurrentInvocationLimitExceeded")
    return ServiceError(injection.message())


def _platform_log_line(outcome: _Outcome, request_id: str, now_ms: int) -> str | None:
    """The line Lambda writes to the function's log when it ended the invocation itself:
    ``<time> <id> Task timed out after 3.00 seconds``, or the runtime's exit error."""
    if outcome.kind == "timeout":
        stamp = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000))
                 + f".{now_ms % 1000:03d}Z")
        return f"{stamp} {request_id} Task timed out after {outcome.time_limit:.2f} seconds\n"
    if outcome.kind == "exit":
        return f"RequestId: {request_id} Error: {outcome.exit_reason}\nRuntime.ExitError\n"
    return None


def _platform_error(message: str, error_type: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type},
                      separators=(",", ":")).encode()


def _report_line(request_id: str, duration_ms: float, *, init_ms: float | None,
                 memory_size: int, max_memory: int, status: str | None,
                 error_type: str | None) -> str:
    """Lambda's REPORT line. Billed Duration counts the init phase too (AWS has billed
    it since August 2025), rounded up to the millisecond."""
    billed = max(1, math.ceil(duration_ms + (init_ms or 0.0)))
    fields = [f"REPORT RequestId: {request_id}", f"Duration: {duration_ms:.2f} ms",
              f"Billed Duration: {billed} ms", f"Memory Size: {memory_size} MB",
              f"Max Memory Used: {max_memory} MB"]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        fields.append(f"Status: {status}")
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t\n"


def _chronological(events: list[LogEvent]) -> list[LogEvent]:
    """CloudWatch wants a batch in time order; a wall clock may step back."""
    ordered: list[LogEvent] = []
    latest = 0
    for timestamp, text in events:
        latest = max(latest, timestamp)
        ordered.append((latest, text))
    return ordered


def _code_digest(code_dir: Path) -> tuple[str, int]:
    """(CodeSha256, CodeSize) of the function's files, as a deployment package's would be."""
    digest = hashlib.sha256()
    size = 0
    root = Path(code_dir)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") or part == "__pycache__"
                                     for part in relative.parts):
            continue
        data = path.read_bytes()
        digest.update(f"{relative.as_posix()}\0{len(data)}\0".encode() + data)
        size += len(data)
    return base64.b64encode(digest.digest()).decode(), size


def _statement_allows(statement: dict[str, Any], principal: str, source_arn: str) -> bool:
    if not action_matches(statement["action"], "lambda:InvokeFunction"):
        return False
    if statement["principal"] not in (principal, "*"):
        return False
    if statement["source_arn"] and not arn_like(statement["source_arn"], source_arn):
        return False
    account = statement["source_account"]
    return not account or source_arn.split(":")[4:5] == [account]


def _statement_admits(statement: dict[str, Any], principals: Collection[str]) -> bool:
    """Whether a statement lets a principal of this account (a role, or the account)
    invoke: such a call has no source ARN or account, so a statement requiring one
    does not apply."""
    return (action_matches(statement["action"], "lambda:InvokeFunction")
            and statement["principal"] in principals
            and not statement["source_arn"] and not statement["source_account"])
