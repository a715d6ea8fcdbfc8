"""Shared fixtures: a private local cloud for the session, on a free port.

The tests never touch a learner's own cloud (port 4580, ~/.workshop): they start their
own, with a short time scale so Wait states and retries take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sam_required import without_sam_cli

from workshop import sam_cli
from workshop.cloud import private_cloud

TEST_TIME_SCALE = 0.01


@pytest.fixture(scope="session")
def sam() -> Path:
    """The `sam` executable (`make sam` installs it); skips, or in CI fails, without one."""
    try:
        return sam_cli.find()
    except sam_cli.SamCliMissing as missing:
        without_sam_cli(f"the SAM CLI is not installed (`make sam`): {missing}")
        raise  # not reached: skip and fail both raise


@pytest.fixture(scope="session")
def cloud() -> Iterator[dict]:
    """A running local cloud; yields its status. boto3 in this process points at it."""
    with private_cloud(time_scale=TEST_TIME_SCALE) as state:
        yield state
