"""AWS data as pandas DataFrames: DynamoDB items and a function's CloudWatch log events.

Everything goes through plain ``boto3``, so the same calls read the local cloud (after
``workshop.up()``) or your AWS account.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import boto3
import pandas as pd

from .. import cloud, stack_reader
from . import target

__all__ = ["LOG_COLUMNS", "STACK_COLUMNS", "empty_table", "gateway_log_frame", "group_events",
           "items", "items_frame", "log_events", "log_frame", "now_ms", "physical_id", "plain",
           "stack_frame"]

LOG_COLUMNS = ["time", "request_id", "message"]
STACK_COLUMNS = ["logical_id", "type", "physical_id", "status"]
# A line of the local cloud's own log: "2026-01-02 10:11:12,345 workshop.gateway message".
_CLOUD_LOG_LINE = re.compile(r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3}) "
                             r"(?P<logger>\S+) (?P<message>.*)$")
# START / END / REPORT lines carry the request id; a function's own lines fall between.
_REQUEST_LINE = re.compile(r"^(START|END|REPORT) RequestId: (?P<id>[0-9a-fA-F-]+)")


def now_ms() -> int:
    """The time now as CloudWatch counts it (milliseconds since 1970): a ``since_ms``."""
    return int(time.time() * 1000)


def plain(value: Any) -> Any:
    """A DynamoDB value as plain Python: Decimal → int or float, sets → sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def items(table_name: str) -> list[dict[str, Any]]:
    """Every item of a table (all pages of a Scan), as plain Python values."""
    table = boto3.resource("dynamodb").Table(table_name)
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        found.extend(plain(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key_names(table_name: str) -> list[str]:
    schema = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["KeySchema"]
    return [key["AttributeName"] for key in schema]


def items_frame(table_name: str, *, sort_by: str | Iterable[str] | None = None) -> pd.DataFrame:
    """A table's items as a DataFrame, key attributes first, sorted by the key.

    An attribute an item does not have is blank. An empty table gives an empty frame
    that still has the key columns, so a learner sees which attributes rows would have.
    """
    keys = _key_names(table_name)
    rows = items(table_name)
    columns = keys + sorted({name for row in rows for name in row} - set(keys))
    # Items of one table need not share attributes: a missing one shows as a blank.
    frame = pd.DataFrame([{name: row.get(name, "") for name in columns} for row in rows],
                         columns=columns)
    order = [sort_by] if isinstance(sort_by, str) else list(sort_by or keys)
    return frame.sort_values(order, ignore_index=True) if len(frame) else frame


def empty_table(table_name: str) -> int:
    """Delete every item of a table (a clean start for an experiment); return how many."""
    table = boto3.resource("dynamodb").Table(table_name)
    keys = _key_names(table_name)
    doomed = items(table_name)
    with table.batch_writer() as batch:
        for item in doomed:
            batch.delete_item(Key={name: item[name] for name in keys})
    return len(doomed)


def log_events(function_name: str, *, since_ms: int | None = None) -> list[dict[str, Any]]:
    """The CloudWatch log events of a Lambda function, oldest first ([] before any)."""
    return group_events(f"/aws/lambda/{function_name}", since_ms=since_ms)


def group_events(group: str, *, since_ms: int | None = None) -> list[dict[str, Any]]:
    """The events of one CloudWatch log group, oldest first ([] while it does not exist)."""
    logs = boto3.client("logs")
    arguments: dict[str, Any] = {"logGroupName": group}
    if since_ms is not None:
        arguments["startTime"] = since_ms
    try:
        pages = logs.get_paginator("filter_log_events").paginate(**arguments)
        events = [event for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []             # a function's group appears with its first invocation
    return sorted(events, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))


def _with_request_ids(events: list[dict[str, Any]]) -> Iterator[tuple[Any, str, str]]:
    """(timestamp, request id, message): a line belongs to the invocation it falls in."""
    current: dict[str, str] = {}          # log stream -> request id of its open invocation
    for event in events:
        stream = event.get("logStreamName", "")
        message = event["message"].rstrip("\n")
        marker = _REQUEST_LINE.match(message)
        if marker:
            current[stream] = marker.group("id")
        yield event["timestamp"], current.get(stream, ""), message
        if marker and marker.group(1) == "REPORT":
            current.pop(stream, None)


def log_frame(function_name: str, *, since_ms: int | None = None,
              platform_lines: bool = True) -> pd.DataFrame:
    """A function's log as a table of time, request id and message.

    ``platform_lines=False`` drops Lambda's own START / END / REPORT lines and keeps
    what the handler printed.
    """
    rows = [(pd.Timestamp.fromtimestamp(ms / 1000), request_id, message)   # local time
            for ms, request_id, message in _with_request_ids(
                log_events(function_name, since_ms=since_ms))
            if platform_lines or not _REQUEST_LINE.match(message)]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def stack_frame(stack_name: str = "workshop") -> pd.DataFrame:
    """The stack's resources: logical id, type, physical id (the real name) and status,
    from CloudFormation's ListStackResources on either target (:mod:`workshop.stack_reader`)."""
    resources = [(r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""),
                  r["ResourceStatus"]) for r in stack_reader.resources(stack_name)]
    return pd.DataFrame(resources, columns=STACK_COLUMNS)


def physical_id(logical_id: str, *, stack_name: str = "workshop") -> str:
    """The deployed name or id of one resource of the stack (an API's id, say)."""
    frame = stack_frame(stack_name)
    found = frame[frame["logical_id"] == logical_id]["physical_id"]
    if found.empty:
        raise KeyError(f"{logical_id} is not deployed in stack {stack_name!r}")
    return str(found.iloc[0])


def gateway_log_frame(api_id: str, *, since_ms: int | None = None, last: int = 10,
                      stage: str = "dev", local: bool | None = None) -> pd.DataFrame:
    """API Gateway's execution log for one API, newest last.

    On AWS the lines go to the CloudWatch log group ``API-Gateway-Execution-Logs_<api
    id>/<stage>``, which exists only once execution logging is switched on for the stage;
    this reads that group (empty until then). The local cloud writes the same lines to its
    own log file, which this reads on the local target. ``since_ms`` leaves out older
    lines; ``last`` keeps only the newest ones.
    """
    if local is None:
        local = target.chosen() == "local"
    if not local:
        events = group_events(f"API-Gateway-Execution-Logs_{api_id}/{stage}", since_ms=since_ms)
        rows = [(pd.Timestamp.fromtimestamp(e["timestamp"] / 1000), e["message"].rstrip())
                for e in events]
        return pd.DataFrame(rows[-last:], columns=["time", "message"])
    try:
        lines = cloud.settings().log_file.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    rows = []
    for line in lines:
        found = _CLOUD_LOG_LINE.match(line)
        if found and found["logger"] == "workshop.gateway" and api_id in found["message"]:
            stamp = pd.Timestamp(f"{found['time']}.{found['ms']}")
            if since_ms is None or _epoch_ms(stamp) >= since_ms:
                rows.append((stamp, found["message"]))
    return pd.DataFrame(rows[-last:], columns=["time", "message"])


def _epoch_ms(local_time: pd.Timestamp) -> int:
    """A naive local timestamp (the cloud's log is in local time) as epoch milliseconds."""
    return int(time.mktime(local_time.timetuple()) * 1000) + local_time.microsecond // 1000
