"""Lab 5's checks give players a few seconds of real time to answer, on the clock of the
Step Functions that runs the game: the local cloud's time scale wherever the local cloud
serves the calls, also on the aws target pointed at it with ``AWS_ENDPOINT_URL`` (as the
tests of the aws path do); AWS's own clock runs in real time.

Found running notebook 05 on the aws target against a local cloud at time scale 0.01:
``waitseconds`` 3 became 30 ms, the scoring overtook the refused answers' replies, and the
check of exercise 5.3 blamed a correct solution ("3 were accepted").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import cloud
from workshop.exercises import Workspace, lab5
from workshop.exercises.runner import Deployment

SCALE = 0.01
PORT = 45999


@pytest.fixture
def local_cloud_at(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings of a local cloud on PORT whose clock runs at SCALE (no process needed:
    the status is what the running cloud would answer)."""
    monkeypatch.setenv("WORKSHOP_PORT", str(PORT))
    monkeypatch.setattr(cloud, "status", lambda **_: {"time_scale": SCALE})


def deployment(target: str, tmp_path: Path) -> Deployment:
    return Deployment(5, {"outputs": {}}, Workspace(tmp_path / "mygame"), target)


def test_the_aws_target_pointed_at_the_local_cloud_runs_on_its_clock(
        local_cloud_at: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{PORT}/")
    assert lab5._time_scale(deployment("aws", tmp_path)) == SCALE
    assert lab5._waitseconds(deployment("aws", tmp_path), 3.0) == 300


def test_the_aws_target_on_aws_runs_in_real_time(
        local_cloud_at: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert lab5._time_scale(deployment("aws", tmp_path)) == 1.0
    assert lab5._waitseconds(deployment("aws", tmp_path), 3.0) == 3
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/")   # another endpoint
    assert lab5._time_scale(deployment("aws", tmp_path)) == 1.0


def test_the_local_target_runs_on_the_local_clock(local_cloud_at: None, tmp_path: Path) -> None:
    assert lab5._time_scale(deployment("local", tmp_path)) == SCALE
