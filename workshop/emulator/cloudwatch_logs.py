"""Lambda function logs written into moto's CloudWatch Logs, in this process.

The Lambda runtime hands over each invocation's lines; they land in
``/aws/lambda/<FunctionName>``, one log stream per worker, so
``boto3.client("logs")`` reads them exactly as on AWS.

CloudWatch keeps log events until a retention period ends (by default never); the local
cloud keeps them in its own memory, which a classroom's day of play would fill (in a
10-minute soak, 4,700 players grew the process by 100 MB: their rooms and their
functions' logs). So a
log group keeps its newest :data:`MAX_EVENTS_PER_GROUP` events: older ones go first, a
stream left empty goes with them. What a learner looks at, the latest invocations, is
always there.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .settings import Settings

__all__ = ["MAX_EVENTS_PER_GROUP", "CloudWatchLogsSink"]

MAX_EVENTS_PER_GROUP = 10_000
# Counting a group's events costs a walk over its streams: done every this many writes.
_TRIM_EVERY = 200


class CloudWatchLogsSink:
    """A ``LogSink`` for the Lambda runtime backed by moto's Logs backend.

    moto's backends are plain objects and the server calls them from several threads,
    so every write takes ``lock``; pass the lock other writers use to share it.
    """

    def __init__(self, settings: Settings, *, lock: threading.Lock | None = None,
                 max_events_per_group: int = MAX_EVENTS_PER_GROUP) -> None:
        self._account_id = settings.account_id
        self._region = settings.region
        self._lock = lock or threading.Lock()
        self._max_events = max_events_per_group
        self._writes: dict[str, int] = {}

    def put_events(self, log_group_name: str, log_stream_name: str,
                   events: Sequence[tuple[int, str]]) -> None:
        """Append ``(timestamp_ms, message)`` events, creating the group and stream on first use."""
        if not events:
            return
        from moto.logs.models import logs_backends

        with self._lock:
            # Looked up on every write: a moto reset replaces the backend objects.
            backend = logs_backends[self._account_id][self._region]
            backend.ensure_log_group(log_group_name)
            backend.ensure_log_stream(log_group_name, log_stream_name)
            backend.put_log_events(
                log_group_name, log_stream_name,
                [{"timestamp": timestamp, "message": message} for timestamp, message in events],
            )
            writes = self._writes.get(log_group_name, 0) + 1
            self._writes[log_group_name] = writes
            if writes % _TRIM_EVERY == 0:
                self._trim(backend.groups[log_group_name])

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
