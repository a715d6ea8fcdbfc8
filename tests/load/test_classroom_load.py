"""A classroom at once, bounded: many players joining, battling, playing and drawing
together, and nobody lost, duplicated or left in silence.

Each test asserts what the scenario found (:mod:`workshop.loadtest`), never how fast:
speed is measured by the benchmarks. The sizes keep the whole file to seconds on a
loaded two-core machine.
"""

from __future__ import annotations

import asyncio

from workshop import loadtest

JOINERS = 200   # the crowd that once left players without an answer
ROUNDS = 3
BATTLERS = 60
TRIVIA_GAMES, TRIVIA_PLAYERS, TRIVIA_QUESTIONS = 4, 3, 2
# At the tests' time scale (0.01), 300 gives three real seconds to answer a question:
# room for the answer functions to queue behind each other on a busy machine.
TRIVIA_WAIT = 300
DRAWS, WINNERS = 10, 2


def test_two_hundred_players_joining_at_once_are_paired_exactly_once(game: dict) -> None:
    for round_ in range(ROUNDS):
        report = asyncio.run(loadtest.matchmaking(
            game["WebSocketURL"], players=JOINERS, rooms_table=game["RoomsTableName"]))
        assert not report.problems, f"round {round_ + 1}: {report}"
        assert report.figures["errors"] == 0


def test_a_crowd_of_battles_each_settles_exactly_once(game: dict) -> None:
    report = asyncio.run(loadtest.battles(
        game["WebSocketURL"], players=BATTLERS, rooms_table=game["RoomsTableName"], seed=9))
    assert not report.problems, str(report)


def test_trivia_games_side_by_side_each_end_once_with_the_scores_earned(game: dict) -> None:
    report = asyncio.run(loadtest.trivia_games(
        game["WebSocketURL"], games=TRIVIA_GAMES, players=TRIVIA_PLAYERS,
        questions=TRIVIA_QUESTIONS, waitseconds=TRIVIA_WAIT,
        games_table=game["TriviaGamesTableName"], seed=5))
    assert not report.problems, str(report)


def test_lottery_draws_at_once_never_repeat_a_winner(game: dict) -> None:
    report = loadtest.lottery_draws(game, draws=DRAWS, winners=WINNERS)
    assert not report.problems, str(report)
    assert report.figures["draws succeeded"] >= 1
