"""Exercise regions in reference files: one answer key that also yields the starters.

A reference file (a handler in ``solutions/``, or ``template.yaml``) marks the lines a
learner writes, the way nbgrader marks solution regions::

    def connect(event, connection_id):
        # BEGIN SOLUTION 1.3
        user_id = query.get("user_id") or f"guest-{secrets.token_hex(6)}"
        # STARTER
        # user_id = "nobody"
        # END SOLUTION

The lines before ``# STARTER`` are the solution; the commented lines after it,
uncommented, are what the learner starts from. From this one file come:

- :func:`reference` — the file as the answer key shows it, markers gone;
- :func:`workspace` — the learner's copy, each region starter or solved, between
  ``# >>> exercise ID`` and ``# <<< exercise ID`` lines that show where to write (and let
  ``solve`` and ``reset`` replace one region without touching the rest of the file).

Everything here works on text: no files, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

__all__ = ["Region", "RegionError", "Segment", "parse", "reference", "workspace", "ids",
           "learner_region", "replace_learner_region", "open_marker", "close_marker"]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION (?P<id>\S+)[ \t]*$")
_STARTER = re.compile(r"^[ \t]*# STARTER[ \t]*$")
_END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")


class RegionError(ValueError):
    """Markers that do not pair up, or a region that cannot be found."""


@dataclass(frozen=True)
class Region:
    """One exercise region: its id, indentation, and its two versions (lists of lines)."""

    id: str
    indent: str
    solution: tuple[str, ...]
    starter: tuple[str, ...]


# A parsed file is a list of plain lines and regions, in order.
Segment = str | Region


def _uncomment(line: str, indent: str, where: str) -> str:
    if not line.strip():
        return ""
    body = line[len(indent):] if line.startswith(indent) else line.lstrip()
    if not body.startswith("#"):
        raise RegionError(f"{where}: a starter line must be a comment: {line.strip()!r}")
    body = body[1:]
    return indent + (body[1:] if body.startswith(" ") else body) if body.strip() else ""


def parse(text: str, *, name: str = "<text>") -> list[Segment]:
    """Split ``text`` into plain lines and :class:`Region` s; markers must pair up."""
    segments: list[Segment] = []
    lines = iter(enumerate(text.splitlines(), start=1))
    for number, line in lines:
        begin = _BEGIN.match(line)
        if not begin:
            if _STARTER.match(line) or _END.match(line):
                raise RegionError(f"{name}, line {number}: {line.strip()!r} outside a region")
            segments.append(line)
            continue
        segments.append(_region(begin, lines, f"{name}, line {number}"))
    return segments


def _region(begin: re.Match[str], lines: Iterator[tuple[int, str]], where: str) -> Region:
    indent, solution, starter, part = begin["indent"], [], [], "solution"
    for _number, line in lines:
        if _BEGIN.match(line):
            raise RegionError(f"{where}: region {begin['id']} is not closed before the next")
        if _STARTER.match(line):
            part = "starter"
        elif _END.match(line):
            return Region(begin["id"], indent, tuple(solution), tuple(starter))
        elif part == "solution":
            solution.append(line)
        else:
            starter.append(_uncomment(line, indent, where))
    raise RegionError(f"{where}: region {begin['id']} has no '# END SOLUTION'")


def ids(text: str, *, name: str = "<text>") -> list[str]:
    """The exercise ids of the regions in ``text``, in order."""
    return [segment.id for segment in parse(text, name=name) if isinstance(segment, Region)]


def _join(lines: list[str], original: str) -> str:
    return "\n".join(lines) + ("\n" if original.endswith("\n") else "")


def reference(text: str, *, name: str = "<text>") -> str:
    """The answer key as a learner reads it: solutions in place, no markers, no starters."""
    lines: list[str] = []
    for segment in parse(text, name=name):
        lines.extend(segment.solution if isinstance(segment, Region) else [segment])
    return _join(lines, text)


def open_marker(region_id: str, indent: str = "") -> str:
    return f"{indent}# >>> exercise {region_id}"


def close_marker(region_id: str, indent: str = "") -> str:
    return f"{indent}# <<< exercise {region_id}"


def workspace(text: str, *, solved: Collection[str] | None = None,
              name: str = "<text>") -> str:
    """The learner's copy: regions in ``solved`` (all when None) solved, the rest starters."""
    lines: list[str] = []
    for segment in parse(text, name=name):
        if not isinstance(segment, Region):
            lines.append(segment)
            continue
        body = segment.solution if solved is None or segment.id in solved else segment.starter
        lines += [open_marker(segment.id, segment.indent), *body,
                  close_marker(segment.id, segment.indent)]
    return _join(lines, text)


def _bounds(lines: list[str], region_id: str) -> tuple[int, int] | None:
    opening = re.compile(rf"^[ \t]*# >>> exercise {re.escape(region_id)}\b")
    closing = re.compile(rf"^[ \t]*# <<< exercise {re.escape(region_id)}\b")
    starts = [i for i, line in enumerate(lines) if opening.match(line)]
    ends = [i for i, line in enumerate(lines) if closing.match(line)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return None
    return starts[0], ends[0]


def learner_region(text: str, region_id: str) -> list[str] | None:
    """The lines a learner has between the markers of ``region_id``; None if not found."""
    lines = text.splitlines()
    bounds = _bounds(lines, region_id)
    return None if bounds is None else lines[bounds[0] + 1:bounds[1]]


def replace_learner_region(text: str, region_id: str, body: list[str] | tuple[str, ...]) -> str:
    """``text`` with the lines between ``region_id``'s markers replaced by ``body``."""
    lines = text.splitlines()
    bounds = _bounds(lines, region_id)
    if bounds is None:
        raise RegionError(f"the markers of exercise {region_id} ('# >>> exercise {region_id}' "
                          f"and '# <<< exercise {region_id}') are missing or doubled")
    start, end = bounds
    return _join(lines[:start + 1] + list(body) + lines[end:], text)
