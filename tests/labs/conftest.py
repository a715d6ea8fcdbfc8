"""Labs 1-4 end to end: template.yaml on the session's private cloud, real WebSocket players.

Every test names its players with a fresh prefix, so tests share one deployed stack
without seeing each other's rooms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from labtools import TEMPLATE, Lobby

from workshop import cloud as lifecycle
from workshop.player import close_all


@pytest.fixture(scope="session")
def game(cloud: dict) -> dict[str, str]:
    """The outputs of template.yaml, deployed as the stack ``game``."""
    return lifecycle.deploy(TEMPLATE, stack_name="game")["outputs"]


@pytest.fixture
def lobby(game: dict[str, str]) -> Iterator[Lobby]:
    made = Lobby(game["WebSocketURL"])
    yield made
    close_all(made.players)


@pytest.fixture(scope="session")
def rooms_table(game: dict[str, str]) -> Any:
    return boto3.resource("dynamodb").Table(game["RoomsTableName"])


@pytest.fixture(scope="session")
def connections_table(game: dict[str, str]) -> Any:
    return boto3.resource("dynamodb").Table(game["ConnectionsTableName"])
