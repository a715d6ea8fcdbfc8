"""Scheduled rules: parsing and next-fire times (pure), then firing with a fake runtime."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from workshop.emulator.lambda_runtime import ResourceNotFound
from workshop.emulator.scheduler import (
    CronSchedule,
    RateSchedule,
    ScheduleError,
    Scheduler,
    parse_schedule,
)
from workshop.emulator.settings import Settings

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def next_fire(expression: str, after: str) -> datetime | None:
    return parse_schedule(expression).next_fire(at(after), origin=at(after))


# -- parsing and next-fire times ---------------------------------------------------------


def test_rate_counts_from_the_origin() -> None:
    schedule = parse_schedule("rate(5 minutes)")
    assert schedule == RateSchedule(300)
    origin = at("2026-03-01T10:00:00")
    assert schedule.next_fire(origin, origin=origin) == at("2026-03-01T10:05:00")
    assert schedule.next_fire(at("2026-03-01T10:07:30"), origin=origin) == \
        at("2026-03-01T10:10:00")
    assert parse_schedule("rate(1 hour)") == RateSchedule(3600)
    assert parse_schedule("rate(2 days)") == RateSchedule(172800)


@pytest.mark.parametrize(("expression", "problem"), [
    ("rate(1 minutes)", "use the singular unit"),
    ("rate(5 minute)", "use the plural unit"),
    ("rate(0 minutes)", "positive"),
    ("rate(3 weeks)", "not minute"),
    ("every 5 minutes", "a schedule is rate"),
    ("cron(0 12 * * *)", "6 fields"),
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 25 * * ? *)", "hours: 25 is outside 0-23"),
    ("cron(0 12 L * ? *)", "L, W or #"),
    ("cron(0 12 ? * 6#3 *)", "L, W or #"),
    ("cron(0 12 ? * MON-FOO *)", "'FOO' is not a number"),
    ("cron(30-10 * * * ? *)", "runs backwards"),
])
def test_invalid_schedules_are_explained(expression: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=problem):
        parse_schedule(expression)


@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("cron(0/15 * * * ? *)", "2026-03-01T10:07:12", "2026-03-01T10:15:00"),
    ("cron(0 10 * * ? *)", "2026-03-01T10:00:00", "2026-03-02T10:00:00"),
    ("cron(5,10,20 * * * ? *)", "2026-03-01T10:10:00", "2026-03-01T10:20:00"),
    ("cron(10-40/10 8 * * ? *)", "2026-03-01T08:31:00", "2026-03-01T08:40:00"),
    ("cron(10-40/10 8 * * ? *)", "2026-03-01T08:41:00", "2026-03-02T08:10:00"),
    # 2026-03-07 is a Saturday: the next weekday run is Monday the 9th.
    ("cron(15 12 ? * MON-FRI *)", "2026-03-07T09:00:00", "2026-03-09T12:15:00"),
    # Day-of-week 1 is Sunday in EventBridge.
    ("cron(0 0 ? * 1 *)", "2026-03-02T00:00:00", "2026-03-08T00:00:00"),
    ("cron(0 8 1 * ? *)", "2026-01-15T00:00:00", "2026-02-01T08:00:00"),
    ("cron(0 8 1 JAN,JUL ? *)", "2026-01-15T00:00:00", "2026-07-01T08:00:00"),
    ("cron(0 0 29 2 ? *)", "2026-01-01T00:00:00", "2028-02-29T00:00:00"),
    ("cron(0 18 ? * * 2030)", "2026-06-01T00:00:00", "2030-01-01T18:00:00"),
    ("cron(59 23 31 12 ? *)", "2026-12-31T23:59:00", "2027-12-31T23:59:00"),
])
def test_cron_next_fire(expression: str, after: str, expected: str) -> None:
    assert next_fire(expression, after) == at(expected)


def test_cron_with_no_future_fire() -> None:
    assert next_fire("cron(0 0 1 1 ? 1999)", "2026-01-01T00:00:00") is None


def test_cron_parses_to_its_fields() -> None:
    schedule = parse_schedule("cron(0 9 ? * SUN,SAT *)")
    assert isinstance(schedule, CronSchedule)
    assert (schedule.minutes, schedule.hours, schedule.days) == ({0}, {9}, None)
    assert schedule.weekdays == {1, 7}


# -- the scheduler -----------------------------------------------------------------------


class FakeRuntime:
    """Records Event invocations; permissions as a set of (function, rule arn)."""

    def __init__(self) -> None:
        self.invocations: list[tuple[str, dict, str]] = []
        self.allowed: set[tuple[str, str]] = set()
        self.arrived = asyncio.Event()

    def invoke_allowed(self, name: str, *, principal: str, source_arn: str) -> bool:
        return principal == "events.amazonaws.com" and (name, source_arn) in self.allowed

    async def invoke(self, name: str, payload: bytes, *, invocation_type: str) -> None:
        if name == "missing":
            raise ResourceNotFound("Function not found")
        self.invocations.append((name, json.loads(payload), invocation_type))
        self.arrived.set()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async def enough() -> None:
            while len(self.invocations) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)


def rule_arn(name: str) -> str:
    return f"arn:aws:events:us-east-1:123456789012:rule/{name}"


def settings(tmp_path: Path) -> Settings:
    # rate(1 minute) fires every 60 ms.
    return Settings(time_scale=0.001, home=tmp_path)


def test_rule_fires_scheduled_events_on_the_scaled_clock(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = FakeRuntime()
        runtime.allowed.add(("tick", rule_arn("every-minute")))
        scheduler = Scheduler(settings(tmp_path), runtime)
        scheduler.put_rule("every-minute", schedule_expression="rate(1 minute)",
                           targets=[("tick", None)], enabled=True)
        await runtime.wait_for(3)
        await scheduler.shutdown()
        events = [payload for _, payload, _ in runtime.invocations]
        assert {kind for _, _, kind in runtime.invocations} == {"Event"}
        assert events[0]["detail-type"] == "Scheduled Event"
        assert events[0]["source"] == "aws.events"
        assert events[0]["resources"] == [rule_arn("every-minute")]
        assert (events[0]["account"], events[0]["region"]) == ("123456789012", "us-east-1")
        times = [datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ") for e in events[:3]]
        # Virtual time: a minute between ticks, however fast the test machine is.
        assert times[1] - times[0] == times[2] - times[1] == timedelta(minutes=1)

    asyncio.run(scenario())


def test_input_is_sent_instead_of_the_event_and_targets_need_permission(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = FakeRuntime()
        runtime.allowed.add(("allowed", rule_arn("r")))
        scheduler = Scheduler(settings(tmp_path), runtime)
        scheduler.put_rule("r", schedule_expression="rate(1 minute)",
                           targets=[("allowed", '{"source": "schedule"}'), ("denied", None),
                                    ("missing", None)], enabled=True)
        await runtime.wait_for(2)
        await scheduler.shutdown()
        assert {name for name, _, _ in runtime.invocations} == {"allowed"}
        assert runtime.invocations[0][1] == {"source": "schedule"}

    asyncio.run(scenario())


def test_disabled_deleted_and_reset_rules_stay_silent(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = FakeRuntime()
        runtime.allowed |= {("a", rule_arn("a")), ("b", rule_arn("b")), ("c", rule_arn("c"))}
        scheduler = Scheduler(settings(tmp_path), runtime)
        for name, enabled in (("a", False), ("b", True), ("c", True)):
            scheduler.put_rule(name, schedule_expression="rate(1 minute)",
                               targets=[(name, None)], enabled=enabled)
        await runtime.wait_for(2)
        scheduler.delete_rule("b")
        assert scheduler.rule_names() == ["a", "c"]
        scheduler.reset()
        assert scheduler.rule_names() == []
        seen = len(runtime.invocations)
        await asyncio.sleep(0.3)  # five periods
        assert len(runtime.invocations) == seen
        assert "a" not in {name for name, _, _ in runtime.invocations}
        await scheduler.shutdown()

    asyncio.run(scenario())


def test_rules_can_be_put_from_another_thread(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = FakeRuntime()
        runtime.allowed.add(("tick", rule_arn("threaded")))
        scheduler = Scheduler(settings(tmp_path), runtime)
        # As the deployer does: from a worker thread while the loop runs.
        await asyncio.to_thread(scheduler.put_rule, "threaded",
                                schedule_expression="cron(* * * * ? *)",
                                targets=[("tick", None)], enabled=True)
        assert scheduler.rule_names() == ["threaded"]
        await runtime.wait_for(1)
        await asyncio.to_thread(scheduler.delete_rule, "threaded")
        assert scheduler.rule_names() == []
        await scheduler.shutdown()

    asyncio.run(scenario())


def test_put_rule_rejects_a_bad_expression_without_installing_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        scheduler = Scheduler(settings(tmp_path), FakeRuntime())
        with pytest.raises(ScheduleError):
            scheduler.put_rule("bad", schedule_expression="rate(1 minutes)", targets=[],
                               enabled=True)
        assert scheduler.rule_names() == []

    asyncio.run(scenario())


def test_scheduler_needs_an_event_loop(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="inside its event loop"):
        Scheduler(settings(tmp_path), FakeRuntime())
