"""One-line checks: a verdict that renders, asserts, and raises in strict mode."""

from __future__ import annotations

import pandas as pd
import pytest

from workshop.notebook import checks, target
from workshop.notebook.checks import Check, CheckFailed


def test_a_check_renders_one_line_and_is_truthy_when_it_passed() -> None:
    right, wrong = Check(True, "all good"), Check(False, "nothing deployed")
    assert str(right) == "✅ all good" and right._repr_markdown_() == "✅ all good"
    assert str(wrong) == "❌ nothing deployed"
    assert right and not wrong
    assert right.require() is right
    with pytest.raises(CheckFailed, match="nothing deployed"):
        wrong.require()


def test_strict_mode_turns_a_failure_into_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(checks.STRICT_VARIABLE, raising=False)
    assert not checks.verdict(False, "right", "wrong")
    monkeypatch.setenv(checks.STRICT_VARIABLE, "1")
    assert checks.verdict(True, "right", "wrong").message == "right"
    with pytest.raises(CheckFailed, match="wrong"):
        checks.verdict(False, "right", "wrong")


def test_information_is_neither_a_pass_nor_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(checks.STRICT_VARIABLE, "1")
    told = checks.information("the race did not show")
    assert not told and isinstance(told, Check)
    assert str(told) == "ℹ️ the race did not show" and told._repr_markdown_() == str(told)
    with pytest.raises(CheckFailed, match="did not show"):
        told.require()                # nothing was verified: it cannot stand in for a pass


def test_eventually_returns_the_first_truthy_answer_or_the_last() -> None:
    answers = iter([0, 0, 3, 4])
    assert checks.eventually(lambda: next(answers), interval=0) == 3
    assert checks.eventually(lambda: [], timeout=0.05, interval=0.01) == []


def test_deployed_names_what_is_missing() -> None:
    report = {"created": ["A"], "updated": [], "deleted": [], "unchanged": ["B"],
              "seconds": 0.25}
    assert checks.deployed(report, "A", "B").message.startswith("2 resources in place")
    missing = checks.deployed(report, "A", "C")
    assert not missing and "not deployed: C" in missing.message


def test_preflight_names_the_failing_checks() -> None:
    frame = pd.DataFrame([{"check": "python", "ok": "✅", "detail": "3.11"},
                          {"check": "port", "ok": "❌", "detail": "4580 is in use"}])
    assert checks.preflight(frame.iloc[:1]).message == "all 1 preflight checks pass"
    failing = checks.preflight(frame)
    assert not failing and "port (4580 is in use)" in failing.message


def test_started_asks_the_local_cloud(cloud: dict) -> None:
    session = target.Target("local", "local cloud")
    assert checks.started(session).message.startswith(
        f"the local cloud answers at {cloud['endpoint']}")
    assert checks.started(target.Target("aws", "account 1")).message == "AWS answers: account 1"
