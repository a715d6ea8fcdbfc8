"""The finished game (template.yaml) on the session's private cloud, for the load tests.

The stack is the one the lab tests use (``game``): deploying it again changes nothing,
and every scenario names its players with a fresh prefix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop import cloud as lifecycle

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="session")
def game(cloud: dict) -> dict[str, str]:
    return lifecycle.deploy(TEMPLATE, stack_name="game")["outputs"]
