"""The fault registry: FIS's Lambda actions as plain rules, without a cloud."""

from __future__ import annotations

import random

import pytest

from workshop.emulator.faults import (
    INVOCATION_ADD_DELAY,
    INVOCATION_ERROR,
    NO_INJECTION,
    FaultRegistry,
    FaultSpecError,
    parse_duration,
)
from workshop.emulator.ids import Clock


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> Clock:
        return Clock(wall=lambda: self.now, monotonic=lambda: self.now)


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def registry(time_: FakeTime) -> FaultRegistry:
    return FaultRegistry(clock=time_.clock(), rng=random.Random(1))


def test_the_next_n_invocations_fail_then_the_fault_is_gone(registry: FaultRegistry) -> None:
    fault = registry.add({"action": "invocation-error", "count": 2}, function="Ask")
    assert fault.action == INVOCATION_ERROR and fault.error == "Lambda.ServiceException"
    assert fault.describe() == "f1: the next 2 invocations of Ask fail with " \
                               "Lambda.ServiceException"
    first, second, third = (registry.draw("Ask") for _ in range(3))
    assert first.service_error == second.service_error == (500, "ServiceException")
    assert first.error_fault == "f1" and "fault clear" in first.message()
    assert third == NO_INJECTION
    assert registry.list() == []


def test_only_the_named_function_is_hit(registry: FaultRegistry) -> None:
    registry.add({"action": "invocation-error"}, function="Ask")
    assert registry.draw("Score") == NO_INJECTION
    assert registry.draw("Ask").error == "Lambda.ServiceException"
    assert registry.list()[0]["injected"] == 1 and registry.list()[0]["remaining"] is None


def test_a_duration_ends_the_fault(registry: FaultRegistry, time_: FakeTime) -> None:
    registry.add({"action": "aws:lambda:invocation-add-delay", "delay_ms": 3000,
                  "duration": "PT1M"}, function="Battle")
    assert registry.list()[0]["seconds_left"] == 60.0
    time_.now += 59
    assert registry.draw("Battle").delay_ms == 3000
    time_.now += 1
    assert registry.draw("Battle") == NO_INJECTION
    assert registry.list() == []


def test_function_errors_and_delays_combine_but_a_service_error_stands_alone(
        registry: FaultRegistry) -> None:
    registry.add({"action": "invocation-add-delay", "delay_ms": 200}, function="F")
    registry.add({"action": "invocation-add-delay", "delay_ms": 50, "count": 1}, function="F")
    registry.add({"action": "invocation-error", "error": "GameBroken", "count": 1},
                 function="F")
    both = registry.draw("F")
    assert (both.function_error, both.service_error, both.delay_ms) == ("GameBroken", None, 250)
    assert both.delay_faults == ("f1", "f2")
    registry.add({"action": "invocation-error", "count": 1}, function="F")
    alone = registry.draw("F")
    assert (alone.error, alone.delay_ms) == ("Lambda.ServiceException", 0)
    assert registry.list()[0]["injected"] == 1  # the delay did not fire with it
    assert registry.draw("F").delay_ms == 200


def test_a_percentage_affects_about_that_share(registry: FaultRegistry) -> None:
    registry.add({"action": "invocation-error", "error": "Lambda.TooManyRequestsException",
                  "percentage": 25}, function="F")
    hit = sum(registry.draw("F").error is not None for _ in range(2000))
    assert 400 < hit < 600
    assert registry.list()[0]["injected"] == hit


def test_clear_by_function_by_id_and_all(registry: FaultRegistry) -> None:
    for function in ("A", "A", "B", "C"):
        registry.add({"action": "invocation-error"}, function=function)
    assert [f["id"] for f in registry.clear(function="A")] == ["f1", "f2"]
    assert [f["id"] for f in registry.clear(fault_id="f3")] == ["f3"]
    assert registry.clear(fault_id="f3") == []
    assert [f["function"] for f in registry.clear()] == ["C"]


@pytest.mark.parametrize(("spec", "message"), [
    ({"action": "explode"}, "not one of invocation-error, invocation-add-delay"),
    ({"action": "invocation-error", "error": "States.TaskFailed"}, "Step Functions' own"),
    ({"action": "invocation-error", "error": "Lambda.Unknown"}, "not a Lambda service error"),
    ({"action": "invocation-error", "error": "two words"}, "not an error name"),
    ({"action": "invocation-error", "delay_ms": 5}, "no delay_ms"),
    ({"action": "invocation-add-delay"}, "needs delay_ms"),
    ({"action": "invocation-add-delay", "delay_ms": 900_001}, "out of range"),
    ({"action": "invocation-add-delay", "delay_ms": 1.5}, "not a whole number"),
    ({"action": "invocation-error", "count": 0}, "count 0 is out of range"),
    ({"action": "invocation-error", "count": True}, "not a whole number"),
    ({"action": "invocation-error", "percentage": 101}, "out of range"),
    ({"action": "invocation-error", "duration": "soon"}, "ISO 8601"),
    ({"action": "invocation-error", "duration": "PT13H"}, "at most 12 hours"),
    ({"action": "invocation-error", "times": 2}, "unknown field 'times'"),
])
def test_a_bad_fault_is_refused_with_its_reason(registry: FaultRegistry, spec: dict,
                                                message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        registry.add(spec, function="F")
    assert registry.list() == []


@pytest.mark.parametrize(("value", "seconds"), [
    (30, 30.0), ("45", 45.0), ("PT30S", 30.0), ("PT5M", 300.0), ("PT1H30M", 5400.0),
    ("pt0.5s", 0.5),
])
def test_durations_in_seconds_or_iso_8601(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_add_delay_is_its_own_action(registry: FaultRegistry) -> None:
    fault = registry.add({"action": "invocation-add-delay", "delay_ms": 3000, "count": 1,
                          "percentage": 50}, function="Battle")
    assert fault.action == INVOCATION_ADD_DELAY
    assert fault.describe() == "f1: 50% of the next invocation of Battle start 3000 ms late"
