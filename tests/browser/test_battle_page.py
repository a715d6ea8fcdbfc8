"""The battle page (web/battle/) in a real browser, against the deployed game.

Each page runs on Playwright's fake clock, paused: the test moves a page's time itself
(``clock.run_for``), so a page's game advances only when the test says, exactly the same
way on a loaded machine. Messages between the pages and the server flow in real time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from pagetools import OpenPage, Site

_players = itertools.count()
FREEZE_MS = 3_000  # rules.js FREEZE_SECONDS
DIE_AFTER_SYNC_MS = 300  # main.js: how long a die waits after a syncscore


def user_id(name: str) -> str:
    """A user id no other test uses (the tests share one deployed game)."""
    return f"web{next(_players)}-{name}"


def run_until(page: OpenPage, condition: str, *, step_ms: int = 500,
              limit_ms: int = 120_000) -> dict[str, Any]:
    """Move the page's clock on in steps until ``condition`` (JS over ``s``) holds."""
    for _ in range(limit_ms // step_ms):
        if page.page.evaluate(f"(() => {{ const s = window.game.state; return {condition}; }})()"):
            return page.state()
        page.page.clock.run_for(step_ms)
    raise AssertionError(f"{page.label}: {condition} still false after {limit_ms} ms of game "
                         f"time; the page shows {page.state()}")


def matched_pair(open_page: Callable[..., OpenPage], site: Site, *,
                 autopilot: str = "1") -> tuple[OpenPage, OpenPage]:
    """Two pages that pressed "Find an opponent" and were matched with each other."""
    a = open_page("alice", site.battle, clock=True, user_id=user_id("alice"), seed="7",
                  autopilot=autopilot)
    b = open_page("bob", site.battle, clock=True, touch=True, user_id=user_id("bob"),
                  seed="11", autopilot=autopilot)
    for page in (a, b):
        page.page.click("#find")
    for page, other in ((a, b), (b, a)):
        page.wait(f"s.phase === 'playing' && s.opponent === {other.state()['userId']!r}")
    assert a.state()["room"] == b.state()["room"] is not None
    for page, other in ((a, b), (b, a)):
        assert page.page.text_content("#room") == page.state()["room"]
        assert page.page.text_content("#opponent") == other.state()["userId"]
    return a, b


def test_two_pages_battle_to_a_settlement_and_a_freeze_stops_jumps(
        site: Site, open_page: Callable[..., OpenPage]) -> None:
    alice, bob = matched_pair(open_page, site)
    run_until(bob, "s.t > 0.5")  # past "Ready… Go!"
    assert not bob.page.is_enabled("#attack"), "the attack was open before any points"

    # Alice's autopilot collects points; Bob sees her score as she syncs it.
    score = run_until(alice, "s.canAttack")["score"]
    assert score > 10
    bob.wait(f"s.opponentScore === {score}")
    assert bob.page.text_content("#opponent-score") == str(score)

    # The attack freezes Bob: a frozen fox cannot jump, by key, by tap or by button.
    alice.page.click("#attack")
    bob.wait("s.frozen && s.freezes === 1")
    assert "froze you" in bob.page.text_content("#news")
    assert bob.page.get_attribute("#world", "class") == "frozen"
    assert bob.page.text_content("#jump").startswith("Frozen")
    bob.page.uncheck("#autopilot")
    before = bob.state()
    bob.page.keyboard.press("Space")  # the checkbox has the focus: Space must not untick it
    bob.page.locator("#world").tap()
    bob.page.click("#jump")
    after = bob.state()
    assert (after["jumps"], after["blockedJumps"]) == (before["jumps"], before["blockedJumps"] + 3)
    assert after["news"] == "You are frozen: you cannot jump yet!"
    assert not bob.page.is_checked("#autopilot"), "Space toggled the focused checkbox"
    bob.page.clock.run_for(FREEZE_MS - 1_000)
    bob.page.keyboard.press("Space")
    assert bob.state()["jumps"] == before["jumps"], "Bob jumped before the freeze ended"
    thawed = run_until(bob, "!s.frozen && s.onGround", step_ms=100)
    assert not thawed["dead"], f"Bob fell while frozen: {thawed}"
    bob.page.locator("#world").tap()
    bob.page.clock.run_for(100)
    jumped = bob.state()
    assert jumped["jumps"] == thawed["jumps"] + 1 and jumped["y"] > 0, "no jump after the freeze"
    landed = run_until(bob, "s.onGround", step_ms=100)
    bob.page.keyboard.press("ArrowUp")
    assert bob.state()["jumps"] == landed["jumps"] + 1, "the up arrow does not jump"
    assert not bob.page.get_attribute("#world", "class")

    # Both stop jumping: with no more points, each page shows the other's final score...
    alice.page.uncheck("#autopilot")
    run_until(alice, "s.onGround", step_ms=50)
    for page, other in ((alice, bob), (bob, alice)):
        other.wait(f"s.opponentScore === {page.state()['score']}")
    # ...and the rocks take their hearts: Alice falls first, then Bob.
    run_until(alice, "s.dead")
    alice.page.clock.run_for(DIE_AFTER_SYNC_MS)  # a die held back after a recent syncscore
    bob.wait("s.opponentDead")
    assert "fell with" in bob.page.text_content("#news")
    run_until(bob, "s.dead")
    bob.page.clock.run_for(DIE_AFTER_SYNC_MS)
    for page in (alice, bob):
        page.wait("s.result !== null")
    a, b = alice.state(), bob.state()
    expected = ("DRAW", "DRAW") if a["score"] == b["score"] else \
        ("WIN", "LOSE") if a["score"] > b["score"] else ("LOSE", "WIN")
    assert (a["result"], b["result"]) == expected, (a, b)
    words = {"WIN": "You win!", "LOSE": "You lose.", "DRAW": "A draw."}
    for page, state in ((alice, a), (bob, b)):
        assert page.page.text_content("#result").startswith(words[state["result"]])
        assert page.page.is_visible("#again")

    # The battle is over for the server too: both may play again, in a new room.
    for page in (alice, bob):
        page.page.click("#again")
    for page, other in ((alice, bob), (bob, alice)):
        page.wait(f"s.phase === 'playing' && s.opponent === {other.state()['userId']!r}")
    assert alice.state()["room"] == bob.state()["room"] != a["room"]
    assert alice.state()["score"] == 0 and alice.page.is_hidden("#result")


def test_the_page_says_when_the_server_closes_its_socket(
        site: Site, open_page: Callable[..., OpenPage]) -> None:
    page = open_page("kicked", site.battle, user_id=user_id("kicked"))
    page.page.click("#find")
    page.wait("s.phase === 'waiting' && s.room !== null")
    rows = boto3.resource("dynamodb").Table(site.game["ConnectionsTableName"]).query(
        IndexName="user_id-index", KeyConditionExpression=Key("user_id").eq(page.state()["userId"]))
    (row,) = rows["Items"]
    boto3.client("apigatewaymanagementapi", endpoint_url=site.game["ConnectionsURL"]) \
        .delete_connection(ConnectionId=row["connection_id"])
    page.wait("s.connection === 'closed'")
    problem = page.page.text_content("#problem")
    assert page.page.is_visible("#problem")
    assert problem.startswith('The server closed the connection (code 1000: '
                              '"Connection deleted via @connections")'), problem
    assert page.page.get_attribute("#connection", "data-state") == "closed"


def test_a_refused_connection_is_shown_in_words(
        site: Site, open_page: Callable[..., OpenPage]) -> None:
    open_page.allow_console_error(r"WebSocket connection to .* failed")  # type: ignore[attr-defined]
    page = open_page("refused", site.battle, user_id="x" * 65)  # $connect refuses > 64
    page.page.click("#find")
    page.wait("s.connection === 'closed'")
    assert page.page.text_content("#problem").startswith("Could not connect to the game server")
    assert page.page.is_enabled("#user-id"), "the player cannot choose another id"


def test_an_error_reply_is_shown(site: Site, open_page: Callable[..., OpenPage]) -> None:
    same = user_id("twice")
    first = open_page("first-tab", site.battle, user_id=same)
    first.page.click("#find")
    first.wait("s.phase === 'waiting' && s.room !== null")
    # The same player in a second tab: the server refuses a second seat, and says why.
    second = open_page("second-tab", site.battle, user_id=same)
    second.page.click("#find")
    second.wait("s.problem !== ''")
    assert second.page.text_content("#problem") == (
        f"The server refused that: you are already in room {first.state()['room']}")
    assert second.state()["phase"] == "idle" and second.page.is_visible("#find")
    # The first tab leaves its room (exitroom); then the second may take a seat.
    room = first.state()["room"]
    first.page.click("#leave")
    first.wait("s.phase === 'idle'")
    assert first.page.text_content("#news") == f"You left room {room}."
    second.page.click("#find")
    second.wait("s.phase === 'waiting' && s.room !== null")
