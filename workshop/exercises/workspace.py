"""The learner's workspace: real files, made from starters once and never overwritten.

The workspace (``WORKSHOP_WORKSPACE``, by default ``mygame/`` in the checkout) mirrors
the answer key: ``template.yaml`` for the repository's ``template.yaml``, and
``main_server/app.py`` for ``solutions/main_server/app.py``, so the learner's template
deploys the learner's code with ``sam`` or with the local cloud alike.

A file is created from its starter the first time a lab needs it and recorded in
``.workshop/manifest.json``. After that it is the learner's: the workshop changes it
only when asked to (``solve``, ``reset``, or saving from the notebook editor), and then
keeps a copy of what was there in ``.workshop/backups/`` first. A file that was created
and has since gone missing is reported, not silently recreated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from ..errors import WorkshopError
from . import json_parts, regions
from .catalog import ROOT, Exercise, all_exercises, reference_path

__all__ = ["Workspace", "WorkspaceError", "WORKSPACE_VARIABLE", "default_root"]

WORKSPACE_VARIABLE = "WORKSHOP_WORKSPACE"
_PATH_KEYS = re.compile(r"^(?P<key>[ \t]*(?:CodeUri|ContentUri|DefinitionUri):[ \t]*)solutions/",
                        re.MULTILINE)


class WorkspaceError(WorkshopError):
    """A workspace file that is missing, unreadable or not where the workshop left it."""


def default_root() -> Path:
    """``$WORKSHOP_WORKSPACE``, or ``mygame/`` next to the notebooks."""
    chosen = os.environ.get(WORKSPACE_VARIABLE, "").strip()
    return Path(chosen).expanduser().resolve() if chosen else ROOT / "mygame"


def _json_parts_of(relative: str) -> dict[str, tuple[json_parts.Part, ...]]:
    return {item.id: item.json_parts[relative] for item in all_exercises()
            if relative in item.json_parts}


def render(relative: str, *, solved: Collection[str] | None = None) -> bytes:
    """The workspace version of a file, with exercises in ``solved`` (None: all) solved."""
    source = reference_path(relative)
    parts = _json_parts_of(relative)
    if parts:
        document = json.loads(source.read_text())
        return json_parts.dumps(json_parts.render(document, parts, solved=solved)).encode()
    if source.suffix not in (".py", ".yaml", ".yml"):
        return source.read_bytes()
    text = regions.workspace(source.read_text(), solved=solved, name=str(source))
    if relative == "template.yaml":
        text = _PATH_KEYS.sub(r"\g<key>", text)
    return text.encode()


class Workspace:
    """A folder of learner files, with its manifest, backups and check results."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser().resolve() if root else default_root()
        self.meta = self.root / ".workshop"

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @property
    def template(self) -> Path:
        return self.root / "template.yaml"

    def path(self, relative: str) -> Path:
        return self.root / relative

    # --- the manifest: which files the workshop has created ---------------------------

    def _manifest(self) -> set[str]:
        try:
            return set(json.loads((self.meta / "manifest.json").read_text())["created"])
        except FileNotFoundError:
            return set()
        except (ValueError, KeyError, TypeError) as error:
            raise WorkspaceError(f"{self.meta / 'manifest.json'} is damaged ({error}); "
                                 "delete it and run the cell again") from error

    def _record(self, created: Iterable[str]) -> None:
        self.meta.mkdir(parents=True, exist_ok=True)
        manifest = sorted(self._manifest() | set(created))
        _write_atomic(self.meta / "manifest.json", json.dumps({"created": manifest}, indent=1))

    def prepare(self, files: Iterable[str]) -> list[str]:
        """Create each of ``files`` from its starter unless it was created before.

        Returns the files created now. A file created before and missing now is an
        error that says how to get it back; nothing is overwritten.
        """
        known, created, missing = self._manifest(), [], []
        for relative in files:
            target = self.path(relative)
            if target.exists():
                continue
            if relative in known:
                missing.append(relative)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(render(relative, solved=()))
            created.append(relative)
        if created:
            self._record(created)
        if missing:
            shown = ", ".join(str(self.path(m)) for m in missing)
            raise WorkspaceError(
                f"{shown}: deleted since the workshop created it. Restore it from "
                f"{self.meta / 'backups'} or your editor's history, or run `python -m workshop "
                "reset EXERCISE` to start that file's exercises again")
        return created

    # --- changing a learner file, always with a backup first ---------------------------

    def backup(self, relative: str) -> Path | None:
        """Copy a workspace file to ``.workshop/backups/``; None if there is no file."""
        source = self.path(relative)
        if not source.exists():
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
        target = self.meta / "backups" / f"{relative}.{stamp}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return target

    def save(self, relative: str, text: str) -> Path | None:
        """Write ``text`` to a workspace file, keeping a backup; returns the backup."""
        saved = self.backup(relative)
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, text)
        self._record([relative])
        return saved

    def solve(self, item: Exercise) -> list[Path]:
        """Put the reference solution of ``item`` into the workspace; returns the backups."""
        return self._set(item, solved=True)

    def reset(self, item: Exercise) -> list[Path]:
        """Put ``item`` back to its starter; returns the backups of what was there."""
        return self._set(item, solved=False)

    def _set(self, item: Exercise, *, solved: bool) -> list[Path]:
        backups = []
        for relative in item.files:
            current = self.path(relative).read_text() if self.path(relative).exists() else None
            new = self._with(item, relative, current, solved=solved)
            if new == current:
                continue
            backup = self.save(relative, new)
            if backup:
                backups.append(backup)
        return backups

    def _with(self, item: Exercise, relative: str, current: str | None, *, solved: bool) -> str:
        """``current`` with ``item``'s part of ``relative`` set to solution or starter."""
        wanted = render(relative, solved=[item.id] if solved else []).decode()
        if current is None:
            return wanted
        if relative in item.json_parts:
            try:
                document = json.loads(current)
            except ValueError:
                return wanted
            reference = json.loads(wanted)
            for part in item.json_parts[relative]:
                json_parts.put(document, part.path, json_parts.get(reference, part.path))
            return json_parts.dumps(document)
        body = regions.learner_region(wanted, item.id)
        try:
            return regions.replace_learner_region(current, item.id, body or [])
        except regions.RegionError:
            return wanted            # markers gone: the whole file, the old one backed up

    # --- what the learner has done -------------------------------------------------

    def untouched(self, item: Exercise) -> bool:
        """Every file of ``item`` still holds the starter for it (or is not created yet)."""
        for relative in item.files:
            target = self.path(relative)
            if not target.exists():
                continue
            text = target.read_text(errors="replace")
            starter = render(relative, solved=[]).decode()
            if relative in item.json_parts:
                try:
                    if not json_parts.untouched(json.loads(text), item.json_parts[relative]):
                        return False
                except ValueError:
                    return False
            elif regions.learner_region(text, item.id) != regions.learner_region(starter,
                                                                                  item.id):
                return False
        return True

    def digest(self, files: Iterable[str]) -> str:
        """A fingerprint of the files' contents, to tell whether a result is current."""
        sha = hashlib.sha256()
        for relative in sorted(files):
            target = self.path(relative)
            sha.update(relative.encode() + b"\0")
            sha.update(target.read_bytes() if target.exists() else b"<missing>")
        return sha.hexdigest()[:16]

    def results(self) -> dict[str, dict]:
        try:
            return json.loads((self.meta / "results.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def record_result(self, item: Exercise, *, ok: bool, message: str, digest: str) -> None:
        results = self.results()
        results[item.id] = {"ok": ok, "message": message, "digest": digest,
                            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.meta.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.meta / "results.json", json.dumps(results, indent=1, sort_keys=True))

    def status(self, item: Exercise, digest: str) -> str:
        """``not started``, ``passing``, ``failing`` or ``not checked`` (edited since)."""
        result = self.results().get(item.id)
        if result and result.get("digest") == digest:
            return "passing" if result.get("ok") else "failing"
        if self.untouched(item):
            return "not started"
        return "not checked"


def _write_atomic(target: Path, text: str) -> None:
    """Write through a temporary file, so a crash never leaves half a file."""
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, target)
