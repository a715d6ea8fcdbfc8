"""Lambda function logs written into moto's CloudWatch Logs, in this process.

The Lambda runtime hands over each invocation's lines; they land in
``/aws/lambda/<FunctionName>``, one log stream per worker, so
``boto3.client("logs")`` reads them exactly as on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .settings import Settings

__all__ = ["CloudWatchLogsSink"]


class CloudWatchLogsSink:
    """A ``LogSink`` for the Lambda runtime backed by moto's Logs backend.

    moto's backends are plain objects and the server calls them from several threads,
    so every write takes ``lock``; pass the lock other writers use to share it.
    """

    def __init__(self, settings: Settings, *, lock: threading.Lock | None = None) -> None:
        self._account_id = settings.account_id
        self._region = settings.region
        self._lock = lock or threading.Lock()

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
