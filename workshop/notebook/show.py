"""Text rendered as Markdown blocks: the YAML and Python a lab teaches, Mermaid diagrams.

JupyterLab highlights fenced code blocks by language and (from version 4.1) draws
``mermaid`` blocks as diagrams, so a cell that ends with ``show.yaml(...)`` displays the
template exactly as written, with colours, and ``show.mermaid(...)`` displays a picture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from IPython.display import Markdown

from ..exercises import regions
from ..lab import TEMPLATE

__all__ = ["ROOT", "code", "deployment", "mermaid", "python", "source", "yaml"]

# The workshop's folder: template.yaml, solutions/, data/.
ROOT = TEMPLATE.parent
_LANGUAGES = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
              ".asl.json": "json"}


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def code(text: str, *, language: str = "") -> Markdown:
    """``text`` as a fenced Markdown code block, highlighted as ``language``."""
    fence = _fence(text)
    return Markdown(f"{fence}{language}\n{text.rstrip()}\n{fence}")


def yaml(text: str) -> Markdown:
    """Template YAML, highlighted."""
    return code(text, language="yaml")


def python(text: str) -> Markdown:
    """Python source, highlighted."""
    return code(text, language="python")


def mermaid(source: str) -> Markdown:
    """A Mermaid diagram; JupyterLab 4 draws it, other front ends show its source."""
    return code(source, language="mermaid")


def source(path: str | Path, *, root: Path = ROOT) -> Markdown:
    """A file of the workshop (``solutions/…``), whole, under its path."""
    relative = Path(path)
    text = (root / relative).read_text()
    if relative.suffix in (".py", ".yaml", ".yml"):
        text = regions.reference(text, name=str(relative))      # the answer key, unmarked
    language = _LANGUAGES.get(relative.suffix, "")
    return Markdown(f"`{relative.as_posix()}`\n\n{code(text, language=language).data}")


def deployment(report: Mapping[str, Any]) -> Markdown:
    """A deploy report: what changed, in how long, and the stack's outputs."""
    counts = ", ".join(f"{len(report[verb])} {verb}"
                       for verb in ("created", "updated", "deleted", "unchanged"))
    lines = [f"**Stack `{report.get('stack_name', 'workshop')}` deployed in "
             f"{report['seconds']:.2f} s** — {counts}", ""]
    changes = [(name, verb) for verb in ("created", "updated", "deleted")
               for name in report[verb]]
    if changes:
        lines += ["| resource | change |", "|---|---|"]
        lines += [f"| `{name}` | {verb} |" for name, verb in changes]
        lines.append("")
    for warning in report.get("warnings", []):
        lines.append(f"⚠️ {warning}  ")
    if report.get("outputs"):
        lines += ["", "| output | value |", "|---|---|"]
        lines += [f"| `{key}` | `{value}` |" for key, value in report["outputs"].items()]
    return Markdown("\n".join(lines))
