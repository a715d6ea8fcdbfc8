"""Which cloud the notebooks use — the local cloud or your AWS account — and starting it.

Notebook 00 chooses (``choose("local")`` or ``choose("aws")``, or the ``WORKSHOP_TARGET``
environment variable) and the choice is remembered in the workshop's state folder, so
every later notebook's first cell is just ``target.start()``.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import cloud, doctor, sam_cli, up

__all__ = ["TARGETS", "LAB_PACKAGES", "Target", "TargetError", "chosen", "choose",
           "preflight", "start"]

TARGETS = ("local", "aws")
# What the notebooks themselves need on top of the workshop's own dependencies.
LAB_PACKAGES = ("pandas", "matplotlib", "ipywidgets", "jupyterlab")


class TargetError(ValueError):
    """An unknown target, or one that cannot be reached; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """A started target: its name and one line saying where the notebooks now point."""

    name: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return self.name == "local"

    def __str__(self) -> str:
        return f"{self.name}: {self.description}"

    def _repr_markdown_(self) -> str:
        return f"**Target `{self.name}`** — {self.description}"


def _choice_file() -> Path:
    return cloud.settings().home / "target"


def _validated(name: str) -> str:
    name = name.strip().lower()
    if name not in TARGETS:
        raise TargetError(f"target {name!r} is not one of {', '.join(TARGETS)}")
    return name


def chosen() -> str:
    """The target in force: ``WORKSHOP_TARGET``, else notebook 00's choice, else local."""
    if os.environ.get("WORKSHOP_TARGET"):
        return _validated(os.environ["WORKSHOP_TARGET"])
    try:
        return _validated(_choice_file().read_text())
    except (OSError, TargetError):
        return "local"


def choose(name: str) -> str:
    """Make ``name`` the target of this and every later notebook; return it."""
    name = _validated(name)
    path = _choice_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(name + "\n")
    os.environ["WORKSHOP_TARGET"] = name
    return name


def _row(check: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": check, "ok": "✅" if ok else "❌", "detail": detail}


def _lab_packages() -> list[dict[str, Any]]:
    rows = []
    for name in LAB_PACKAGES:
        try:
            rows.append(_row(name, True, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append(_row(name, False, "not installed: run `make lab` or "
                                          "pip install -e '.[lab]'"))
    return rows


def _aws_checks() -> list[dict[str, Any]]:
    import boto3

    rows = []
    session = boto3.Session()
    region = session.region_name
    rows.append(_row("region", bool(region), region or "none: set AWS_REGION (e.g. us-east-1)"))
    try:
        identity = session.client("sts").get_caller_identity()
        rows.append(_row("credentials", True, identity["Arn"]))
    except Exception as error:  # noqa: BLE001  (any failure means: no usable credentials)
        rows.append(_row("credentials", False, f"{type(error).__name__}: configure credentials "
                                               "with `aws configure` or AWS_PROFILE"))
    try:
        rows.append(_row("SAM CLI", True, str(sam_cli.find())))
    except sam_cli.SamCliError as error:
        rows.append(_row("SAM CLI", False, str(error)))
    return rows


def preflight(name: str | None = None) -> pd.DataFrame:
    """Can this machine run the labs on the target? One row per check, ✅ or ❌."""
    name = _validated(name) if name else chosen()
    rows = [_row(check.name, check.ok, check.detail) for check in doctor.run_checks()]
    rows += _lab_packages()
    if name == "aws":
        # The port and the state folder only matter to the local cloud.
        rows = [row for row in rows if row["check"] not in {"port", "local cloud"}]
        rows += _aws_checks()
    return pd.DataFrame(rows, columns=["check", "ok", "detail"])


def start(name: str | None = None) -> Target:
    """Start (or reuse) the local cloud, or check that AWS answers; say where we point."""
    name = _validated(name) if name else chosen()
    if name == "local":
        state = up()
        return Target("local", f"local cloud at {state['endpoint']} (pid {state['pid']}); "
                               "boto3 in this notebook talks to it", dict(state))
    import boto3

    session = boto3.Session()
    try:
        identity = session.client("sts").get_caller_identity()
    except Exception as error:  # noqa: BLE001
        raise TargetError(f"AWS did not answer ({type(error).__name__}: {error}); configure "
                          "credentials, or choose the local target") from None
    return Target("aws", f"AWS account {identity['Account']} in {session.region_name} as "
                         f"{identity['Arn']}", {"account": identity["Account"],
                                                "region": session.region_name})
