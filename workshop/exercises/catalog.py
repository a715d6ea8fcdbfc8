"""Every exercise of the labs: what the learner writes, where, and how it is judged.

An :class:`Exercise` is data: its id (``"3.2"``), lab, title, the task in a sentence or
two, a hint, and the check that judges the learner's *deployed* code by its behaviour.
Which files it lives in is not written here but found in the answer key: the reference
files under ``solutions/`` and ``template.yaml`` mark each exercise's lines with
``# BEGIN SOLUTION <id>`` (see :mod:`.regions`), and state machines name their parts
with :class:`~.json_parts.Part` s in ``json_parts``.

The exercises themselves are defined one lab per module (``lab1`` … ``lab6``).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WorkshopError
from . import regions
from .json_parts import Part

if TYPE_CHECKING:
    from ..notebook.checks import Check
    from .runner import Deployment

__all__ = ["ROOT", "SOLUTIONS", "REFERENCE_TEMPLATE", "Exercise", "ExerciseError", "LABS",
           "all_exercises", "exercise", "lab_exercises", "reference_path", "region_files",
           "select"]

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
REFERENCE_TEMPLATE = ROOT / "template.yaml"
LABS = (1, 2, 3, 4, 5, 6)
# Reference files that may hold exercise regions; anything else is copied as it is.
_REGION_SUFFIXES = (".py", ".yaml", ".yml")


class ExerciseError(WorkshopError):
    """An exercise id or lab that does not exist, or a catalog that contradicts itself."""


@dataclass(frozen=True)
class Exercise:
    """One thing the learner writes, and how to tell whether it works."""

    id: str
    title: str
    task: str
    hint: str
    check: Callable[[Deployment], Check]
    json_parts: Mapping[str, tuple[Part, ...]] = field(default_factory=dict)

    @property
    def lab(self) -> int:
        return int(self.id.split(".")[0])

    @property
    def files(self) -> tuple[str, ...]:
        """The workspace files (relative paths) the learner edits for this exercise."""
        return tuple(sorted(set(region_files().get(self.id, ())) | set(self.json_parts)))

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "lab": self.lab, "title": self.title, "files": list(self.files)}


def reference_path(relative: str) -> Path:
    """The answer-key file behind a workspace path: ``template.yaml`` or under solutions/."""
    return REFERENCE_TEMPLATE if relative == "template.yaml" else SOLUTIONS / relative


def workspace_path_of(reference: Path) -> str:
    """The workspace path (relative) of an answer-key file."""
    if reference == REFERENCE_TEMPLATE:
        return "template.yaml"
    return reference.relative_to(SOLUTIONS).as_posix()


@functools.cache
def region_files() -> dict[str, tuple[str, ...]]:
    """Exercise id -> the workspace files whose reference marks a region for it."""
    found: dict[str, list[str]] = {}
    sources = [REFERENCE_TEMPLATE, *sorted(p for p in SOLUTIONS.rglob("*")
                                         if p.suffix in _REGION_SUFFIXES and p.is_file()
                                         and "__pycache__" not in p.parts)]
    for source in sources:
        relative = workspace_path_of(source)
        for region_id in regions.ids(source.read_text(), name=str(source)):
            found.setdefault(region_id, [])
            if relative not in found[region_id]:
                found[region_id].append(relative)
    return {key: tuple(value) for key, value in found.items()}


@functools.cache
def _catalog() -> dict[str, Exercise]:
    exercises: dict[str, Exercise] = {}
    for lab in LABS:
        module = importlib.import_module(f"{__package__}.lab{lab}")
        for item in module.EXERCISES:
            if item.lab != lab or item.id in exercises:
                raise ExerciseError(f"exercise {item.id} is misplaced or defined twice")
            exercises[item.id] = item
    return exercises


def all_exercises() -> list[Exercise]:
    """Every exercise, in lab order."""
    return sorted(_catalog().values(), key=lambda e: tuple(int(n) for n in e.id.split(".")))


def lab_exercises(lab: int) -> list[Exercise]:
    """The exercises of one lab, in order."""
    if lab not in LABS:
        raise ExerciseError(f"there is no lab {lab}: the labs with exercises are 1-6")
    return [item for item in all_exercises() if item.lab == lab]


def exercise(exercise_id: str) -> Exercise:
    """The exercise ``exercise_id`` (``"3.2"``)."""
    found = _catalog().get(str(exercise_id).strip())
    if found is None:
        known = ", ".join(item.id for item in all_exercises())
        raise ExerciseError(f"there is no exercise {exercise_id!r}; the exercises are {known}")
    return found


def select(name: str) -> list[Exercise]:
    """The exercises ``name`` means: ``"3.2"`` one, ``"3"`` or ``"lab3"`` a whole lab."""
    text = str(name).strip().lower()
    lab = re.fullmatch(r"(?:lab\s*)?(\d+)", text)
    if lab:
        return lab_exercises(int(lab.group(1)))
    return [exercise(text)]
