"""The SAM CLI tests: the real `sam`, from its tool environment (`make sam`).

Without it they are skipped with one line, unless ``WORKSHOP_REQUIRE_SAM`` is set (CI sets
it): then a missing `sam` fails them, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshop import sam_cli

REQUIRE_VARIABLE = "WORKSHOP_REQUIRE_SAM"


@pytest.fixture(scope="session")
def sam() -> Path:
    """The `sam` executable; skips (or, in CI, fails) without one."""
    try:
        return sam_cli.find()
    except sam_cli.SamCliMissing as missing:
        if os.environ.get(REQUIRE_VARIABLE):
            pytest.fail(f"{REQUIRE_VARIABLE} is set and {missing}")
        pytest.skip(f"the SAM CLI is not installed (`make sam`): {missing}")
