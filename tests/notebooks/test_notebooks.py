"""The labs' notebooks run top to bottom in a fresh kernel, on a private local cloud.

Each notebook runs under ``pytest --nbval-lax`` in a child process whose environment
points at a local cloud of its own (``WORKSHOP_PORT`` / ``WORKSHOP_HOME``), so a
learner's cloud on port 4580 is never touched. ``WORKSHOP_STRICT_CHECKS=1`` makes every
"Check your work" cell raise when its check fails: the outputs that teach something —
the 403 and the 500, the log lines, the rows of the connections table, the match report,
the settlements — are asserted, not merely produced.

The notebooks run in lab order in the same cloud, as a learner runs them, so each one
also proves it copes with a cloud that earlier labs have used. Their workspace
(``WORKSHOP_WORKSPACE``) holds every exercise solved, as a learner's would at the end,
and no cell may change it: running a notebook again never overwrites a learner's work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop.cloud import private_cloud
from workshop.exercises import Workspace, all_exercises, lab_files
from workshop.exercises.catalog import LABS
from workshop.exercises.workspace import WORKSPACE_VARIABLE
from workshop.notebook.checks import STRICT_VARIABLE

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = ["00_setup", "01_hello_websocket", "02_connection_table", "03_matchmaking",
             "04_battle", "05_trivia_step_functions", "06_lottery_sns", "99_cleanup"]
# What a notebook must check, beyond running cleanly: the lesson it exists to teach.
LESSONS = {
    "01_hello_websocket": ["checks.handshake(url, expect=403", "checks.handshake(url, expect=500",
                           "checks.logged(", "tables.gateway_log_frame(",
                           'sam_cli.run(["build"]', 'sam_cli.run(["deploy"',
                           'sam_cli.run(["sync", "--code"', 'sam_cli.run(["delete"',
                           'cfn.describe_stacks(StackName=sam_stack)',
                           'stack_reader.deployed_name("hello-sam")'],
    "02_connection_table": ["checks.rows(", "GoneException", "events.websocket_event(",
                            "lab.policies_without(", "checks.handshake(url, expect=502",
                            'checks.logged(function_name, "AccessDeniedException"',
                            'cfn.describe_stacks(StackName=stack_name)',
                            'cfn.get_paginator("list_stack_resources")'],
    "03_matchmaking": ["checks.race_damage(naive)", "checks.matched_once(fixed)",
                       '"Handler": "naive.handler"'],
    "04_battle": ["checks.settled(expected)", "checks.battle_settled(alice, bob, rooms_table)",
                  "BattlePanel(", "plot_scores(", 'web_game.open_game("battle"', "BattleBot("],
    "05_trivia_step_functions": [
        'checks.execution(busy, status="FAILED"', "checks.trivia_scored(", "checks.execution(game_",
        "TriviaPanel(", "state_machines.history_frame(", "state_machines.execution_diagram(",
        "plot_scoreboard(", 'web_game.open_game("trivia"'],
    "06_lottery_sns": [
        'lottery.run_draw(machine, {"input": 2})', "lottery.check_draw(",
        '"exception": True', 'lottery.check_failed(failed, "SimulatedFailure"',
        'zip(bad, expected_errors)', '"NotEnoughEligibleEmployees", winners_table',
        "lottery.check_fair(counts)", "lottery.plot_fairness(",
        "state_machines.execution_diagram(", "state_machines.history_frame(",
        "lottery.draws_at_once(machine"],
    "99_cleanup": ["leftovers.find()", "leftovers.stop_executions(", "cleanup.delete_stack(",
                   "cleanup.stack_exists(", "leftovers.delete_log_groups(",
                   "leftovers.delete_layer_versions(",
                   "leftovers.delete_sam_lab_stacks()", "leftovers.delete_sam_managed_stack()"],
}
CELL_TIMEOUT = 120


def _notebook(name: str) -> dict:
    return json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text())


@pytest.fixture(scope="module")
def solved_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = Workspace(tmp_path_factory.mktemp("learner") / "mygame")
    workspace.prepare(lab_files(max(LABS)))
    for item in all_exercises():
        workspace.solve(item)
    return workspace


def _fingerprints(workspace: Workspace) -> dict[str, str]:
    return {path.relative_to(workspace.root).as_posix(): workspace.digest(
                [path.relative_to(workspace.root).as_posix()])
            for path in workspace.root.rglob("*")
            if path.is_file() and ".workshop" not in path.parts and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def notebook_cloud(solved_workspace: Workspace) -> Iterator[dict[str, str]]:
    """A cloud of the notebooks' own; yields the environment their kernels get."""
    with private_cloud(time_scale=0.01):
        yield {**os.environ, STRICT_VARIABLE: "1", "WORKSHOP_TARGET": "local",
               WORKSPACE_VARIABLE: str(solved_workspace.root)}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name: str, notebook_cloud: dict[str, str],
                                     solved_workspace: Workspace) -> None:
    before = _fingerprints(solved_workspace)
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={CELL_TIMEOUT}", "-p", "no:cacheprovider", "-q",
               "--no-header", str(NOTEBOOKS_DIR / f"{name}.ipynb")]
    run = subprocess.run(command, env=notebook_cloud, cwd=NOTEBOOKS_DIR, capture_output=True,
                         text=True, timeout=540)
    assert run.returncode == 0, (
        f"{name} failed under nbval:\n{run.stdout[-8000:]}{run.stderr[-2000:]}")
    after = _fingerprints(solved_workspace)
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    assert not changed, f"{name} changed the learner's files when run: {changed}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    stale = [index for index, cell in enumerate(_notebook(name)["cells"])
             if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not stale, (f"{name}: cells {stale} keep outputs; run "
                       f"`jupyter nbconvert --clear-output --inplace notebooks/{name}.ipynb`")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_checks_its_work_and_its_lesson(name: str) -> None:
    cells = _notebook(name)["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    headings = "\n".join("".join(cell["source"]) for cell in cells
                         if cell["cell_type"] == "markdown")
    assert "### Check your work" in headings and "checks." in code
    for needle in LESSONS.get(name, []):
        assert needle in code, f"{name} no longer runs {needle!r}"
    first = "".join(cells[0]["source"])
    for part in ("**What you'll", "learn", "need"):
        assert part in first, f"{name} should open with what you build, learn and need"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_shows_solutions_from_the_answer_key_not_a_copy(name: str) -> None:
    """A reference solution lives in solutions/ or template.yaml; notebooks read it there."""
    from workshop.exercises import regions
    from workshop.exercises.catalog import reference_path, region_files

    code = "\n".join("".join(cell["source"]) for cell in _notebook(name)["cells"])
    for exercise_id, files in region_files().items():
        for relative in files:
            source = reference_path(relative)
            for segment in regions.parse(source.read_text(), name=str(source)):
                if isinstance(segment, regions.Region) and segment.id == exercise_id:
                    lines = [line.strip() for line in segment.solution if len(line.strip()) > 25]
                    copied = [line for line in lines if line in code]
                    assert len(copied) < 2, (f"{name} repeats the solution of {exercise_id} "
                                             f"from {relative}: {copied[:2]}")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_has_its_labs_exercises_with_help_one_step_away(name: str) -> None:
    """Each exercise of the lab is shown, checked, and has hint/solution/solve cells that
    are commented out, so running every cell never replaces the learner's work."""
    lab = int(name[:2])
    if lab not in LABS:
        return
    cells = [("".join(cell["source"]), cell["cell_type"]) for cell in _notebook(name)["cells"]]
    code = "\n".join(source for source, kind in cells if kind == "code")
    for item in all_exercises():
        if item.lab != lab:
            continue
        assert f'exercise("{item.id}")' in code, f"{name} never shows exercise {item.id}"
        variable = "ex" + item.id.replace(".", "")
        for call in (f"{variable}.check()", f"# {variable}.hint()", f"# {variable}.solution()",
                     f"# {variable}.solve()"):
            assert call in code, f"{name}: exercise {item.id} has no {call!r} cell"
        assert f"\n{variable}.solve()" not in "\n" + code, f"{name} solves {item.id} when run"
