"""Exercises in a notebook, as Kaggle Learn does them: ``check()``, ``hint()``, ``solution()``.

::

    from workshop.notebook.exercises import exercise, lab_board
    ex = exercise("1.2")
    ex              # what to write, where (a link that opens the file), and its status
    ex.check()      # deploy your lab and judge it by what it does
    ex.hint()
    ex.solution()   # the reference lines, read from solutions/ or template.yaml
    ex.solve()      # put them into your file (your version is kept as a backup)

Nothing here writes a learner's file unless asked to (``solve``, ``reset``, the editor's
Save button), so running every cell again never loses work.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown

from .. import exercises as catalog
from ..exercises import json_parts, regions
from ..exercises.catalog import ROOT, Exercise, reference_path
from ..exercises.workspace import Workspace
from . import show
from .checks import Check, verdict

__all__ = ["ExerciseView", "catch_up", "exercise", "lab_board"]

_LANGUAGE = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def exercise(exercise_id: str, *, workspace: Workspace | None = None) -> ExerciseView:
    """The exercise ``exercise_id``, with its lab's files created from starters if new."""
    item = catalog.exercise(exercise_id)
    workspace = workspace or Workspace()
    workspace.prepare(catalog.lab_files(item.lab))
    return ExerciseView(item, workspace)


def lab_board(lab: int, *, workspace: Workspace | None = None) -> pd.DataFrame:
    """Lab ``lab``'s exercises with their files and status, as a table."""
    rows = [row for row in catalog.status(workspace=workspace) if row["lab"] == lab]
    frame = pd.DataFrame(rows, columns=["id", "title", "files", "status"])
    frame["files"] = frame["files"].map(", ".join)
    return frame.set_index("id")


def catch_up(lab: int, *, workspace: Workspace | None = None) -> pd.DataFrame:
    """Solve every exercise of the labs before ``lab`` that is not passing yet.

    For a learner who starts in the middle: the earlier labs' reference solutions go into
    the workspace (each replaced version backed up), so this lab's deploy has what it
    builds on. Exercises whose last check passed are left as the learner wrote them.
    """
    workspace = workspace or Workspace()
    workspace.prepare(catalog.lab_files(max(lab - 1, 1)))
    rows = []
    for item in catalog.all_exercises():
        if item.lab >= lab:
            continue
        status = workspace.status(item, workspace.digest(item.files))
        solved = status != "passing"
        if solved:
            workspace.solve(item)
        rows.append({"id": item.id, "title": item.title, "was": status,
                     "now": "reference solution" if solved else "yours, kept"})
    return pd.DataFrame(rows, columns=["id", "title", "was", "now"]).set_index("id")


def _link(path: Path, *, label: str | None = None) -> str:
    """A Markdown link to ``path``, relative to the notebook so JupyterLab opens it."""
    try:
        target = os.path.relpath(path, Path.cwd())
    except ValueError:            # another drive on Windows
        target = str(path)
    return f"[`{label or target}`]({Path(target).as_posix()})"


class ExerciseView:
    """One exercise in a notebook: its task, your lines, the check, a hint, the solution."""

    def __init__(self, item: Exercise, workspace: Workspace) -> None:
        self.item = item
        self.workspace = workspace

    def __repr__(self) -> str:
        return f"<exercise {self.item.id}: {self.item.title}>"

    def status(self) -> str:
        """``not started``, ``failing``, ``passing`` or ``not checked``."""
        return self.workspace.status(self.item, self.workspace.digest(self.item.files))

    def _repr_markdown_(self) -> str:
        files = ", ".join(self._file_link(f) for f in self.item.files)
        where = (f"between the lines `# >>> exercise {self.item.id}` and "
                 f"`# <<< exercise {self.item.id}`" if self._has_markers() else "")
        return (f"**Exercise {self.item.id} · {self.item.title}**\n\n{self.item.task}\n\n"
                f"Write it in {files} {where} · status: **{self.status()}**")

    def _file_link(self, relative: str) -> str:
        return _link(self.workspace.path(relative), label=f"{self.workspace.root.name}/{relative}")

    def _has_markers(self) -> bool:
        return any(not f.endswith(".json") for f in self.item.files)

    # --- your lines --------------------------------------------------------------------

    def _current(self, relative: str) -> str:
        text = self.workspace.path(relative).read_text()
        if relative in self.item.json_parts:
            try:
                document = json.loads(text)
            except ValueError as error:
                return f"// this file is not valid JSON: {error}"
            return _parts_text(document, self.item.json_parts[relative])
        lines = regions.learner_region(text, self.item.id)
        if lines is None:
            return text
        return textwrap.dedent("\n".join(lines))

    def show(self) -> Markdown:
        """Your current lines for this exercise, file by file."""
        return Markdown("\n\n".join(
            f"{self._file_link(f)}\n\n"
            + show.code(self._current(f), language=_LANGUAGE.get(Path(f).suffix, "")).data
            for f in self.item.files))

    def edit(self) -> Any:
        """An editor for this exercise's file in the notebook, with Save (keeps a backup)."""
        from .exercise_editor import Editor

        return Editor(self.workspace, self.item.files[0]).widget

    # --- judging, and help ----------------------------------------------------------------

    def check(self) -> Check:
        """Deploy your lab and judge this exercise by what the deployed stack does."""
        result = catalog.check(self.item.id, workspace=self.workspace)[0]
        return verdict(result.ok, f"{self.item.id} {self.item.title}: {result.message}",
                       f"{self.item.id} {self.item.title}: {result.message}\n\n"
                       f"💡 Hint: {self.item.hint}")

    def hint(self) -> Markdown:
        return Markdown(f"💡 **Hint for {self.item.id}.** {self.item.hint}")

    def solution(self) -> Markdown:
        """The reference lines, as the answer key (``solutions/``, ``template.yaml``) has them."""
        blocks = []
        for relative in self.item.files:
            source = reference_path(relative)
            if relative in self.item.json_parts:
                text = _parts_text(json.loads(source.read_text()), self.item.json_parts[relative])
            else:
                found = [segment for segment in regions.parse(source.read_text(), name=str(source))
                         if isinstance(segment, regions.Region) and segment.id == self.item.id]
                text = "\n\n".join(textwrap.dedent("\n".join(region.solution))
                                   for region in found)
            blocks.append(f"From `{source.relative_to(ROOT).as_posix()}`:\n\n"
                          + show.code(text, language=_LANGUAGE.get(source.suffix, "")).data)
        return Markdown("\n\n".join(blocks))

    def solve(self) -> Markdown:
        """Put the reference solution into your files; your version goes to a backup."""
        backups = self.workspace.solve(self.item)
        return Markdown(f"Exercise {self.item.id} now holds the reference solution."
                        + _backups_text(backups) + " Run its check again.")

    def reset(self) -> Markdown:
        """Put the starter back; your version goes to a backup."""
        backups = self.workspace.reset(self.item)
        return Markdown(f"Exercise {self.item.id} is back to its starter." + _backups_text(backups))


def _backups_text(backups: list[Path]) -> str:
    if not backups:
        return " Nothing had to change."
    return " Your previous version is kept in " + ", ".join(_link(b) for b in backups) + "."


def _parts_text(document: Any, parts: tuple[json_parts.Part, ...]) -> str:
    """The exercise's parts of a JSON document, as one JSON object of path -> value."""
    shown = {}
    for part in parts:
        value = json_parts.get(document, part.path)
        shown[".".join(part.path)] = "(not there yet)" if value is json_parts.ABSENT else value
    return json.dumps(shown, indent=2, ensure_ascii=False)

