"""Deploy the learner's work for a lab, then judge each exercise by what the stack does.

``check("3")`` (or ``check("3.2")``) makes sure the lab's workspace files exist, reads
each one for syntax errors first (so a typo is named by file and line and the cloud
keeps serving the last good deploy), deploys lab 3's slice of the learner's
``template.yaml`` with the learner's code, then runs each exercise's check against the
deployed stack and records the result in the workspace.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import lab as labs
from ..emulator.template import TemplateError, load_template
from ..errors import WorkshopError
from ..notebook.checks import STRICT_VARIABLE, Check, CheckFailed
from .catalog import REFERENCE_TEMPLATE, SOLUTIONS, Exercise, select
from .workspace import Workspace, WorkspaceError

__all__ = ["Deployment", "Result", "WorkspaceInvalid", "check", "deploy", "lab_files",
           "validate"]

_CODE_KEYS = ("CodeUri", "ContentUri", "DefinitionUri")


class WorkspaceInvalid(WorkspaceError):
    """A workspace file that does not parse; the message names the file and line."""


@dataclass(frozen=True)
class Deployment:
    """The learner's deployed lab, as checks see it."""

    lab: int
    report: dict[str, Any]
    workspace: Workspace
    target: str = "local"

    @property
    def outputs(self) -> dict[str, str]:
        return self.report.get("outputs") or {}

    def output(self, name: str) -> str:
        """A stack output; a missing one says which resource the learner has not written."""
        try:
            return self.outputs[name]
        except KeyError:
            raise CheckFailed(f"the stack has no output {name}: is the resource it names "
                              "in your template.yaml?") from None

    @property
    def url(self) -> str:
        return self.output("WebSocketURL")


@dataclass(frozen=True)
class Result:
    """One exercise's verdict, with the hint to show when it failed."""

    exercise: Exercise
    ok: bool
    message: str
    hint: str = field(default="")

    def __str__(self) -> str:
        mark = "✅" if self.ok else "❌"
        line = f"{mark} {self.exercise.id} {self.exercise.title}: {self.message}"
        return line if self.ok else f"{line}\n   hint: {self.hint}"


def _reference_files(code_uri: str) -> list[str]:
    """The workspace paths of the answer-key files behind one ``CodeUri`` / ``DefinitionUri``."""
    source = REFERENCE_TEMPLATE.parent / code_uri
    if source.is_file():
        return [source.relative_to(SOLUTIONS).as_posix()]
    return sorted(path.relative_to(SOLUTIONS).as_posix() for path in source.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


def lab_files(lab: int) -> list[str]:
    """Every workspace file lab ``lab`` deploys: the template and its functions' code."""
    body = load_template(REFERENCE_TEMPLATE).body
    sliced = labs.select(body, lab)
    files = ["template.yaml"]
    for spec in sliced["Resources"].values():
        properties = spec.get("Properties") or {}
        for key in _CODE_KEYS:
            value = properties.get(key)
            if isinstance(value, str) and value.startswith("solutions/"):
                files += [f for f in _reference_files(value) if f not in files]
    return files


def validate(workspace: Workspace, files: Iterable[str]) -> None:
    """Raise :class:`WorkspaceInvalid` naming the first file (and line) that does not parse."""
    for relative in files:
        path = workspace.path(relative)
        shown = _shown(path)
        try:
            text = path.read_text()
        except UnicodeDecodeError as error:
            raise WorkspaceInvalid(f"{shown} is not UTF-8 text ({error.reason})") from error
        if path.suffix == ".py":
            try:
                ast.parse(text, filename=str(path))
            except SyntaxError as error:
                raise WorkspaceInvalid(f"{shown}, line {error.lineno}: {error.msg}; fix it "
                                       "and check again (nothing was deployed)") from error
        elif path.suffix == ".json":
            try:
                json.loads(text)
            except ValueError as error:
                raise WorkspaceInvalid(f"{shown}: {error}; fix it and check again "
                                       "(nothing was deployed)") from error
        elif relative == "template.yaml":
            try:
                load_template(path)
            except (TemplateError, yaml.YAMLError) as error:
                detail = " ".join(str(error).split())
                raise WorkspaceInvalid(f"{shown}: {detail}; fix it and check again "
                                       "(nothing was deployed)") from error


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def deploy(lab: int, *, workspace: Workspace | None = None, target: str | None = None,
           stack_name: str = "workshop", without: Iterable[str] = (),
           override: Mapping[str, Mapping[str, Any]] | None = None) -> Deployment:
    """Deploy lab ``lab`` from the learner's workspace (creating missing starters first).

    ``without`` and ``override`` adjust the learner's template as :func:`workshop.lab.select`
    does (a notebook may deploy one step of a lab on its own); the files are not changed.
    """
    workspace = workspace or Workspace()
    files = lab_files(lab)
    workspace.prepare(files)
    validate(workspace, files)
    if target is None:
        from ..notebook.target import chosen

        target = chosen()
    report = labs.deploy(lab, template=workspace.template, stack_name=stack_name, target=target,
                         without=without, override=override)
    return Deployment(lab, report, workspace, target)


def _judge(item: Exercise, deployment: Deployment) -> Result:
    strict = os.environ.pop(STRICT_VARIABLE, None)     # checks answer; they do not raise
    try:
        verdict: Check = item.check(deployment)
        ok, message = verdict.ok, verdict.message
    except CheckFailed as failure:
        ok, message = False, str(failure)
    except Exception as error:  # noqa: BLE001 — a learner's bug must not stop the others
        ok, message = False, f"the check stopped with {type(error).__name__}: {error}"
    finally:
        if strict is not None:
            os.environ[STRICT_VARIABLE] = strict
    return Result(item, ok, message, "" if ok else item.hint)


def check(name: str, *, workspace: Workspace | None = None, target: str | None = None,
          stack_name: str = "workshop") -> list[Result]:
    """Deploy the learner's lab and judge ``name`` (an exercise ``"3.2"`` or a lab ``"3"``)."""
    chosen = select(name)
    workspace = workspace or Workspace()
    lab = chosen[0].lab
    try:
        deployment = deploy(lab, workspace=workspace, target=target, stack_name=stack_name)
    except WorkshopError as error:
        results = [Result(item, False, f"not deployed: {error}", item.hint) for item in chosen]
    else:
        results = [_judge(item, deployment) for item in chosen]
    for result in results:
        workspace.record_result(result.exercise, ok=result.ok, message=result.message,
                                digest=workspace.digest(result.exercise.files))
    return results
