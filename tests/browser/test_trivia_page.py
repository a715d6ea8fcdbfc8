"""The trivia page (web/trivia/) in a real browser, against the deployed game.

Three people play: Ann creates the game, Bob joins with her invite link, Cid types the
game's id. The test clicks answers as they would (the right one for Ann, a wrong one for
Bob, none then the right one for Cid) and checks every page's scores against the game
table the state machine scored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from pagetools import OpenPage, Site
from polling import eventually

from workshop.player import Player

# The local cloud runs at time scale 0.01: 300 s to answer (the most a game allows) is
# 3 s of real time for three clicks, each recorded before the next (see answer()).
WAIT_SECONDS = 300
QUESTIONS = 2
GAME_WAIT_MS = 30_000
RECORD_WAIT_S = 2.5


def game_items(site: Site, game_id: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(site.game["TriviaGamesTableName"])
    return table.query(KeyConditionExpression=Key("gameId").eq(game_id),
                       ConsistentRead=True)["Items"]


def asked(site: Site, game_id: str, position: int) -> dict[str, Any]:
    """The question at ``position`` as the game table keeps it: answer and bonus included."""
    (game,) = [item for item in game_items(site, game_id) if item["connectionId"] == "#game"]
    return game["questions"][position]


def answer(site: Site, page: OpenPage, name: str, question_id: str, option: str, *,
           key: str | None = None) -> None:
    """Click ``option`` (or press ``key``) and wait until the game table has it as this
    player's answer.

    One answer at a time, as people answer: answers racing each other start a second
    worker of the answer function, whose cold start on a loaded machine can outlast the
    question (the server then refuses the answer, as it should).
    """
    if key is None:
        page.page.locator("#options").get_by_role("button", name=option, exact=True).click()
    else:
        page.page.keyboard.press(key)

    def recorded() -> bool:
        return any(item.get("playerName") == name
                   and item.get("answers", {}).get(question_id) == option
                   for item in game_items(site, page.state()["gameId"]))

    assert eventually(recorded, timeout=RECORD_WAIT_S), (
        f"{name}'s answer {option!r} to {question_id} was not recorded; the page says: "
        f"{page.page.text_content('#problem')!r}")


def warm_up_answers(site: Site, game_id: str) -> None:
    """Have the answer function started once before the clock runs, as a class's first
    clicks would (its first start costs more than a second on a loaded machine)."""
    with Player(site.game["WebSocketURL"], user_id="web-warm-up") as player:
        player.send("answer", gameid=game_id, questionid="none", answer="none")
        assert player.wait_for("error", timeout=GAME_WAIT_MS / 1000)["data"] == \
            "you are not in this game"


def test_three_pages_play_trivia_to_the_end(site: Site,
                                            open_page: Callable[..., OpenPage]) -> None:
    ann = open_page("ann", site.trivia, name="Ann")
    ann.page.click("#new-game")
    ann.wait("s.gameId !== null && s.players.length === 1")
    game_id = ann.state()["gameId"]
    assert ann.page.text_content("#game-label") == game_id
    invite = ann.page.input_value("#invite")
    assert invite.endswith(f"?game={game_id}")

    bob = open_page("bob", invite)
    assert bob.page.input_value("#game-id") == game_id
    bob.page.fill("#name", "Bob")
    bob.page.click("#join")
    cid = open_page("cid", site.trivia)
    cid.page.fill("#name", "Cid")
    cid.page.fill("#game-id", game_id)
    cid.page.press("#game-id", "Enter")
    players = (ann, bob, cid)
    for page in players:
        page.wait("s.players.length === 3")
        names = page.page.locator("#players li").all_text_contents()
        assert sorted(name.removesuffix(" (you)") for name in names) == ["Ann", "Bob", "Cid"]

    warm_up_answers(site, game_id)
    ann.page.fill("#question-count", str(QUESTIONS))
    ann.page.fill("#wait-seconds", str(WAIT_SECONDS))
    ann.page.click("#start")
    expected = {"Ann": 0, "Bob": 0, "Cid": 0}
    said: dict[str, list[str]] = {"Ann": [], "Bob": [], "Cid": []}
    for position in range(QUESTIONS):
        for page in players:
            page.wait(f"s.number === {position + 1} && s.canAnswer", timeout=GAME_WAIT_MS)
        question = asked(site, game_id, position)
        shown = ann.state()["question"]
        assert shown == {"id": question["id"], "question": question["question"],
                         "options": question["options"]}, "the page shows another question"
        wrong = next(option for option in question["options"] if option != question["answer"])
        answer(site, ann, "Ann", question["id"], question["answer"])
        answer(site, bob, "Bob", question["id"], wrong)
        if position > 0:  # Cid misses the first question, then answers with a key
            key = str(question["options"].index(question["answer"]) + 1)
            answer(site, cid, "Cid", question["id"], question["answer"], key=key)
        points = 1 + int(question["bonus"])
        expected["Ann"] += points
        expected["Cid"] += points if position > 0 else 0
        said["Ann"].append(f"Question {position + 1}: Right! +{points} for you.")
        said["Bob"].append(f"Question {position + 1}: Not this time: no points.")
        said["Cid"].append(f"Question {position + 1}: " + (
            "You did not answer in time." if position == 0 else f"Right! +{points} for you."))
        # The next question follows the scores at once: wait on what stays on the page.
        for page in players:
            page.wait(f"s.results.length === {position + 1}", timeout=GAME_WAIT_MS)
        assert shown_scores(ann) == expected, f"after question {position + 1}"

    for page, name in zip(players, ("Ann", "Bob", "Cid"), strict=True):
        page.wait("s.over", timeout=GAME_WAIT_MS)
        assert page.page.text_content("#scores-title") == "Final scores"
        assert shown_scores(page) == expected
        assert page.page.locator("#results li").all_text_contents() == said[name]
    table = {item["playerName"]: int(item["score"]) for item in game_items(site, game_id)
             if item["connectionId"] != "#game"}
    assert table == expected, "the pages' scores are not the game table's"
    best = max(expected.values())
    winners = [name for name, score in expected.items() if score == best]
    said = (f"Game over: {winners[0]} wins!" if len(winners) == 1
            else f"Game over: {' and '.join(winners)} share the win!")
    assert ann.page.text_content("#news") == said


def shown_scores(page: OpenPage) -> dict[str, int]:
    """The scoreboard as the page shows it: {name: score}."""
    rows = page.page.locator("#scoreboard tr").all()[1:]
    scores = {}
    for row in rows:
        cells = row.locator("td").all_text_contents()
        scores[cells[1].removesuffix(" (you)")] = int(cells[2])
    return scores


def test_joining_a_game_that_does_not_exist_is_refused_in_words(
        site: Site, open_page: Callable[..., OpenPage]) -> None:
    page = open_page("lost", site.trivia, game="0" * 32)
    page.page.click("#join")
    page.wait("s.problem !== ''")
    assert page.page.text_content("#problem") == "The server refused that: no such game"
    assert page.page.is_visible("#lobby") and page.state()["gameId"] is None
