"""EventBridge scheduled rules: ``rate(...)`` and ``cron(...)`` that invoke Lambda functions.

Schedules run on a virtual clock that moves ``1 / time_scale`` times as fast as the wall
clock, so ``rate(1 minute)`` fires every 0.6 s at a time scale of 0.01 and the event's
``time`` advances a minute each tick, as learners would see on AWS. Times are UTC, as in
EventBridge. The next-fire computation is pure (``parse_schedule(...).next_fire``).

Rules are installed from the deploy thread; the timers run as tasks of the event loop the
scheduler was created in.
"""

from __future__ import annotations

import asyncio
import calendar
import concurrent.futures
import json
import logging
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .ids import SYSTEM_CLOCK, Clock
from .lambda_runtime import LambdaError
from .settings import Settings

__all__ = [
    "CronSchedule",
    "RateSchedule",
    "ScheduleError",
    "Scheduler",
    "parse_schedule",
    "scheduled_event",
]

log = logging.getLogger("workshop.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI",
                                                     "SAT"))}
_LAST_YEAR = 2199


class ScheduleError(ValueError):
    """A schedule expression EventBridge would reject (or one this emulator cannot run)."""


@dataclass(frozen=True)
class RateSchedule:
    """``rate(N unit)``: every N units, counted from when the rule was put."""

    seconds: int

    def next_fire(self, after: datetime, *, origin: datetime) -> datetime | None:
        elapsed = (after - origin).total_seconds()
        ticks = max(0, math.floor(elapsed / self.seconds)) + 1
        return origin + timedelta(seconds=ticks * self.seconds)


@dataclass(frozen=True)
class CronSchedule:
    """``cron(minutes hours day-of-month month day-of-week year)``, in UTC.

    Exactly one of the day fields is ``?`` (``None`` here), as EventBridge requires.
    Day-of-week counts from 1 = Sunday.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None
    months: frozenset[int]
    weekdays: frozenset[int] | None
    years: frozenset[int]

    def _day_matches(self, moment: datetime) -> bool:
        if self.days is not None:
            return moment.day in self.days
        assert self.weekdays is not None
        return (moment.weekday() + 1) % 7 + 1 in self.weekdays  # Monday=0 -> 2, Sunday -> 1

    def next_fire(self, after: datetime, *, origin: datetime | None = None) -> datetime | None:
        """The first matching minute strictly after ``after``; None if there is none."""
        moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while moment.year <= _LAST_YEAR:
            if moment.year not in self.years:
                moment = moment.replace(year=moment.year + 1, month=1, day=1, hour=0, minute=0)
            elif moment.month not in self.months:
                moment = (moment.replace(day=1, hour=0, minute=0) + timedelta(days=32)
                          ).replace(day=1)
            elif not self._day_matches(moment):
                moment = moment.replace(hour=0, minute=0) + timedelta(days=1)
            elif moment.hour not in self.hours:
                moment = moment.replace(minute=0) + timedelta(hours=1)
            elif moment.minute not in self.minutes:
                moment += timedelta(minutes=1)
            else:
                return moment
        return None


Schedule = RateSchedule | CronSchedule


def parse_schedule(expression: str) -> Schedule:
    """Parse ``rate(...)`` or ``cron(...)``; raise ScheduleError saying what is wrong."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        return _parse_rate(int(rate.group(1)), rate.group(2))
    cron = _CRON.match(text)
    if cron:
        return _parse_cron(cron.group(1).split())
    raise ScheduleError("a schedule is rate(value unit) or cron(minutes hours day-of-month "
                        "month day-of-week year)")


def _parse_rate(value: int, unit: str) -> RateSchedule:
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise ScheduleError(f"unit {unit!r} is not minute(s), hour(s) or day(s)")
    if value <= 0:
        raise ScheduleError("the rate must be a positive number")
    # EventBridge insists: "rate(1 minute)" but "rate(5 minutes)".
    if (value == 1) != (unit == singular):
        raise ScheduleError(f"use {'the singular' if value == 1 else 'the plural'} unit with "
                            f"{value}: rate({value} {singular if value == 1 else singular + 's'})")
    return RateSchedule(value * _UNITS[singular])


def _parse_cron(fields: list[str]) -> CronSchedule:
    if len(fields) != 6:
        raise ScheduleError(f"cron needs 6 fields (minutes hours day-of-month month "
                            f"day-of-week year), not {len(fields)}")
    minutes, hours, days, months, weekdays, years = fields
    if (days == "?") == (weekdays == "?"):
        raise ScheduleError("exactly one of day-of-month and day-of-week must be '?'")
    return CronSchedule(
        minutes=_cron_field(minutes, "minutes", 0, 59),
        hours=_cron_field(hours, "hours", 0, 23),
        days=None if days == "?" else _cron_field(days, "day-of-month", 1, 31),
        months=_cron_field(months, "month", 1, 12, _MONTH_NAMES),
        weekdays=None if weekdays == "?" else _cron_field(weekdays, "day-of-week", 1, 7,
                                                          _DAY_NAMES),
        years=_cron_field(years, "year", 1970, _LAST_YEAR),
    )


