"""A live log of a game's messages for the panels: ``→`` sent, ``←`` received, newest last.

The battle and trivia panels both show what went over the wire as it happens, so a
learner sees the protocol behind every click.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

__all__ = ["MessageLog", "compact"]


def compact(message: Mapping[str, Any]) -> str:
    """A message as one line of JSON."""
    return json.dumps(dict(message), separators=(", ", ": "))


class MessageLog:
    """Time-stamped lines, every one kept in ``lines``; the widget shows the newest ones."""

    def __init__(self, *, shown: int = 14) -> None:
        self.lines: list[str] = []
        self._shown = shown
        self._lock = threading.Lock()  # reader threads and the kernel both write
        self.widget = widgets.HTML(layout=widgets.Layout(
            border="1px solid #ccc", padding="4px 8px", width="100%"))
        self.render()

    def say(self, line: str) -> None:
        """Add a line, stamped with the time of day."""
        with self._lock:
            self.lines.append(f"{time.strftime('%H:%M:%S')}  {line}")

    def sent(self, who: str, message: Mapping[str, Any]) -> None:
        """Log a message ``who`` sent."""
        self.say(f"{who} → {compact(message)}")

    def received(self, who: str, message: Mapping[str, Any]) -> None:
        """Log a message ``who`` received."""
        self.say(f"{who} ← {compact(message)}")

    def render(self) -> None:
        """Show the newest lines in the widget."""
        with self._lock:
            newest = self.lines[-self._shown:]
        self.widget.value = ("<pre style='margin:0'>" +
                             html.escape("\n".join(newest) or "no messages yet") + "</pre>")
