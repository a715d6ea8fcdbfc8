"""Exercise parts of JSON documents (state machines)."""

from __future__ import annotations

from workshop.exercises.json_parts import ABSENT, Part, get, put, render, untouched

MACHINE = {"StartAt": "A", "States": {"A": {"Type": "Task", "Next": "B"},
                                      "B": {"Type": "Wait", "Seconds": 1, "End": True}}}
PARTS = {"9.1": (Part(("States", "B"), ABSENT), Part(("States", "A", "Next"), ABSENT))}


def test_starter_removes_and_solution_keeps() -> None:
    starter = render(MACHINE, PARTS, solved=[])
    assert get(starter, ("States", "B")) is ABSENT and "Next" not in starter["States"]["A"]
    assert render(MACHINE, PARTS) == MACHINE
    assert untouched(starter, PARTS["9.1"]) and not untouched(MACHINE, PARTS["9.1"])
    assert MACHINE["States"]["A"]["Next"] == "B"          # the reference is not changed


def test_put_sets_and_deletes() -> None:
    document: dict = {}
    put(document, ("States", "X"), {"Type": "Pass"})
    assert document == {"States": {"X": {"Type": "Pass"}}}
    put(document, ("States", "X"), ABSENT)
    assert document == {"States": {}}
