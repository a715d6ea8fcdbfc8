"""Inject faults into the local cloud's Lambda functions, as AWS Fault Injection Service does.

From a notebook::

    from workshop import faults

    faults.add_error("TriviaQuestionFunction", count=2)   # the next 2 invocations fail
    faults.add_delay("BattleFunction", 3000)              # every invocation starts 3 s late
    faults.current()                                      # what is in force
    faults.clear()                                        # all gone

From a terminal: ``python -m workshop fault add|list|clear`` (the same calls).

A function is named by its logical id in the template or by its function name. An
error is ``Lambda.ServiceException`` unless you name another: Lambda's own service errors
(``Lambda.ServiceException``, ``Lambda.TooManyRequestsException``) make the Invoke API
fail, so the function does not run and Step Functions sees ``Lambda.<code>``; any other
name (``GameBroken``) is a function error of that type, as if the handler had raised it.
``count`` limits a fault to the next N invocations it hits, ``duration`` (seconds, or
``PT5M``) to a time, ``percentage`` to a share of invocations (FIS's
``invocationPercentage``); with neither count nor duration it lasts until cleared.

Faults are a feature of the local cloud: on AWS, the same experiment is an FIS
experiment template with the actions ``aws:lambda:invocation-error`` and
``aws:lambda:invocation-add-delay``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from . import cloud

__all__ = ["Fault", "add_delay", "add_error", "clear", "current"]

_PATH = "/_workshop/faults"


@dataclass(frozen=True)
class Fault:
    """A fault in force. ``with faults.add_error(...):`` clears it when the block ends."""

    id: str
    function: str
    description: str
    details: Mapping[str, Any] = field(default_factory=dict)
    port: int | None = None

    def __str__(self) -> str:
        return self.description

    def _repr_markdown_(self) -> str:
        return f"**Fault injected** — {self.description}"

    def clear(self) -> bool:
        """Remove this fault; False if it had already run its course or been cleared."""
        return bool(clear(fault_id=self.id, port=self.port))

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.clear()


def _add(request: dict[str, Any], port: int | None) -> Fault:
    reply = cloud._admin(port, "POST", _PATH, {k: v for k, v in request.items() if v is not None})
    fault = reply["fault"]
    return Fault(fault["id"], fault["function"], reply["description"], fault, port)


def add_error(function: str, *, error: str | None = None, count: int | None = None,
              duration: float | str | None = None, percentage: int | None = None,
              stack_name: str | None = None, port: int | None = None) -> Fault:
    """Make invocations of ``function`` fail with ``error`` (``aws:lambda:invocation-error``).

    ``error`` defaults to ``Lambda.ServiceException``; ``count`` is "the next N
    invocations"; ``duration`` and ``percentage`` as FIS's parameters.
    """
    return _add({"function": function, "action": "invocation-error", "error": error,
                 "count": count, "duration": duration, "percentage": percentage,
                 "stack_name": stack_name}, port)


def add_delay(function: str, milliseconds: int, *, count: int | None = None,
              duration: float | str | None = None, percentage: int | None = None,
              stack_name: str | None = None, port: int | None = None) -> Fault:
    """Start invocations of ``function`` ``milliseconds`` late
    (``aws:lambda:invocation-add-delay``); the delay counts against its Timeout."""
    return _add({"function": function, "action": "invocation-add-delay",
                 "delay_ms": milliseconds, "count": count, "duration": duration,
                 "percentage": percentage, "stack_name": stack_name}, port)


def current(*, port: int | None = None) -> list[dict[str, Any]]:
    """The faults in force, oldest first: id, function, error or delay, what is left."""
    return cloud._admin(port, "GET", _PATH)["faults"]


def clear(function: str | None = None, *, fault_id: str | None = None,
          stack_name: str | None = None, port: int | None = None) -> list[dict[str, Any]]:
    """Remove the faults of ``function``, the fault ``fault_id``, or every fault;
    returns those removed."""
    query = {k: v for k, v in (("function", function), ("id", fault_id),
                               ("stack", stack_name)) if v}
    path = _PATH + (f"?{urlencode(query)}" if query else "")
    return cloud._admin(port, "DELETE", path)["cleared"]
