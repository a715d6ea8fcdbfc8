"""Faults on purpose: Lambda invocation errors and delays, as AWS FIS's Lambda actions inject them.

AWS Fault Injection Service has two actions for Lambda functions that this module follows:

* ``aws:lambda:invocation-error`` marks invocations as failed;
* ``aws:lambda:invocation-add-delay`` starts the handler ``startupDelayMilliseconds`` late,
  the delay counting in the invocation's duration (and so against its ``Timeout``).

Both take ``invocationPercentage`` (1–100, default 100: the share of invocations affected)
and ``duration`` (how long the action lasts). The local cloud adds ``count``, "the next N
invocations", which is what a lesson needs: a Retry is shown by exactly two failures.

An error is one of two kinds, each surfaced where AWS surfaces it:

* an error of the Lambda *service* (``Lambda.ServiceException``,
  ``Lambda.TooManyRequestsException``): the Invoke API answers 500 or 429 and the function
  does not run. Step Functions reports it as ``Lambda.<code>``, which a Retry names;
* any other name is a *function* error: Invoke answers 200 with
  ``X-Amz-Function-Error: Unhandled`` and ``{"errorMessage", "errorType": <name>}``, as if
  the handler had raised it (FIS's ``preventExecution``: the handler does not run).

This module is the registry and its rules, on plain values; the Lambda runtime asks it
about every invocation (:meth:`FaultRegistry.draw`), the admin API adds, lists and clears.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .ids import SYSTEM_CLOCK, Clock

__all__ = ["ACTIONS", "DEFAULT_ERROR", "INVOCATION_ADD_DELAY", "INVOCATION_ERROR",
           "NO_INJECTION", "SERVICE_ERRORS", "Fault", "FaultRegistry", "FaultSpecError",
           "Injection", "parse_duration"]

INVOCATION_ERROR = "aws:lambda:invocation-error"
INVOCATION_ADD_DELAY = "aws:lambda:invocation-add-delay"
ACTIONS = (INVOCATION_ERROR, INVOCATION_ADD_DELAY)
# Errors of the Lambda service, as Step Functions names them: the Invoke API's status and
# error code. The function never runs.
SERVICE_ERRORS: dict[str, tuple[int, str]] = {
    "Lambda.ServiceException": (500, "ServiceException"),
    "Lambda.TooManyRequestsException": (429, "TooManyRequestsException"),
}
DEFAULT_ERROR = "Lambda.ServiceException"
# FIS's bounds: a delay of up to 15 minutes (Lambda's longest Timeout), an action of up
# to 12 hours.
MAX_DELAY_MS = 900_000
MAX_DURATION_SECONDS = 12 * 3600
_ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,127}")
_ISO_DURATION = re.compile(r"PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?",
                           re.IGNORECASE)
_SPEC_KEYS = {"function", "action", "error", "delay_ms", "count", "duration", "percentage",
              "stack_name"}


class FaultSpecError(ValueError):
    """A fault that cannot be injected as asked; the message says which field and why."""


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or an ISO 8601 duration as FIS takes it (``PT5M``)."""
    if isinstance(value, bool):
        raise FaultSpecError(f"duration {value!r} is not a number of seconds or PT…")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _ISO_DURATION.fullmatch(value.strip())) \
            and any(match.groups()):
        hours, minutes, secs = (float(part or 0) for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise FaultSpecError(f"duration {value!r} is neither seconds (30) nor an ISO 8601 "
                                 "duration (PT30S, PT5M, PT1H)") from None
    if not 0 < seconds <= MAX_DURATION_SECONDS:
        raise FaultSpecError(f"duration {value!r} must be more than 0 and at most 12 hours "
                             "(PT12H)")
    return seconds


def _whole(spec: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not number.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise FaultSpecError(f"{key} {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise FaultSpecError(f"{key} {value} is out of range: {low} to {high}")
    return int(number)


def _action(spec: Mapping[str, Any]) -> str:
    action = str(spec.get("action") or "")
    if not action.startswith("aws:lambda:"):
        action = "aws:lambda:" + action
    if action not in ACTIONS:
        raise FaultSpecError(f"action {spec.get('action')!r} is not one of "
                             "invocation-error, invocation-add-delay")
    return action


def _error_name(value: Any) -> str:
    name = DEFAULT_ERROR if value in (None, "") else value
    if not isinstance(name, str) or not _ERROR_NAME.fullmatch(name):
        raise FaultSpecError(f"error {value!r} is not an error name (letters, digits, '_' "
                             "and '.', such as Lambda.ServiceException or GameBroken)")
    if name.startswith("States."):
        raise FaultSpecError(f"error {name!r}: the States. names are Step Functions' own; "
                             "a function cannot fail with one")
    if name.startswith("Lambda.") and name not in SERVICE_ERRORS:
        raise FaultSpecError(f"error {name!r} is not a Lambda service error the local cloud "
                             f"can inject; choose {' or '.join(SERVICE_ERRORS)}, or a name "
                             "without 'Lambda.' for a function error")
    return name


@dataclass
class Fault:
    """One injected fault and what it has done so far."""

    fault_id: str
    action: str
    function: str
    error: str | None = None  # invocation-error
    delay_ms: int = 0  # invocation-add-delay
    percentage: int = 100
    remaining: int | None = None  # faulted invocations left; None: until it expires
    expires_at: float | None = None  # on the registry clock's monotonic time
    created_at: float = 0.0  # wall time
    injected: int = 0

    def live(self, now: float) -> bool:
        return (self.remaining is None or self.remaining > 0) and (
            self.expires_at is None or now < self.expires_at)

    def to_json(self, now: float) -> dict[str, Any]:
        """What the admin API lists: plain JSON, seconds left rounded."""
        return {
            "id": self.fault_id, "action": self.action, "function": self.function,
            "error": self.error, "delay_ms": self.delay_ms, "percentage": self.percentage,
            "remaining": self.remaining, "injected": self.injected,
            "seconds_left": None if self.expires_at is None
            else round(max(self.expires_at - now, 0.0), 1),
            "created_at": self.created_at,
        }

    def describe(self) -> str:
        """One line: ``f1: the next 2 invocations of F fail with Lambda.ServiceException``."""
        if self.remaining == 1:
            scope = f"the next invocation of {self.function}"
        elif self.remaining is not None:
            scope = f"the next {self.remaining} invocations of {self.function}"
        else:
            scope = f"invocations of {self.function}"
        if self.percentage < 100:
            scope = f"{self.percentage}% of {scope}"
        if self.action == INVOCATION_ERROR:
            what = f"{scope} fail with {self.error}"
        else:
            what = f"{scope} start {self.delay_ms} ms late"
        return f"{self.fault_id}: {what}"


@dataclass(frozen=True)
class Injection:
    """What to do to one invocation: fail it with ``error``, delay it, or neither."""

    error: str | None = None
    error_fault: str = ""  # the id of the fault that chose the error
    delay_ms: int = 0
    delay_faults: tuple[str, ...] = field(default=())

    @property
    def service_error(self) -> tuple[int, str] | None:
        """(HTTP status, error code) when the Lambda service itself refuses the invocation."""
        return SERVICE_ERRORS.get(self.error or "")

    @property
    def function_error(self) -> str | None:
        """The ``errorType`` of an injected function error, if this is one."""
        return self.error if self.error and self.service_error is None else None

    def message(self) -> str:
        """The error message: says it was injected, and how to stop it."""
        return (f"Fault {self.error_fault} injected by the local cloud ({self.error}); "
                "`python -m workshop fault clear` removes it")


NO_INJECTION = Injection()


class FaultRegistry:
    """The faults in force, per function; safe to use from any thread."""

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: Mapping[str, Any], *, function: str) -> Fault:
        """A fault from an admin request's JSON, for ``function`` (a resolved name)."""
        unknown = sorted(set(spec) - _SPEC_KEYS)
        if unknown:
            raise FaultSpecError(f"unknown field {unknown[0]!r}; a fault has "
                                 f"{', '.join(sorted(_SPEC_KEYS - {'stack_name'}))}")
        action = _action(spec)
        error, delay_ms = None, 0
        if action == INVOCATION_ERROR:
            if spec.get("delay_ms") is not None:
                raise FaultSpecError("an invocation error has no delay_ms: add the delay as "
                                     "a fault of its own")
            error = _error_name(spec.get("error"))
        else:
            if spec.get("error") is not None:
                raise FaultSpecError("an added delay has no error: add the error as a fault "
                                     "of its own")
            delay = _whole(spec, "delay_ms", 1, MAX_DELAY_MS)
            if delay is None:
                raise FaultSpecError("an added delay needs delay_ms (1 to 900000)")
            delay_ms = delay
        count = _whole(spec, "count", 1, 1_000_000)
        percentage = _whole(spec, "percentage", 1, 100)
        duration = spec.get("duration")
        seconds = None if duration is None else parse_duration(duration)
        with self._lock:
            fault = Fault(
                f"f{next(self._ids)}", action, function, error=error, delay_ms=delay_ms,
                percentage=100 if percentage is None else percentage, remaining=count,
                expires_at=None if seconds is None else self._clock.monotonic() + seconds,
                created_at=self._clock.now())
            self._faults.append(fault)
        return fault

    def view(self, fault: Fault) -> dict[str, Any]:
        """One fault as the admin API shows it."""
        return fault.to_json(self._clock.monotonic())

    def list(self) -> list[dict[str, Any]]:
        """The faults in force, oldest first."""
        now = self._clock.monotonic()
        with self._lock:
            self._purge(now)
            return [fault.to_json(now) for fault in self._faults]

    def clear(self, *, function: str | None = None, fault_id: str | None = None
              ) -> list[dict[str, Any]]:
        """Remove the faults of ``function``, the fault ``fault_id``, or (neither) all;
        returns the ones removed."""
        now = self._clock.monotonic()
        with self._lock:
            gone = [f for f in self._faults
                    if (function is None or f.function == function)
                    and (fault_id is None or f.fault_id == fault_id)]
            self._faults = [f for f in self._faults if f not in gone]
            return [fault.to_json(now) for fault in gone]

    def draw(self, function: str) -> Injection:
        """What the faults in force do to this invocation of ``function``.

        A Lambda service error wins and nothing else applies (the function does not
        run). Otherwise the added delays of every fault that fires are summed, and a
        function error, if one fires, follows them.
        """
        if not self._faults:
            return NO_INJECTION  # the usual case, on every invocation: no lock needed
        now = self._clock.monotonic()
        with self._lock:
            self._purge(now)
            faults = [f for f in self._faults if f.function == function]
            if not faults:
                return NO_INJECTION
            error = next((f for f in faults if f.action == INVOCATION_ERROR and self._fires(f)),
                         None)
            if error is not None and error.error in SERVICE_ERRORS:
                self._spend(error)
                return Injection(error.error, error.fault_id)
            delays = [f for f in faults if f.action == INVOCATION_ADD_DELAY and self._fires(f)]
            for fault in ([error] if error else []) + delays:
                self._spend(fault)
            return Injection(error.error if error else None, error.fault_id if error else "",
                             sum(f.delay_ms for f in delays),
                             tuple(f.fault_id for f in delays))

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- under the lock ------------------------------------------------------------------

    def _fires(self, fault: Fault) -> bool:
        return fault.percentage >= 100 or self._rng.random() * 100 < fault.percentage

    def _spend(self, fault: Fault) -> None:
        fault.injected += 1
        if fault.remaining is not None:
            fault.remaining -= 1
        if not fault.live(self._clock.monotonic()):
            self._faults.remove(fault)

    def _purge(self, now: float) -> None:
        self._faults = [f for f in self._faults if f.live(now)]
