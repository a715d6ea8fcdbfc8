"""Identifiers and time for the local cloud, behind seams tests can replace.

Ids have the shape AWS uses, so code that parses or logs them behaves the same, and
the clock is injectable so tests can pin timestamps (as chalice's local server does).
"""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import string
import time
from collections.abc import Callable

__all__ = ["Clock", "IdSource", "SYSTEM_CLOCK", "RANDOM_IDS", "CountingIds"]

_API_ID_ALPHABET = string.ascii_lowercase + string.digits


def _short_base64() -> str:
    return base64.b64encode(os.urandom(12)).decode()[:15] + "="


def _uuid4() -> str:
    """``str(uuid.uuid4())`` in less than half the time: several are made per message."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]
    return (f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-"
            f"{digits[20:]}")


class Clock:
    """Wall-clock and monotonic time; ``now_ms`` is what AWS puts in events and logs."""

    def __init__(self, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic

    def now(self) -> float:
        return self._wall()

    def now_ms(self) -> int:
        return int(self._wall() * 1000)

    def monotonic(self) -> float:
        return self._monotonic()


class IdSource:
    """Random ids in AWS's formats."""

    def request_id(self) -> str:
        """A Lambda / API Gateway request id (a version 4 UUID)."""
        return _uuid4()

    def connection_id(self) -> str:
        """An API Gateway WebSocket connection id, like ``L0SM9cOFvHcCIhw=``."""
        return _short_base64()

    def gateway_request_id(self) -> str:
        """An API Gateway WebSocket request or message id, same shape: ``BFaVtH2HoAMFZEQ=``."""
        return _short_base64()

    def api_id(self) -> str:
        """A REST/WebSocket API id: 10 lower-case letters and digits."""
        return "".join(secrets.choice(_API_ID_ALPHABET) for _ in range(10))

    def short_id(self) -> str:
        """An id for routes, integrations, deployments: 7 characters."""
        return "".join(secrets.choice(_API_ID_ALPHABET) for _ in range(7))


class CountingIds(IdSource):
    """Obviously fake, predictable ids for tests: ``conn-0001=``, ``req-0001`` …"""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):04d}"

    def request_id(self) -> str:
        return self._next("req-")

    def connection_id(self) -> str:
        return self._next("conn-") + "="

    def gateway_request_id(self) -> str:
        return self._next("gwreq-") + "="

    def api_id(self) -> str:
        return self._next("api")

    def short_id(self) -> str:
        return self._next("id")


SYSTEM_CLOCK = Clock()
RANDOM_IDS = IdSource()
