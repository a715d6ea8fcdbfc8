"""The learner's workspace: created once, never overwritten, and every change backed up."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.exercises import Workspace, WorkspaceError, exercise, lab_files
from workshop.exercises import workspace as ws_module
from workshop.exercises.catalog import SOLUTIONS


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "mygame")


def test_prepare_creates_starters_once(workspace: Workspace) -> None:
    created = workspace.prepare(lab_files(1))
    assert "template.yaml" in created and "main_server/app.py" in created
    assert "# >>> exercise 1.4" in workspace.path("main_server/app.py").read_text()
    assert "CodeUri: main_server/" in workspace.template.read_text()
    workspace.path("main_server/app.py").write_text("# mine\n")
    assert workspace.prepare(lab_files(1)) == []
    assert workspace.path("main_server/app.py").read_text() == "# mine\n"


def test_a_deleted_file_is_reported_not_recreated(workspace: Workspace) -> None:
    workspace.prepare(lab_files(1))
    workspace.path("main_server/app.py").unlink()
    with pytest.raises(WorkspaceError, match="main_server/app.py: deleted since"):
        workspace.prepare(lab_files(1))
    assert not workspace.path("main_server/app.py").exists()


def test_solve_and_reset_keep_backups_and_other_work(workspace: Workspace) -> None:
    workspace.prepare(lab_files(1))
    path = workspace.path("main_server/app.py")
    path.write_text(path.read_text() + "# my own note\n")
    item = exercise("1.4")
    assert workspace.status(item, workspace.digest(item.files)) == "not started"
    backups = workspace.solve(item)
    assert len(backups) == 1 and "# my own note" in backups[0].read_text()
    solved = path.read_text()
    assert "# my own note" in solved and 'query.get("user_id")' in solved
    assert workspace.status(item, workspace.digest(item.files)) == "not checked"
    workspace.reset(item)
    assert 'user_id = "nobody"' in path.read_text() and "# my own note" in path.read_text()
    assert len(list((workspace.meta / "backups").rglob("app.py.*"))) == 2


def test_solve_without_markers_replaces_the_file_with_a_backup(workspace: Workspace) -> None:
    workspace.prepare(lab_files(1))
    workspace.path("main_server/app.py").write_text("print('markers gone')\n")
    backups = workspace.solve(exercise("1.4"))
    assert backups[0].read_text() == "print('markers gone')\n"
    assert "# >>> exercise 1.4" in workspace.path("main_server/app.py").read_text()


def test_a_damaged_manifest_is_named(workspace: Workspace) -> None:
    workspace.prepare(lab_files(1))
    (workspace.meta / "manifest.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="manifest.json is damaged"):
        workspace.prepare(lab_files(2))


def test_solved_workspace_matches_the_answer_key() -> None:
    from workshop.exercises import regions

    for relative in lab_files(6):
        rendered = ws_module.render(relative).decode(errors="replace")
        if relative.endswith(".py"):
            source = (SOLUTIONS / relative).read_text()
            stripped = "\n".join(line for line in rendered.splitlines()
                                 if "# >>> exercise" not in line and "# <<< exercise" not in line)
            assert stripped.rstrip() == regions.reference(source).rstrip(), relative


def test_default_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("WORKSHOP_WORKSPACE", str(tmp_path / "elsewhere"))
    assert Workspace().root == tmp_path / "elsewhere"


@pytest.mark.parametrize("relative, damage, named", [
    ("template.yaml", lambda t: t.replace("  Stage:\n", "  Stage:\n   bad: [\n", 1),
     "template.yaml:"),
    ("statemachines/trivia.asl.json", lambda t: t[:-20], "line "),
    ("main_server/app.py", lambda t: t.replace("def connect(", "def connect(:", 1), "line "),
])
def test_a_file_that_does_not_parse_is_named_with_its_line(
        workspace: Workspace, relative: str, damage: object, named: str) -> None:
    from workshop.exercises.runner import WorkspaceInvalid, validate

    workspace.prepare(lab_files(5))
    path = workspace.path(relative)
    path.write_text(damage(path.read_text()))                      # type: ignore[operator]
    with pytest.raises(WorkspaceInvalid) as raised:
        validate(workspace, lab_files(5))
    message = str(raised.value)
    assert relative.rsplit("/", 1)[-1] in message and named in message
    assert "nothing was deployed" in message
