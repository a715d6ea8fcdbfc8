"""Step Functions for the notebooks: start and watch executions, read them as tables.

Everything goes through plain ``boto3`` (``stepfunctions``), so the same calls watch the
local cloud or your AWS account. The diagram itself is drawn by :mod:`.asl_mermaid`;
:func:`execution_diagram` draws an execution's path over its state machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import boto3
import pandas as pd

from .asl_mermaid import mermaid

__all__ = ["HISTORY_COLUMNS", "ExecutionTimeout", "definition", "execution_diagram",
           "executions_frame", "failed_state", "history", "history_frame", "mermaid", "path",
           "start", "wait"]

HISTORY_COLUMNS = ["step", "elapsed_ms", "type", "state", "detail"]
_DETAIL_LIMIT = 90
# The event detail keys that carry something worth a glance, in order of preference.
_DETAIL_FIELDS = ("error", "cause", "resource", "output", "input")


class ExecutionTimeout(TimeoutError):
    """An execution was still running when we stopped waiting for it."""


def _client() -> Any:
    return boto3.client("stepfunctions")


def definition(state_machine_arn: str) -> dict[str, Any]:
    """The state machine's ASL definition, as deployed."""
    described = _client().describe_state_machine(stateMachineArn=state_machine_arn)
    return json.loads(described["definition"])


def start(state_machine_arn: str, payload: Mapping[str, Any] | None = None, *,
          name: str | None = None) -> str:
    """Start an execution with ``payload`` as its input; returns the execution's ARN."""
    request = {"stateMachineArn": state_machine_arn, "input": json.dumps(payload or {})}
    if name is not None:
        request["name"] = name
    return _client().start_execution(**request)["executionArn"]


def wait(execution_arn: str, *, timeout: float = 60.0, interval: float = 0.1) -> dict[str, Any]:
    """Wait for the execution to finish; returns ``describe_execution``'s answer."""
    deadline = time.monotonic() + timeout
    while True:
        described = _client().describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise ExecutionTimeout(f"execution {execution_arn.rsplit(':', 1)[-1]} is still "
                                   f"running after {timeout:g} s")
        time.sleep(interval)


def history(execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution's history, oldest first (all pages)."""
    pages = _client().get_paginator("get_execution_history").paginate(
        executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _state_name(event: Mapping[str, Any]) -> str | None:
    for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
        if key in event:
            return event[key]["name"]
    return None


def _detail(event: Mapping[str, Any]) -> str:
    """The most telling field of an event's details, shortened."""
    details = next((value for key, value in event.items()
                    if key.endswith("EventDetails") and isinstance(value, Mapping)), {})
    parts = [f"{key}: {details[key]}" for key in _DETAIL_FIELDS[:2] if details.get(key)]
    if not parts:
        parts = [str(details[key]) for key in _DETAIL_FIELDS[2:] if details.get(key)][:1]
    text = " · ".join(parts)
    return text if len(text) <= _DETAIL_LIMIT else text[:_DETAIL_LIMIT - 1] + "…"


def _states_by_event(events: list[dict[str, Any]]) -> dict[int, str | None]:
    """Which state each event belongs to: its own, or the one of the event it follows."""
    owner: dict[int, str | None] = {}
    for event in events:
        owner[event["id"]] = _state_name(event) or owner.get(event.get("previousEventId", 0))
    return owner


def history_frame(execution_arn: str) -> pd.DataFrame:
    """The execution's history as a table: step, elapsed ms, event type, state, detail."""
    events = history(execution_arn)
    if not events:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    first = events[0]["timestamp"]
    owner = _states_by_event(events)
    rows = [{"step": event["id"],
             "elapsed_ms": round((event["timestamp"] - first).total_seconds() * 1000),
             "type": event["type"], "state": owner[event["id"]] or "",
             "detail": _detail(event)} for event in events]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def path(execution_arn: str) -> list[str]:
    """The names of the states the execution entered, in order."""
    return [event["stateEnteredEventDetails"]["name"] for event in history(execution_arn)
            if "stateEnteredEventDetails" in event]


def failed_state(execution_arn: str) -> str | None:
    """The state where a failed execution failed (a Fail state, or a Task nobody caught)."""
    events = history(execution_arn)
    if not events or events[-1]["type"] not in ("ExecutionFailed", "ExecutionTimedOut",
                                                "ExecutionAborted"):
        return None
    entered = [name for name in map(_state_name, events) if name]
    return entered[-1] if entered else None


def execution_diagram(execution_arn: str) -> str:
    """Mermaid of the execution's state machine, with the path it took highlighted."""
    described = _client().describe_execution(executionArn=execution_arn)
    asl = definition(described["stateMachineArn"])
    return mermaid(asl, path=path(execution_arn), failed=failed_state(execution_arn))


def executions_frame(state_machine_arn: str) -> pd.DataFrame:
    """The state machine's executions, newest first: name, status, start, seconds taken."""
    pages = _client().get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn)
    rows = []
    for execution in (e for page in pages for e in page["executions"]):
        stop = execution.get("stopDate")
        rows.append({"name": execution["name"], "status": execution["status"],
                     "started": execution["startDate"],
                     "seconds": (stop - execution["startDate"]).total_seconds()
                     if stop else None})
    frame = pd.DataFrame(rows, columns=["name", "status", "started", "seconds"])
    return frame.sort_values("started", ascending=False, ignore_index=True)
