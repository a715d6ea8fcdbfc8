"""What the browser tests share: finding Chromium, the deployed site, an open page."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ARTIFACTS", "ENABLE", "WAIT_MS", "OpenPage", "Site", "chromium_path",
           "heard", "missing_browser", "save_artifacts"]

ARTIFACTS = Path(os.environ.get("WORKSHOP_BROWSER_ARTIFACTS")
                 or Path(__file__).resolve().parent / "artifacts")
ENABLE = ("install Debian's chromium (sudo apt-get install chromium) and the dev extras "
          "(pip install -e '.[dev]'), or set WORKSHOP_CHROMIUM to a Chromium binary")
# How long a page may take to show what a test waits for (a loaded 2-core machine).
WAIT_MS = 15_000


def chromium_path() -> str | None:
    """The Chromium binary to drive: $WORKSHOP_CHROMIUM, else Debian's on PATH."""
    chosen = os.environ.get("WORKSHOP_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    if chromium_path() is None:
        return "no Chromium found"
    return None


@dataclass(frozen=True)
class Site:
    """Where the pages are, and the game stack's outputs behind them."""

    battle: str
    trivia: str
    game: dict[str, str]


@dataclass
class OpenPage:
    """A page and everything it said on its console."""

    label: str
    page: Any
    console_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        """The page's own snapshot: ``window.game.state``."""
        return self.page.evaluate("window.game.state")

    def wait(self, condition: str, *, timeout: float = WAIT_MS) -> None:
        """Wait until ``condition``, a JS expression over ``s`` (the page's state), holds."""
        self.page.wait_for_function(
            f"(() => {{ const s = window.game.state; return {condition}; }})()", timeout=timeout)


def heard(record: OpenPage, message: Any) -> None:
    """Keep one console message of the page (errors apart: a test fails on them)."""
    line = f"{message.type}: {message.text}"
    record.console.append(line)
    if message.type == "error":
        record.console_errors.append(message.text)


def save_artifacts(test_name: str, records: list[OpenPage]) -> None:
    """A screenshot and the console of every page of a failed test."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        try:
            record.page.screenshot(path=str(folder / f"{record.label}.png"), full_page=True)
        except Exception as error:  # noqa: BLE001 - a closed page must not hide the failure
            (folder / f"{record.label}.screenshot-failed.txt").write_text(str(error))
        (folder / f"{record.label}.console.txt").write_text("\n".join(record.console))
    print(f"screenshots of the failed test's pages: {folder}")
