"""Lambda function logs written into moto's CloudWatch Logs, in this process.

The Lambda runtime hands over each invocation's lines; they land in
``/aws/lambda/<FunctionName>``, one log stream per worker, so
``boto3.client("logs")`` reads them exactly as on AWS.

Writing into moto costs more per call than per line, and every invocation makes a call:
so lines queue for up to :data:`FLUSH_DELAY` seconds and go in together, one call per
stream. Whatever reads logs goes through moto, and the server calls
:meth:`CloudWatchLogsSink.flush` before each moto request: a learner reading the logs
right after an invocation sees all of it, as they would on AWS a moment later.

CloudWatch keeps log events until a retention period ends (by default never); the local
cloud keeps them in its own memory, which a classroom's day of play would fill. So a
log group keeps its newest :data:`MAX_EVENTS_PER_GROUP` events: older ones go first, a
stream left empty goes with them (and their memory: :mod:`.moto_costs` stops moto
holding on to every event it ever made). What a learner looks at, the latest
invocations, is always there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

from .settings import Settings

__all__ = ["FLUSH_DELAY", "MAX_EVENTS_PER_GROUP", "CloudWatchLogsSink"]

log = logging.getLogger("workshop.logs")

MAX_EVENTS_PER_GROUP = 10_000
FLUSH_DELAY = 0.5  # seconds lines may wait, at most, unless something reads logs first
# Counting a group's events costs a walk over its streams: done every this many writes.
_TRIM_EVERY = 200

Event = tuple[int, str]  # (timestamp in ms, message)


class CloudWatchLogsSink:
    """A ``LogSink`` for the Lambda runtime backed by moto's Logs backend.

    moto's backends are plain objects and the server calls them from several threads,
    so every write takes ``lock``; pass the lock other writers use to share it.
    Called outside an event loop, :meth:`put_events` writes at once.
    """

    def __init__(self, settings: Settings, *, lock: threading.Lock | None = None,
                 max_events_per_group: int = MAX_EVENTS_PER_GROUP,
                 flush_delay: float = FLUSH_DELAY) -> None:
        self._account_id = settings.account_id
        self._region = settings.region
        self._lock = lock or threading.Lock()
        self._max_events = max_events_per_group
        self._flush_delay = flush_delay
        self._writes: dict[str, int] = {}
        self._pending_lock = threading.Lock()
        self._pending: dict[tuple[str, str], list[Event]] = {}
        self._to_trim: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def put_events(self, log_group_name: str, log_stream_name: str,
                   events: Sequence[Event]) -> None:
        """Append ``(timestamp_ms, message)`` events, creating the group and stream on
        first use; they reach moto within ``flush_delay`` seconds, or at :meth:`flush`."""
        if not events:
            return
        with self._pending_lock:
            self._pending.setdefault((log_group_name, log_stream_name), []).extend(events)
            writes = self._writes.get(log_group_name, 0) + 1
            self._writes[log_group_name] = writes
            if writes % _TRIM_EVERY == 0:
                self._to_trim.add(log_group_name)
            if self._timer is not None:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._timer = loop.call_later(self._flush_delay, self.flush)
                return
        self.flush()

    def flush(self) -> None:
        """Write every queued event into moto now."""
        with self._pending_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pending, self._pending = self._pending, {}
            to_trim, self._to_trim = self._to_trim, set()
        if not pending:
            return
        from moto.logs.models import logs_backends

        with self._lock:
            # Looked up on every flush: a moto reset replaces the backend objects.
            backend = logs_backends[self._account_id][self._region]
            for (group, stream), events in pending.items():
                try:
                    backend.ensure_log_group(group)
                    backend.ensure_log_stream(group, stream)
                    for run in _chronological_runs(events):
                        backend.put_log_events(group, stream, run)
                except Exception:  # losing log lines must not lose the others
                    log.exception("could not write the logs of %s", group)
            for group in to_trim:
                if group in backend.groups:
                    self._trim(backend.groups[group])

    def _trim(self, group: Any) -> None:
        """Drop a group's oldest events beyond the limit, stream by stream, oldest first."""
        streams = sorted(group.streams.values(),
                         key=lambda stream: stream.events[-1].timestamp if stream.events else 0)
        excess = sum(len(stream.events) for stream in streams) - self._max_events
        for stream in streams:
            if excess <= 0:
                break
            dropped = stream.events[:excess]
            del stream.events[:excess]
            excess -= len(dropped)
            stream.stored_bytes -= sum(len(event.message) for event in dropped)
            if not stream.events:
                del group.streams[stream.log_stream_name]


def _chronological_runs(events: list[Event]) -> list[list[dict[str, Any]]]:
    """The events as PutLogEvents batches: CloudWatch refuses a batch out of time order,
    so a wall clock that stepped back between two invocations starts a new one."""
    runs: list[list[dict[str, Any]]] = []
    latest = None
    for timestamp, message in events:
        if latest is None or timestamp < latest:
            runs.append([])
        runs[-1].append({"timestamp": timestamp, "message": message})
        latest = timestamp
    return runs
