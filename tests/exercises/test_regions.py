"""Answer-key regions: one reference file yields starter, solution and the learner's copy."""

from __future__ import annotations

import pytest

from workshop.exercises import regions

REFERENCE = '''def handler(event, context):
    query = event.get("q") or {}
    # BEGIN SOLUTION 9.1
    user = query.get("user") or "guest"
    # STARTER
    # # Exercise 9.1: read the user
    # user = "nobody"
    #
    # END SOLUTION
    return user
'''


def test_reference_drops_markers_and_starter() -> None:
    assert regions.reference(REFERENCE) == '''def handler(event, context):
    query = event.get("q") or {}
    user = query.get("user") or "guest"
    return user
'''


def test_workspace_starter_is_uncommented_between_markers() -> None:
    text = regions.workspace(REFERENCE, solved=[])
    assert text.splitlines()[2:7] == ["    # >>> exercise 9.1", "    # Exercise 9.1: read the user",
                                      '    user = "nobody"', "", "    # <<< exercise 9.1"]
    compile(text, "starter", "exec")


def test_workspace_solved_keeps_markers() -> None:
    text = regions.workspace(REFERENCE)
    assert regions.learner_region(text, "9.1") == ['    user = query.get("user") or "guest"']


def test_replace_learner_region_touches_nothing_else() -> None:
    mine = regions.workspace(REFERENCE, solved=[]).replace("return user", "return user  # mine")
    replaced = regions.replace_learner_region(mine, "9.1", ["    user = 'x'"])
    assert "# mine" in replaced and regions.learner_region(replaced, "9.1") == ["    user = 'x'"]


def test_missing_markers_are_an_error() -> None:
    with pytest.raises(regions.RegionError, match="markers of exercise 9.1"):
        regions.replace_learner_region("no markers here\n", "9.1", [])
    assert regions.learner_region("no markers here\n", "9.1") is None


@pytest.mark.parametrize("broken, message", [
    ("# BEGIN SOLUTION 1.1\nx = 1\n", "has no '# END SOLUTION'"),
    ("x = 1\n# END SOLUTION\n", "outside a region"),
    ("# BEGIN SOLUTION 1.1\n# BEGIN SOLUTION 1.2\n# END SOLUTION\n", "not closed"),
    ("# BEGIN SOLUTION 1.1\n# STARTER\nx = 1\n# END SOLUTION\n", "must be a comment"),
])
def test_malformed_regions_say_where(broken: str, message: str) -> None:
    with pytest.raises(regions.RegionError, match=message):
        regions.parse(broken, name="f.py")


def test_ids_in_order() -> None:
    assert regions.ids(REFERENCE + REFERENCE.replace("9.1", "9.2")) == ["9.1", "9.2"]
