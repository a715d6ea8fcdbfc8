"""A lab as a SAM project of its own: one folder with ``template.yaml`` and the code it names.

That is the shape the SAM CLI expects (``sam build``, ``sam deploy``, ``sam sync`` run in
it), and the shape of a project a learner carries to their own account. The lab's template
is written as :func:`workshop.lab.write` writes it, from the learner's workspace or the
reference; each folder or file its ``CodeUri`` / ``ContentUri`` / ``DefinitionUri`` names
is copied in beside it, so editing the project never touches the workspace.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from . import lab
from .errors import WorkshopError

__all__ = ["SamProjectError", "write"]

_PATH_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".aws-sam")


class SamProjectError(WorkshopError):
    """The project folder cannot be written; the message says why."""


def write(lab_number: int, *, into: Path, template: Path = lab.TEMPLATE,
          stack_name: str = "workshop") -> Path:
    """Write lab ``lab_number`` of ``template`` as a SAM project in ``into``; return
    ``into``. What was there before is replaced (it is a copy: run it again to refresh)."""
    written = lab.write(lab_number, template=template, stack_name=stack_name)
    body = yaml.safe_load(written.read_text())
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    copied: dict[Path, str] = {}
    for properties in _path_sections(body):
        for key in _PATH_PROPERTIES:
            value = properties.get(key)
            if isinstance(value, str) and os.path.isabs(value):
                source = Path(value)
                if source not in copied:
                    taken = {name.rstrip("/") for name in copied.values()}
                    copied[source] = _copy(source, into, taken=taken)
                properties[key] = copied[source]
    (into / "template.yaml").write_text(
        f"# Lab {lab_number} of {template.name}, as a SAM project (written by "
        "workshop.sam_project)\n" + yaml.safe_dump(body, sort_keys=False, width=100))
    return into


def _path_sections(body: dict[str, Any]) -> list[dict[str, Any]]:
    sections = [spec.get("Properties") or {} for spec in (body.get("Resources") or {}).values()]
    return sections + list((body.get("Globals") or {}).values())


def _copy(source: Path, into: Path, *, taken: set[str]) -> str:
    """Copy ``source`` (a folder or a file) into ``into``; its path relative to ``into``."""
    name = source.name
    if name in taken or name == "template.yaml":   # two folders of one name: keep both
        name = f"{source.parent.name}-{name}"
    if source.is_dir():
        shutil.copytree(source, into / name, ignore=_IGNORED)
        return name + "/"
    if source.is_file():
        shutil.copy2(source, into / name)
        return name
    raise SamProjectError(f"{source}: named by the template but missing; restore it (or "
                          "`python -m workshop solve` the exercise) and write the project again")
