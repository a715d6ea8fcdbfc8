"""Exercise parts of JSON files (state machines), where comments cannot mark a region.

An exercise on ``trivia.asl.json`` names the parts of the document the learner writes —
``("States", "WaitForAnswers")``, ``("States", "AskQuestion", "Next")`` — and what each
holds in the starter (:data:`ABSENT` for "not there yet"). The reference file holds the
solution. Starter, solve and reset all set those parts and leave the rest of the
learner's document alone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ABSENT", "Part", "get", "put", "render", "dumps", "untouched"]


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Part:
    """A path into the document and the value it has in the starter."""

    path: tuple[str, ...]
    starter: Any = ABSENT


def get(document: Any, path: Iterable[str]) -> Any:
    """The value at ``path``, or :data:`ABSENT`."""
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return ABSENT
        node = node[key]
    return node


def put(document: dict, path: tuple[str, ...], value: Any) -> None:
    """Set (or, with :data:`ABSENT`, delete) the value at ``path``."""
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if value is ABSENT:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value)


def render(reference: dict, parts: Mapping[str, Iterable[Part]], *,
           solved: Collection[str] | None = None) -> dict:
    """The learner's document: every exercise's parts starter unless it is ``solved``."""
    document = copy.deepcopy(reference)
    for exercise_id, exercise_parts in parts.items():
        if solved is None or exercise_id in solved:
            continue
        for part in exercise_parts:
            put(document, part.path, part.starter)
    return document


def untouched(document: Any, parts: Iterable[Part]) -> bool:
    """Every part still holds its starter value."""
    return all(get(document, part.path) == part.starter
               or (part.starter is ABSENT and get(document, part.path) is ABSENT)
               for part in parts)


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