def _cron_field(text: str, name: str, low: int, high: int,
                names: dict[str, int] | None = None) -> frozenset[int]:
    def number(token: str) -> int:
        value = (names or {}).get(token.upper())
        if value is None:
            if not token.isdigit():
                raise ScheduleError(f"{name}: {token!r} is not a number")
            value = int(token)
        if not low <= value <= high:
            raise ScheduleError(f"{name}: {value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for part in text.split(","):
        if "#" in part or re.search(r"(^|\d)(L|W|LW)($|-)", part.upper()):
            raise ScheduleError(f"{name}: {part!r} uses L, W or #, which the local scheduler "
                                "does not support")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{name}: step {step_text!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (number(token) for token in base.split("-", 1))
            if first > last:
                raise ScheduleError(f"{name}: range {base!r} runs backwards")
        else:
            first = number(base)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def scheduled_event(*, rule_arn: str, region: str, account_id: str, time: datetime,
                    event_id: str | None = None) -> dict[str, Any]:
    """The event EventBridge sends a target of a scheduled rule."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass(frozen=True)
class _Rule:
    name: str
    arn: str
    schedule: Schedule
    targets: tuple[tuple[str, str | None], ...]
    enabled: bool


class Scheduler:
    """Runs scheduled rules in an event loop; ``put_rule`` / ``delete_rule`` from any thread.

    A target is invoked asynchronously (``invocation_type="Event"``), as EventBridge
    does, and only if the function's resource policy lets ``events.amazonaws.com``
    invoke it for this rule (SAM's Schedule event adds that permission).
    """

    def __init__(self, settings: Settings, runtime: Any, *, clock: Clock = SYSTEM_CLOCK,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._settings = settings
        self._runtime = runtime
        self._clock = clock
        try:
            self._loop = loop or asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "create the Scheduler inside its event loop, or pass loop=") from None
        self._rules: dict[str, _Rule] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._invocations: set[asyncio.Task[None]] = set()

    # -- thread-safe API ------------------------------------------------------------------

    def put_rule(self, name: str, *, schedule_expression: str,
                 targets: Sequence[tuple[str, str | None]], enabled: bool) -> None:
        """Create or replace a rule; its schedule restarts from now."""
        rule = _Rule(name, self._settings.arn("events", f"rule/{name}"),
                     parse_schedule(schedule_expression), tuple(targets), enabled)
        self._in_loop(self._install, rule)

    def delete_rule(self, name: str) -> None:
        """Stop and forget a rule; an unknown name is not an error."""
        self._in_loop(self._remove, name)

    def reset(self) -> None:
        """Stop and forget every rule."""
        self._in_loop(self._remove_all)

    def rule_names(self) -> list[str]:
        return sorted(self._rules)

    async def shutdown(self) -> None:
        """Stop every rule and wait for invocations in flight to be handed over."""
        self._remove_all()
        pending = list(self._invocations)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # -- in the loop ----------------------------------------------------------------------

    def _in_loop(self, function: Callable[..., None], *args: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            function(*args)
            return
        if self._loop.is_closed():
            raise RuntimeError("the scheduler's event loop is closed")
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def apply() -> None:
            try:
                function(*args)
                done.set_result(None)
            except BaseException as error:  # noqa: BLE001 - handed to the calling thread
                done.set_exception(error)

        self._loop.call_soon_threadsafe(apply)
        done.result(timeout=30)

    def _install(self, rule: _Rule) -> None:
        self._remove(rule.name)
        self._rules[rule.name] = rule
        if rule.enabled:
            self._timers[rule.name] = self._loop.create_task(self._run(rule))

    def _remove(self, name: str) -> None:
        self._rules.pop(name, None)
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _remove_all(self) -> None:
        for name in list(self._rules):
            self._remove(name)

    async def _run(self, rule: _Rule) -> None:
        scale = self._settings.time_scale
        start_wall, start_mono = self._clock.now(), self._clock.monotonic()
        origin = datetime.fromtimestamp(start_wall, timezone.utc)

        def virtual_now() -> datetime:
            elapsed = (self._clock.monotonic() - start_mono) / scale
            return datetime.fromtimestamp(start_wall + elapsed, timezone.utc)

        last = origin
        while True:
            # Never before the last fire: a timer that wakes a little early must not
            # fire the same tick twice.
            now = max(virtual_now(), last)
            fire = rule.schedule.next_fire(now, origin=origin)
            if fire is None:
                return
            await asyncio.sleep((fire - now).total_seconds() * scale)
            self._fire(rule, fire)
            last = fire

    def _fire(self, rule: _Rule, time: datetime) -> None:
        event = scheduled_event(rule_arn=rule.arn, region=self._settings.region,
                                account_id=self._settings.account_id, time=time)
        for function, payload in rule.targets:
            body = payload.encode() if payload is not None else json.dumps(event).encode()
            task = self._loop.create_task(self._invoke(rule, function, body))
            self._invocations.add(task)
            task.add_done_callback(self._invocations.discard)

    async def _invoke(self, rule: _Rule, function: str, body: bytes) -> None:
        if not self._runtime.invoke_allowed(function, principal="events.amazonaws.com",
                                            source_arn=rule.arn):
            log.warning("rule %s may not invoke %s: no AWS::Lambda::Permission lets "
                        "events.amazonaws.com invoke it for this rule", rule.name, function)
            return
        try:
            await self._runtime.invoke(function, body, invocation_type="Event")
        except LambdaError as error:  # a missing function must not stop the schedule
            log.warning("rule %s could not invoke %s: %s", rule.name, function, error)
