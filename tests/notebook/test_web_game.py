"""The game pages in a notebook (workshop.notebook.web_game): a link, a frame, the proxy."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from workshop import cloud as lifecycle
from workshop.notebook import web_game

SITE = {"WebsiteURL": "http://127.0.0.1:4580/_website/b",
        "BattlePageURL": "http://127.0.0.1:4580/_website/b/battle/",
        "TriviaPageURL": "http://127.0.0.1:4580/_website/b/trivia/"}
ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"


def test_a_page_on_the_local_cloud_is_its_loopback_address(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv(web_game.PROXY_VARIABLE, raising=False)
    page = web_game.page_for("battle", SITE, user_id="ada")
    assert page.url == "http://127.0.0.1:4580/_website/b/battle/?user_id=ada"
    assert "on this machine" in page.how
    assert web_game.page_for("trivia", SITE).url == SITE["TriviaPageURL"]


def test_the_page_shows_a_link_a_frame_and_the_proxy_switch(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.delenv(web_game.PROXY_VARIABLE, raising=False)
    shown = web_game.page_for("battle", SITE)._repr_html_()
    box = re.search(r'<div id="(game-[0-9a-f]{12})">', shown)
    assert box is not None
    assert f'<a data-game href="{SITE["BattlePageURL"]}" target="_blank"' in shown
    assert f'<iframe src="{SITE["BattlePageURL"]}"' in shown
    # The script finds its own box and knows the direct address, to rewrite both.
    assert f"document.getElementById({json.dumps(box.group(1))})" in shown
    assert f"new URL({json.dumps(SITE['BattlePageURL'])})" in shown
    assert "proxy/${direct.port}" in shown


def test_a_proxy_prefix_can_be_given_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(web_game.PROXY_VARIABLE, "/jupyter/default/proxy/4580/")
    page = web_game.page_for("trivia", SITE, name="Ada")
    assert page.url == "/jupyter/default/proxy/4580/_website/b/trivia/?name=Ada"


def test_a_page_on_aws_says_anyone_can_open_it() -> None:
    site = {"BattlePageURL": "http://b.s3-website-us-east-1.amazonaws.com/battle/"}
    page = web_game.page_for("battle", site)
    assert page.url == site["BattlePageURL"] and "anyone with this address" in page.how
    with pytest.raises(ValueError, match="page 'chess' is not one of battle, trivia"):
        web_game.page_for("chess", site)


def test_open_game_publishes_the_pages_of_a_deployment(cloud: dict,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(web_game.PROXY_VARIABLE, raising=False)
    report = lifecycle.deploy(ECHO, stack_name="framed")
    deployment = SimpleNamespace(report=report, target="local")
    page = web_game.open_game("battle", deployment)
    assert page.url.startswith(f"{cloud['endpoint']}/_website/framed-website-sitebucket-")
    with urllib.request.urlopen(page.url + "config.js", timeout=10) as reply:
        assert report["outputs"]["WebSocketURL"] in reply.read().decode()
