"""Choosing the notebooks' target and checking the machine for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.notebook import target


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    monkeypatch.delenv("WORKSHOP_TARGET", raising=False)


def test_local_unless_chosen_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert target.chosen() == "local"
    assert target.choose(" AWS ") == "aws"
    monkeypatch.delenv("WORKSHOP_TARGET")        # a later notebook: a new process
    assert target.chosen() == "aws"
    monkeypatch.setenv("WORKSHOP_TARGET", "local")
    assert target.chosen() == "local"


def test_an_unknown_target_is_refused() -> None:
    with pytest.raises(target.TargetError, match="not one of local, aws"):
        target.choose("azure")


def test_preflight_lists_each_check_once() -> None:
    frame = target.preflight("local")
    assert list(frame.columns) == ["check", "ok", "detail"]
    assert {"python", "boto3", "pandas", "ipywidgets"} <= set(frame["check"])
    assert set(frame["ok"]) <= {"✅", "❌"}
