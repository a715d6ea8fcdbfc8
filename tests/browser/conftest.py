"""The game pages in a real browser: headless Chromium (Debian's ``chromium``) via Playwright.

The pages are loaded as a learner loads them: the game stack (template.yaml) and its
website (website.yaml, the pages of ``web/`` plus config.js) deployed on the session's
private local cloud, opened at the website's ``BattlePageURL`` / ``TriviaPageURL``.

Without a browser these tests are left out, with one line saying how to enable them;
with ``WORKSHOP_REQUIRE_BROWSER=1`` (CI sets it) a missing browser fails them instead. A
failing test leaves a screenshot and the console of each of its pages under
``tests/browser/artifacts/`` (or ``$WORKSHOP_BROWSER_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pagetools import (
    ENABLE,
    WAIT_MS,
    OpenPage,
    Site,
    chromium_path,
    heard,
    missing_browser,
    save_artifacts,
)

from workshop import cloud as lifecycle
from workshop import website

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STACK = "browser"

_SKIPPED: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """No browser: leave these tests out, and say so once (see pytest_terminal_summary)."""
    here = Path(__file__).resolve().parent
    ours = [item for item in items if here in item.path.resolve().parents]
    why = missing_browser() if ours else None
    if why is None or os.environ.get("WORKSHOP_REQUIRE_BROWSER") == "1":
        return  # with the variable set, the browser fixture fails each test instead
    _SKIPPED.append(f"browser tests skipped ({why}): to run them, {ENABLE}")
    config.hook.pytest_deselected(items=ours)
    items[:] = [item for item in items if item not in ours]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _SKIPPED:
        terminalreporter.write_line(line, yellow=True)


# Module scope, not session (a folder without __init__.py has no package scope):
# Playwright's sync API keeps an event loop running in this thread while it lives, and
# every later test that calls asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = missing_browser()
    if why is not None:
        pytest.fail(f"browser tests must run here (WORKSHOP_REQUIRE_BROWSER=1): {why}")
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(cloud: dict, browser: Any) -> Site:
    """template.yaml and its website deployed; the pages' URLs."""
    game = lifecycle.deploy(TEMPLATE, stack_name=STACK)["outputs"]
    pages = website.publish(stack_name=STACK, target="local", game_outputs=game)
    return Site(battle=pages["BattlePageURL"], trivia=pages["TriviaPageURL"], game=game)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., OpenPage]]:
    """``open_page(label, url, clock=False, touch=False, **query)``: a page in a browser
    context of its own (a different person), loaded and ready. ``clock=True`` installs
    Playwright's fake clock, paused, so the test moves the page's time itself
    (``page.clock.run_for``); ``touch=True`` makes it a touch screen (``locator.tap()``)."""
    opened: list[tuple[Any, OpenPage]] = []
    allowed: list[re.Pattern[str]] = []

    def open_(label: str, url: str, *, clock: bool = False, touch: bool = False,
              **query: str) -> OpenPage:
        context = browser.new_context(viewport={"width": 800, "height": 900}, has_touch=touch)
        page = context.new_page()
        record = OpenPage(label, page)
        page.on("console", lambda message: heard(record, message))
        page.on("pageerror", lambda error: record.console_errors.append(f"uncaught: {error}"))
        opened.append((context, record))
        if clock:
            page.clock.install()
            page.clock.pause_at(1_700_000_000_000)
        page.goto(f"{url}?{urlencode(query)}" if query else url)
        page.wait_for_function("window.game && window.game.ready", timeout=WAIT_MS)
        return record

    open_.allow_console_error = lambda pattern: allowed.append(re.compile(pattern))  # type: ignore[attr-defined]
    yield open_
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        save_artifacts(request.node.name, [record for _, record in opened])
    errors = [f"{record.label}: {text}" for _, record in opened
              for text in record.console_errors
              if not any(pattern.search(text) for pattern in allowed)]
    for context, _ in opened:
        context.close()
    assert not errors, "the pages logged errors:\n" + "\n".join(errors)


