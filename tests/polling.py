"""Waiting for what the local cloud does after it has answered, shared by the test folders.

($disconnect runs after the socket has closed; logs arrive when an invocation ends.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["eventually"]


def eventually(check: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    """Poll ``check()`` until it is truthy or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)
