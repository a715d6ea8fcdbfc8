"""Shared fixtures: a private local cloud for the session, on a free port.

The tests never touch a learner's own cloud (port 4580, ~/.workshop): they start their
own, with a short time scale so Wait states and retries take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workshop.cloud import private_cloud

TEST_TIME_SCALE = 0.01


@pytest.fixture(scope="session")
def cloud() -> Iterator[dict]:
    """A running local cloud; yields its status. boto3 in this process points at it."""
    with private_cloud(time_scale=TEST_TIME_SCALE) as state:
        yield state
