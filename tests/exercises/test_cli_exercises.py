"""``python -m workshop exercises | check | solve | reset-exercise``, bad input included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop.exercises import all_exercises


def _run(*args: str, workspace: Path) -> subprocess.CompletedProcess:
    # The session's private cloud put its WORKSHOP_PORT / WORKSHOP_HOME in os.environ.
    environment = {**os.environ, "WORKSHOP_WORKSPACE": str(workspace)}
    return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                          text=True, env=environment, timeout=120)


def test_exercises_lists_every_exercise_as_json(tmp_path: Path) -> None:
    run = _run("exercises", "--json", workspace=tmp_path / "ws")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [row["id"] for row in rows] == [item.id for item in all_exercises()]
    assert {row["status"] for row in rows} == {"not started"}
    assert all(row["files"] and row["title"] and row["lab"] for row in rows)


def test_solve_keeps_a_backup_and_reset_restores_the_starter(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    run = _run("solve", "1.4", workspace=workspace)
    assert run.returncode == 0, run.stderr
    assert "now the reference solution" in run.stdout and "kept in" in run.stdout
    assert 'query.get("user_id")' in (workspace / "main_server/app.py").read_text()
    run = _run("reset-exercise", "1.4", workspace=workspace)
    assert run.returncode == 0 and 'user_id = "nobody"' in (
        workspace / "main_server/app.py").read_text()
    assert len(list((workspace / ".workshop/backups").rglob("app.py.*"))) == 2


@pytest.mark.parametrize("command", [("solve", "7.1"), ("check", "12"), ("solve", "x")])
def test_an_unknown_exercise_is_one_line(tmp_path: Path, command: tuple[str, str]) -> None:
    run = _run(*command, workspace=tmp_path / "ws")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "there is no" in run.stderr
    assert "Traceback" not in run.stderr


def test_check_names_a_deleted_file(tmp_path: Path, cloud: dict) -> None:
    workspace = tmp_path / "ws"
    _run("solve", "1", workspace=workspace)
    (workspace / "main_server/app.py").unlink()
    run = _run("check", "1.4", "--stack-name", "cli-check", workspace=workspace)
    assert run.returncode == 1
    assert "main_server/app.py: deleted since the workshop created it" in run.stdout
    assert "0 passed, 1 failed" in run.stdout and "hint:" in run.stdout


def test_check_passes_a_solved_lab_and_fails_a_starter(tmp_path: Path, cloud: dict) -> None:
    workspace = tmp_path / "ws"
    run = _run("check", "1", "--stack-name", "cli-check", workspace=workspace)
    assert run.returncode == 1 and "0 passed, 4 failed" in run.stdout, run.stdout + run.stderr
    _run("solve", "1", workspace=workspace)
    run = _run("check", "lab1", "--stack-name", "cli-check", workspace=workspace)
    assert run.returncode == 0 and "4 passed, 0 failed" in run.stdout, run.stdout + run.stderr
    listed = json.loads(_run("exercises", "--json", workspace=workspace).stdout)
    assert {row["status"] for row in listed if row["lab"] == 1} == {"passing"}


def test_the_readme_counts_the_exercises() -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = re.search(r"exercises \((\d+) in all\)", readme)
    assert stated and int(stated.group(1)) == len(all_exercises())
