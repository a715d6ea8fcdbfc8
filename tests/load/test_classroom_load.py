"""A classroom at once, bounded: many players joining, battling, playing and drawing
together, and nobody lost, duplicated or left in silence.

Each test asserts what the scenario found (:mod:`workshop.loadtest`), never how fast:
speed is measured by the benchmarks. The sizes keep the whole file to seconds on a
loaded two-core machine.
"""

from __future__ import annotations

import asyncio

from workshop import loadtest
from workshop.crowd import Crowd, answered_join, pairing_problems

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


# What one client sent before and around its only valid joinroom, while 200 others
# joined: once, it made two joins take a second ticket and left a player waiting forever.
BURST = ["not json", "{", "[]", '{"action": 5}', '{"action": "joinroom"}',
         '{"action": "nope"}', "\x00", '"' + "a" * 5000 + '"']


async def _joiners_and_one_burst(url: str) -> tuple[list[str], object]:
    async with Crowd(url) as crowd:
        joiners = await crowd.connect(JOINERS + 1)  # with the burster, an even crowd
        burster = await crowd.bot()

        async def burst() -> None:
            for message in BURST:
                await burster.ws.send_str(message)

        await asyncio.gather(burst(), crowd.everyone(joiners, "joinroom"))
        everyone = [*joiners, burster]

        def over() -> bool:  # an error alone answers a join: the burster needs all of it
            return (all(answered_join(bot) for bot in joiners)
                    and bool(burster.messages("peer_player_id"))
                    and len(burster.errors()) >= len(BURST) - 1)

        await crowd.until(over, timeout=loadtest.ANSWER_TIMEOUT)
        # The burster was rightly told off for each bad message: not a pairing problem.
        problems = [p for p in pairing_problems(everyone)
                    if not p.startswith(f"{burster.user_id} was told")]
        return problems, burster


def test_a_burst_of_bad_messages_among_the_joiners_leaves_nobody_unpaired(game: dict) -> None:
    problems, burster = asyncio.run(_joiners_and_one_burst(game["WebSocketURL"]))
    assert not problems
    assert len(burster.messages("joinroom")) == len(burster.messages("peer_player_id")) == 1
    assert len(burster.errors()) == len(BURST) - 1  # every message but the joinroom


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
