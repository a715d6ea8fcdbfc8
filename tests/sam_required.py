"""What a test of the real SAM CLI does where there is none, shared by the test folders.

Such tests are skipped with one line where the SAM CLI is not installed (`make sam`),
unless ``WORKSHOP_REQUIRE_SAM`` is set (CI sets it): then they fail, so CI cannot pass by
skipping them.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["REQUIRE_SAM_VARIABLE", "without_sam_cli"]

REQUIRE_SAM_VARIABLE = "WORKSHOP_REQUIRE_SAM"


def without_sam_cli(why: str) -> None:
    """Skip the test for a SAM CLI that is not there (or not usable), or fail it in CI."""
    if os.environ.get(REQUIRE_SAM_VARIABLE):
        pytest.fail(f"{REQUIRE_SAM_VARIABLE} is set and {why}")
    pytest.skip(why)
