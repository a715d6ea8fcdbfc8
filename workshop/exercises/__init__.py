"""The hands-on exercises: the learner writes the code, deploys it, and checks judge it.

- :mod:`.catalog` — every exercise (id, lab, title, task, hint, check);
- :mod:`.regions`, :mod:`.json_parts` — how one answer key yields starters and solutions;
- :mod:`.workspace` — the learner's files: created once, never overwritten, backed up;
- :mod:`.runner` — deploy the learner's lab, then judge it by what it does.

The same operations back ``python -m workshop exercises | check | solve | reset`` and
the notebooks' ``exercise("1.2").check()``.
"""

from __future__ import annotations

from typing import Any

from .catalog import Exercise, ExerciseError, all_exercises, exercise, lab_exercises, select
from .workspace import Workspace, WorkspaceError

_RUNNER = ("Deployment", "Result", "WorkspaceInvalid", "check", "deploy", "lab_files")


def __getattr__(name: str) -> Any:
    # The runner deploys and checks (boto3, pandas, websockets): loaded on first use, so
    # reading answer-key regions (workshop.lab does) stays light.
    if name in _RUNNER:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["Deployment", "Exercise", "ExerciseError", "Result", "Workspace", "WorkspaceError",
           "WorkspaceInvalid", "all_exercises", "check", "deploy", "exercise", "lab_exercises",
           "lab_files", "select", "status"]


def status(*, workspace: Workspace | None = None) -> list[dict]:
    """Every exercise with its files and status (not started / failing / passing / not
    checked), as plain dicts for tables and ``--json``."""
    workspace = workspace or Workspace()
    rows = []
    for item in all_exercises():
        digest = workspace.digest(item.files)
        rows.append({**item.summary(), "status": workspace.status(item, digest)})
    return rows
