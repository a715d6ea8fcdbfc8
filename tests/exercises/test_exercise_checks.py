"""Every exercise's check fails on its untouched starter, with its hint, and passes solved.

A check that cannot fail would pass a learner who wrote nothing; one that fails on the
solution would block everyone. Each exercise is tried in a workspace where every other
exercise is solved, so only its own lines are missing, and deployed to the session's
private cloud as the stack ``exercises``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.exercises import (
    Workspace,
    all_exercises,
    check,
    exercise,
    lab_exercises,
    lab_files,
)
from workshop.exercises.catalog import LABS
from workshop.exercises.lab2 import api_of

STACK = "exercises"


@pytest.fixture(scope="module")
def solved(cloud: dict, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("learner") / "mygame")
    workspace.prepare(lab_files(max(LABS)))
    for item in all_exercises():
        workspace.solve(item)
    return workspace


def test_every_lab_has_three_exercises_and_the_labs_eighteen() -> None:
    assert all(len(lab_exercises(lab)) >= 3 for lab in LABS)
    assert len(all_exercises()) >= 18
    for item in all_exercises():
        assert item.files, f"{item.id} marks no lines in the answer key"
        assert item.task and item.hint and item.title


@pytest.mark.timeout(300)
@pytest.mark.parametrize("exercise_id", [item.id for item in all_exercises()])
def test_check_fails_on_its_starter_and_passes_when_solved(solved: Workspace,
                                                           exercise_id: str) -> None:
    item = exercise(exercise_id)
    solved.reset(item)
    try:
        [result] = check(exercise_id, workspace=solved, target="local", stack_name=STACK)
        assert not result.ok, f"{exercise_id} passed on its starter: {result.message}"
        assert result.message and result.hint == item.hint
        assert "❌" in str(result) and "hint:" in str(result)
    finally:
        solved.solve(item)
    [result] = check(exercise_id, workspace=solved, target="local", stack_name=STACK)
    assert result.ok, f"{exercise_id} failed on its solution: {result.message}"
    assert solved.status(item, solved.digest(item.files)) == "passing"


def test_a_syntax_error_is_named_and_nothing_is_deployed(solved: Workspace) -> None:
    path: Path = solved.path("main_server/app.py")
    good = path.read_text()
    path.write_text(good.replace("def connect(", "def connect(:", 1))
    try:
        results = check("1.4", workspace=solved, target="local", stack_name=STACK)
    finally:
        path.write_text(good)
    assert not results[0].ok
    assert "main_server/app.py, line" in results[0].message
    assert "nothing was deployed" in results[0].message
    # The stack kept serving the last good deploy: the lab still passes.
    [again] = check("1.4", workspace=solved, target="local", stack_name=STACK)
    assert again.ok, again.message


@pytest.mark.parametrize("url", [
    "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev",
    "wss://abc123.execute-api.cn-northwest-1.amazonaws.com.cn/dev",
    "ws://127.0.0.1:4580/abc123/dev"])
def test_the_api_and_stage_of_a_websocket_url_in_any_partition(url: str) -> None:
    assert api_of(url) == ("abc123", "dev")
