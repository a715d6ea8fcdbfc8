"""Exercise 5.4's check sees the Retry work on the local cloud: it injects two
``Lambda.ServiceException`` into AskQuestion's function, so a Retry that reads right but
gives up too soon fails the check, and a working one is seen retrying."""

from __future__ import annotations

import json

import pytest

from workshop import faults
from workshop.exercises import Workspace, all_exercises, check, lab_files

STACK = "retrycheck"
ASL = "statemachines/trivia.asl.json"


@pytest.fixture(scope="module")
def solved(cloud: dict, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("learner") / "mygame")
    workspace.prepare(lab_files(5))
    for item in all_exercises():
        if item.lab <= 5:
            workspace.solve(item)
    return workspace


@pytest.mark.timeout(300)
def test_a_working_retry_is_seen_retrying(solved: Workspace) -> None:
    [result] = check("5.4", workspace=solved, target="local", stack_name=STACK)
    assert result.ok, result.message
    assert "AskQuestion met 2 injected Lambda.ServiceExceptions and retried them" \
        in result.message
    assert faults.current() == []  # the check leaves no fault behind


@pytest.mark.timeout(300)
def test_a_retry_that_gives_up_too_soon_fails_the_check(solved: Workspace) -> None:
    path = solved.path(ASL)
    good = path.read_text()
    definition = json.loads(good)
    definition["States"]["AskQuestion"]["Retry"][0]["MaxAttempts"] = 1
    path.write_text(json.dumps(definition, indent=2))
    try:
        [result] = check("5.4", workspace=solved, target="local", stack_name=STACK)
    finally:
        path.write_text(good)
    assert not result.ok
    assert "AskQuestion met 2 × Lambda.ServiceException (injected by this check" \
        in result.message
    assert "got gameover instead of a question" in result.message
    assert faults.current() == []
