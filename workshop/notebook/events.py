"""Lambda events as API Gateway would send them, to invoke a function by hand.

This is what the Lambda console's *Test* button and ``sam local invoke --event`` do:
call a function with an event you wrote. The shapes come from ``data/events/``, which
holds events as real WebSocket APIs deliver them.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from ..emulator import partitions
from ..lab import TEMPLATE

__all__ = ["EVENTS", "websocket_event"]

EVENTS = TEMPLATE.parent / "data" / "events"
_KINDS = ("connect", "disconnect", "message")


def websocket_event(kind: str, *, api_id: str, stage: str, region: str, connection_id: str,
                    route_key: str | None = None, body: Any = None,
                    events: Path = EVENTS) -> dict[str, Any]:
    """A ``connect``, ``disconnect`` or ``message`` event for one connection of one API.

    ``domainName`` and ``stage`` are what a handler builds its ``@connections`` endpoint
    from, so a reply to this event goes to the real API. ``body`` (a dict, for a message)
    is sent as JSON text, as API Gateway does.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, not {kind!r}")
    event = copy.deepcopy(json.loads((events / f"websocket-{kind}.json").read_text()))
    context = event["requestContext"]
    now = int(time.time() * 1000)
    context.update(apiId=api_id, stage=stage, connectionId=connection_id,
                   # amazonaws.com, or amazonaws.com.cn in the China regions
                   domainName=f"{api_id}.execute-api.{region}.{partitions.url_suffix_of(region)}",
                   requestTimeEpoch=now)
    if route_key is not None:
        context["routeKey"] = route_key
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event
