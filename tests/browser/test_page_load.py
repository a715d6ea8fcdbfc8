"""The pages load from the website as deployed, without a console error, and say where
they connect."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pagetools import OpenPage, Site


@pytest.mark.parametrize("game", ["battle", "trivia"])
def test_a_page_loads_and_says_where_it_connects(
        game: str, site: Site, open_page: Callable[..., OpenPage]) -> None:
    page = open_page(game, getattr(site, game))
    line = page.page.text_content("#connection")
    assert line == f"not connected · {site.game['WebSocketURL']} (from config.js)"
    assert page.state()["connection"] == "new"
    assert page.page.is_hidden("#problem")
    # Every file the page loaded came from the website, relative to the page.
    loaded = page.page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert {url.rsplit("/", 2)[-2] for url in loaded} >= {game, "shared"}
    assert all(url.startswith(site.battle.removesuffix("battle/")) for url in loaded), loaded


def test_ws_in_the_address_overrides_config_js(site: Site,
                                               open_page: Callable[..., OpenPage]) -> None:
    page = open_page("override", site.trivia, ws="wss://example.invalid/Prod")
    assert page.page.text_content("#connection") == (
        "not connected · wss://example.invalid/Prod (from ?ws= in the page's address)")


def test_a_bad_ws_in_the_address_is_explained(site: Site,
                                              open_page: Callable[..., OpenPage]) -> None:
    page = open_page("bad-override", site.battle, ws="http://example.com/")
    assert page.page.text_content("#problem") == (
        "The ?ws= address must start with ws:// or wss://, not http://")
    assert not page.page.is_enabled("#find"), "it offers to connect anyway"
    assert page.page.text_content("#connection") == "not connected · no game server to connect to"
