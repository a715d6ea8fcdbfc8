"""Choosing the notebooks' target and checking the machine for it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from workshop.emulator.credentials import credentials_path
from workshop.notebook import target


@pytest.fixture(autouse=True)
def private_home(cloud: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's private cloud (never port 4580), and a state folder of this test's,
    holding that cloud's credentials (without them, nothing may call it)."""
    shutil.copy2(credentials_path(Path(os.environ["WORKSHOP_HOME"])), credentials_path(tmp_path))
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    # choose() sets WORKSHOP_TARGET itself: setting it first makes monkeypatch restore it.
    monkeypatch.setenv("WORKSHOP_TARGET", "local")
    monkeypatch.delenv("WORKSHOP_TARGET")


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


def test_start_reuses_the_running_local_cloud(cloud: dict) -> None:
    session = target.start("local")
    assert session.local and session.details["endpoint"] == cloud["endpoint"]
    assert str(session).startswith(f"local: local cloud at {cloud['endpoint']}")
    assert session._repr_markdown_().startswith("**Target `local`**")


def test_nothing_chosen_here_leaks_out() -> None:
    target.choose("aws")     # undone by the fixture, or later tests would target AWS
