"""Class play's room trivia game (workshop.room, ``python -m workshop room``).

The instructor hosts one game on the shared backend; learners join it (bots here), the
host starts it, and the leaderboard at the end ranks everyone but the host by the scores
their answers earned.
"""

from __future__ import annotations

from typing import IO

import pytest
from labtools import eventually
from room_games import play_room_game

from workshop import room
from workshop.notebook.trivia_bots import Bots


def test_room_addresses_on_an_exposed_local_cloud_name_the_exposed_address() -> None:
    game = {"WebSocketURL": "ws://127.0.0.1:4580/abc/dev"}
    site = {"TriviaPageURL": "http://127.0.0.1:4580/_website/b/trivia/"}
    addresses = room.room_addresses(game, site, exposed="192.168.1.20")
    assert addresses == room.RoomAddresses(
        "ws://127.0.0.1:4580/abc/dev", "ws://192.168.1.20:4580/abc/dev",
        "http://192.168.1.20:4580/_website/b/trivia/")


def test_room_addresses_on_aws_are_the_stacks_own() -> None:
    game = {"WebSocketURL": "wss://abc.execute-api.us-east-1.amazonaws.com/dev"}
    site = {"TriviaPageURL": "http://b.s3-website-us-east-1.amazonaws.com/trivia/"}
    addresses = room.room_addresses(game, site, exposed=None)
    assert addresses.learner_url == addresses.host_url == game["WebSocketURL"]
    assert addresses.trivia_page == site["TriviaPageURL"]
    with pytest.raises(room.RoomError, match="no WebSocketURL output"):
        room.room_addresses({}, None, exposed=None)


def test_the_leaderboard_text_numbers_places_and_ties_share_one() -> None:
    assert room.leaderboard_text([("Ada", 9), ("Bo", 9), ("Cy", 4)]).splitlines() == [
        "  1. Ada  9", "  1. Bo   9", "  3. Cy   4"]
    assert room.leaderboard_text([]) == "nobody played"


def test_a_room_game_ranks_everyone_but_the_host(game: dict) -> None:
    addresses = room.room_addresses(game, None, exposed=None)
    hosted = room.host_game(addresses, host_name="Teacher")
    try:
        with pytest.raises(room.RoomError, match="nobody has joined yet"):
            hosted.start(questions=2, wait_seconds=1)
        with Bots(game["WebSocketURL"], {"Ada": 1.0, "Bo": 0.0, "Cy": 0.5}, seed=3) as bots:
            bots.join(hosted.game_id)
            assert eventually(lambda: sorted(hosted.players()) == ["Ada", "Bo", "Cy"])
            # 100 s to answer is 1 s at the tests' time scale: time for every answer.
            hosted.start(questions=3, wait_seconds=100)
            board = hosted.wait_until_over(timeout=60)
            expected = bots.expected_scores()
        assert dict(board) == expected
        assert [score for _, score in board] == sorted(expected.values(), reverse=True)
        assert "Teacher" not in dict(board) and len(hosted.asked()) == 3
    finally:
        hosted.close()


def test_the_room_command_hosts_a_game_to_its_leaderboard(game: dict) -> None:
    def joining(lines: IO[str]) -> tuple[str, str]:
        header = [lines.readline() for _ in range(2)]
        assert "loopback only" in header[0], header
        return header[1].removeprefix("Trivia game ").strip(), game["WebSocketURL"]

    out, expected = play_room_game(
        ["--stack-name", "game", "--start-when", "2", "--questions", "2", "--wait", "100"],
        joining=joining, players={"Ada": 1.0, "Bo": 0.0}, seed=5)
    assert "  joined: Ada" in out and "  joined: Bo" in out
    board = out.split("leaderboard:\n", 1)[1].splitlines()
    assert [line.split()[1:] for line in board] == [
        [name, str(score)] for name, score in sorted(expected.items(), key=lambda i: -i[1])]


def test_an_older_player_list_arriving_late_does_not_replace_a_newer_one() -> None:
    # Two invocations' lists can arrive in either order: players only join, scores only grow.
    two = [{"playerName": "Ada", "score": 0}, {"playerName": "Bo", "score": 0}]
    three = [*two, {"playerName": "Cy", "score": 0}]
    scored = [{"playerName": "Ada", "score": 2}, *three[1:]]
    assert room._not_older(three, two) and not room._not_older(two, three)
    assert room._not_older(scored, three) and not room._not_older(three, scored)
