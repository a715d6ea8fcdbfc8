"""The trivia game's rules (solutions/shared/python/trivia_rules.py): no cloud needed."""

from __future__ import annotations

import random
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
# What the functions import from their layer, as Lambda puts it on their path.
sys.path.insert(0, str(SOLUTIONS / "shared" / "python"))

import trivia_rules as rules  # noqa: E402
from trivia_rules import Question, TriviaError  # noqa: E402

GAME_ID = "0123456789abcdef0123456789abcdef"
Q1 = Question("q1", "2 + 2?", ("3", "4", "5", "22"), "4")
Q2 = Question("q2", "Capital of France?", ("Lyon", "Nice", "Paris", "Lille"), "Paris", bonus=2)
Q3 = Question("q3", "Colour of the sky?", ("Blue", "Green", "Red", "Pink"), "Blue")


def raw(qid: str = "q1", **changes: object) -> dict:
    question = {"id": qid, "question": f"Question {qid}?", "options": ["a", "b", "c", "d"],
                "answer": "b"}
    question.update(changes)
    return question


def waiting(*names: str) -> rules.Game:
    """A waiting game whose players are conn-<name in lower case>, created by the first."""
    game = rules.create_game(GAME_ID, f"conn-{names[0].lower()}", names[0])
    for name in names[1:]:
        game = rules.join_game(game, f"conn-{name.lower()}", name)
    return game


def asking(*names: str, questions: tuple[Question, ...] = (Q1, Q2, Q3)) -> rules.Game:
    """A started game asking its first question."""
    game, _ = rules.next_question(rules.start_game(waiting(*names), questions))
    return game


# -- questions ---------------------------------------------------------------------------

def test_public_question_never_shows_the_answer() -> None:
    view = rules.public_question(Q2)
    assert view == {"id": "q2", "question": "Capital of France?",
                    "options": ["Lyon", "Nice", "Paris", "Lille"]}
    assert "answer" not in view and "bonus" not in view


def test_points_are_one_plus_the_bonus() -> None:
    assert Q1.points == 1
    assert Q2.points == 3


def test_a_question_round_trips_through_its_stored_form() -> None:
    assert Question.from_dict(Q2.to_dict()) == Q2
    # DynamoDB hands numbers back as Decimal.
    assert Question.from_dict({**Q2.to_dict(), "bonus": Decimal(2)}).bonus == 2


@pytest.mark.parametrize("bad", [
    "not a question",
    raw(id=""),
    raw(id=7),
    raw(question="   "),
    raw(options=["a", "b", "c"]),
    raw(options="abcd"),
    raw(options=["a", "b", "c", ""]),
    raw(options=["a", "b", "b", "d"]),
    raw(answer="z"),
    raw(bonus=-1),
    raw(bonus=1.5),
    raw(bonus=True),
    raw(bonus="2"),
])
def test_malformed_questions_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        Question.from_dict(bad)


def test_parse_bank_refuses_repeats_and_empty_banks() -> None:
    assert [q.id for q in rules.parse_bank([raw("q1"), raw("q2", question="Other?")])] == [
        "q1", "q2"]
    with pytest.raises(ValueError, match="repeated question id: q1"):
        rules.parse_bank([raw("q1"), raw("q1", question="Other?")])
    with pytest.raises(ValueError, match="repeated question question"):
        rules.parse_bank([raw("q1", question="Same?"), raw("q2", question="same?")])
    for empty in ([], {}, None):
        with pytest.raises(ValueError):
            rules.parse_bank(empty)


def test_choose_questions_is_repeatable_with_a_seed_and_never_repeats() -> None:
    bank = [Question(f"q{i}", f"Q{i}?", ("a", "b", "c", "d"), "a") for i in range(30)]
    first = rules.choose_questions(bank, 10, random.Random(42))
    assert first == rules.choose_questions(bank, 10, random.Random(42))
    assert first != rules.choose_questions(bank, 10, random.Random(43))
    assert len(first) == 10 and len({q.id for q in first}) == 10
    assert set(first) <= set(bank)
    everything = rules.choose_questions(bank, 30, random.Random(1))
    assert sorted(q.id for q in everything) == sorted(q.id for q in bank)


@pytest.mark.parametrize("count", [0, -1, 4, 2.0, True, "2", None])
def test_choose_questions_validates_the_count(count: object) -> None:
    with pytest.raises(TriviaError, match="number of questions"):
        rules.choose_questions([Q1, Q2, Q3], count, random.Random(0))


def test_choose_questions_refuses_a_bank_with_repeated_ids() -> None:
    with pytest.raises(ValueError):
        rules.choose_questions([Q1, Q1], 1, random.Random(0))


# -- game ids ----------------------------------------------------------------------------

def test_game_ids_are_32_hex_digits_and_repeatable_with_a_seed() -> None:
    assert rules.check_game_id(rules.new_game_id()) != rules.new_game_id()
    seeded = rules.new_game_id(random.Random(7))
    assert seeded == rules.new_game_id(random.Random(7))
    assert rules.check_game_id(seeded) == seeded


@pytest.mark.parametrize("bad", ["", "abc", GAME_ID.upper(), GAME_ID + "0", f" {GAME_ID}"])
def test_malformed_game_ids_are_no_game(bad: str) -> None:
    with pytest.raises(TriviaError, match="no such game"):
        rules.check_game_id(bad)


@pytest.mark.parametrize("bad", [None, 42, ["x"]])
def test_game_ids_must_be_strings(bad: object) -> None:
    with pytest.raises(TriviaError, match='"gameid" must be a string'):
        rules.check_game_id(bad)


# -- creating, joining, starting ---------------------------------------------------------

def test_the_creator_is_the_first_player_of_a_waiting_game() -> None:
    game = rules.create_game(GAME_ID, "conn-ann", "Ann")
    assert game.phase == rules.WAITING
    assert game.players == (rules.Player("conn-ann", "Ann", 0, {}),)
    assert game.current_question is None


def test_create_game_refuses_bad_ids_and_names() -> None:
    with pytest.raises(TriviaError):
        rules.create_game("nope", "conn-ann", "Ann")
    with pytest.raises(TriviaError, match="needs a name"):
        rules.create_game(GAME_ID, "conn-ann", " ")


def test_joining_adds_players_in_order_without_changing_the_old_game() -> None:
    before = waiting("Ann")
    after = rules.join_game(before, "conn-bob", "Bob")
    assert after.connection_ids == ["conn-ann", "conn-bob"]
    assert before.connection_ids == ["conn-ann"]


def test_joining_an_unknown_game_is_refused() -> None:
    with pytest.raises(TriviaError, match="no such game"):
        rules.join_game(None, "conn-bob", "Bob")


def test_joining_twice_is_refused() -> None:
    with pytest.raises(TriviaError, match="already in this game"):
        rules.join_game(waiting("Ann", "Bob"), "conn-bob", "Bob again")


def test_joining_a_started_game_is_refused() -> None:
    started = rules.start_game(waiting("Ann"), [Q1])
    with pytest.raises(TriviaError, match="already started"):
        rules.join_game(started, "conn-bob", "Bob")


def test_starting_fixes_the_questions_once() -> None:
    started = rules.start_game(waiting("Ann", "Bob"), [Q1, Q2])
    assert started.phase == rules.PLAYING
    assert started.questions == (Q1, Q2)
    assert started.current_question is None
    with pytest.raises(TriviaError, match="already started"):
        rules.start_game(started, [Q3])


def test_starting_an_unknown_or_empty_game_is_refused() -> None:
    with pytest.raises(TriviaError, match="no such game"):
        rules.start_game(None, [Q1])
    nobody = rules.drop_player(waiting("Ann"), "conn-ann")
    with pytest.raises(TriviaError, match="no players"):
        rules.start_game(nobody, [Q1])
    with pytest.raises(TriviaError, match="at least one question"):
        rules.start_game(waiting("Ann"), [])
    with pytest.raises(ValueError):
        rules.start_game(waiting("Ann"), [Q1, Q1])


# -- asking ------------------------------------------------------------------------------

def test_questions_are_asked_in_order_each_after_the_last_is_scored() -> None:
    game = rules.start_game(waiting("Ann"), [Q1, Q2])
    game, asked = rules.next_question(game)
    assert asked == Q1 and game.current_question == Q1 and not game.scored
    with pytest.raises(TriviaError, match="not been scored"):
        rules.next_question(game)
    game, _ = rules.score_question(game)
    game, asked = rules.next_question(game)
    assert asked == Q2 and game.position == 1 and not game.scored
    game, _ = rules.score_question(game)
    assert game.phase == rules.OVER and not game.has_next_question
    with pytest.raises(TriviaError, match="not being played"):
        rules.next_question(game)


def test_nothing_is_asked_before_the_start_or_of_no_game() -> None:
    with pytest.raises(TriviaError, match="not being played"):
        rules.next_question(waiting("Ann"))
    with pytest.raises(TriviaError, match="no such game"):
        rules.next_question(None)


# -- answering ---------------------------------------------------------------------------

def test_an_answer_is_recorded_for_the_question_being_asked() -> None:
    game = rules.accept_answer(asking("Ann", "Bob"), "conn-bob", "q1", "4")
    assert game.player("conn-bob").answers == {"q1": "4"}
    assert game.player("conn-ann").answers == {}


def test_a_player_answers_once() -> None:
    game = rules.accept_answer(asking("Ann"), "conn-ann", "q1", "3")
    with pytest.raises(TriviaError, match="already answered"):
        rules.accept_answer(game, "conn-ann", "q1", "4")


@pytest.mark.parametrize("question_id", ["q2", "q9", "", None, 1])
def test_an_answer_to_another_question_is_refused(question_id: object) -> None:
    with pytest.raises(TriviaError, match="not the question being asked"):
        rules.accept_answer(asking("Ann"), "conn-ann", question_id, "4")


def test_an_answer_after_scoring_is_refused() -> None:
    game, _ = rules.score_question(asking("Ann"))
    with pytest.raises(TriviaError, match="too late"):
        rules.accept_answer(game, "conn-ann", "q1", "4")
    game, _ = rules.next_question(game)
    with pytest.raises(TriviaError, match="not the question being asked"):
        rules.accept_answer(game, "conn-ann", "q1", "4")


def test_answers_need_a_game_a_player_and_a_question() -> None:
    with pytest.raises(TriviaError, match="no such game"):
        rules.accept_answer(None, "conn-ann", "q1", "4")
    with pytest.raises(TriviaError, match="not in this game"):
        rules.accept_answer(asking("Ann"), "conn-eve", "q1", "4")
    with pytest.raises(TriviaError, match="not started"):
        rules.accept_answer(waiting("Ann"), "conn-ann", "q1", "4")
    started = rules.start_game(waiting("Ann"), [Q1])
    with pytest.raises(TriviaError, match="no question is being asked"):
        rules.accept_answer(started, "conn-ann", "q1", "4")
    over = rules.end_game(asking("Ann"))
    with pytest.raises(TriviaError, match="game is over"):
        rules.accept_answer(over, "conn-ann", "q1", "4")


@pytest.mark.parametrize("answer", ["42", "", None, 4, ["4"]])
def test_an_answer_must_be_one_of_the_options(answer: object) -> None:
    with pytest.raises(TriviaError, match="not one of the options"):
        rules.accept_answer(asking("Ann"), "conn-ann", "q1", answer)


# -- scoring -----------------------------------------------------------------------------

def test_correct_answers_earn_one_point_plus_the_bonus() -> None:
    game = asking("Ann", "Bob", "Cy")
    game = rules.accept_answer(game, "conn-ann", "q1", "4")
    game = rules.accept_answer(game, "conn-bob", "q1", "5")  # Cy does not answer
    game, scores = rules.score_question(game)
    assert scores == {"conn-ann": 1, "conn-bob": 0, "conn-cy": 0}
    game, _ = rules.next_question(game)  # q2, worth 1 + 2
    game = rules.accept_answer(game, "conn-bob", "q2", "Paris")
    game = rules.accept_answer(game, "conn-cy", "q2", "Paris")
    game, scores = rules.score_question(game)
    assert scores == {"conn-bob": 3, "conn-cy": 3, "conn-ann": 1}
    assert list(scores) == ["conn-bob", "conn-cy", "conn-ann"]  # standings order
    assert game.phase == rules.PLAYING and game.scored


def test_a_question_is_scored_once() -> None:
    game = rules.accept_answer(asking("Ann"), "conn-ann", "q1", "4")
    game, scores = rules.score_question(game)
    assert scores == {"conn-ann": 1}
    with pytest.raises(TriviaError, match="already been scored"):
        rules.score_question(game)


def test_scoring_needs_a_question_being_asked() -> None:
    with pytest.raises(TriviaError, match="no such game"):
        rules.score_question(None)
    with pytest.raises(TriviaError, match="not being played"):
        rules.score_question(waiting("Ann"))
    with pytest.raises(TriviaError, match="no question is being asked"):
        rules.score_question(rules.start_game(waiting("Ann"), [Q1]))


def test_a_whole_game_adds_up_and_ends_once() -> None:
    names = [f"p{i}" for i in range(8)]
    game = rules.start_game(waiting(*names), [Q1, Q2, Q3])
    expected = dict.fromkeys((f"conn-{n}" for n in names), 0)
    while game.has_next_question:
        game, question = rules.next_question(game)
        for i, name in enumerate(names):
            if (i + game.position) % 3:  # two players in three answer right
                game = rules.accept_answer(game, f"conn-{name}", question.id, question.answer)
                expected[f"conn-{name}"] += question.points
        game, scores = rules.score_question(game)
        assert scores == expected
    assert game.phase == rules.OVER
    assert sum(game.scores().values()) == sum(expected.values())


def test_end_game_ends_any_game_and_refuses_no_game() -> None:
    assert rules.end_game(waiting("Ann")).phase == rules.OVER
    assert rules.end_game(asking("Ann")).phase == rules.OVER
    with pytest.raises(TriviaError, match="no such game"):
        rules.end_game(None)


def test_a_dropped_player_leaves_the_broadcasts_and_the_scores() -> None:
    game = rules.drop_player(asking("Ann", "Bob"), "conn-bob")
    assert game.connection_ids == ["conn-ann"]
    _, scores = rules.score_question(game)
    assert scores == {"conn-ann": 0}
    with pytest.raises(TriviaError, match="not in this game"):
        rules.drop_player(game, "conn-bob")


# -- the player list ---------------------------------------------------------------------

def test_the_player_list_is_sorted_by_score_then_name_for_each_receiver() -> None:
    game = asking("Zed", "Amy", "Bob")
    game = rules.accept_answer(game, "conn-zed", "q1", "4")
    game, _ = rules.score_question(game)
    players = rules.player_list(game, "conn-bob")
    assert players == [
        {"connectionId": "conn-zed", "playerName": "Zed", "score": 1, "currentPlayer": False},
        {"connectionId": "conn-amy", "playerName": "Amy", "score": 0, "currentPlayer": False},
        {"connectionId": "conn-bob", "playerName": "Bob", "score": 0, "currentPlayer": True},
    ]
    for receiver in game.connection_ids:
        flagged = [p["connectionId"] for p in rules.player_list(game, receiver)
                   if p["currentPlayer"]]
        assert flagged == [receiver]


def test_equal_names_and_scores_are_ordered_by_connection() -> None:
    game = rules.join_game(waiting("Sam"), "conn-a", "Sam")
    assert [p["connectionId"] for p in rules.player_list(game, "x")] == ["conn-a", "conn-sam"]


def test_a_newcomer_sees_only_itself_flagged() -> None:
    players = rules.player_list(waiting("Ann"), "conn-ann")
    assert players == [{"connectionId": "conn-ann", "playerName": "Ann", "score": 0,
                        "currentPlayer": True}]


# -- the table items ---------------------------------------------------------------------

def test_a_game_round_trips_through_its_table_items() -> None:
    game = rules.accept_answer(asking("Ann", "Bob"), "conn-ann", "q1", "4")
    items = game.to_items()
    assert [i["connectionId"] for i in items] == [rules.GAME_ROW, "conn-ann", "conn-bob"]
    assert all(i["gameId"] == GAME_ID for i in items)
    assert items[0]["phase"] == rules.PLAYING and items[0]["position"] == 0
    assert items[1] == {"gameId": GAME_ID, "connectionId": "conn-ann", "playerName": "Ann",
                        "score": 0, "answers": {"q1": "4"}}
    assert rules.game_from_items(items) == game
    # As DynamoDB returns them: numbers as Decimal, items in any order.
    def decimals(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
            return value
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, dict):
            return {k: decimals(v) for k, v in value.items()}
        return [decimals(v) for v in value]

    stored = [decimals(i) for i in reversed(items)]
    restored = rules.game_from_items(stored)
    assert restored.position == 0 and restored.questions == game.questions
    assert sorted(restored.connection_ids) == sorted(game.connection_ids)


def test_no_game_item_means_no_game() -> None:
    assert rules.game_from_items([]) is None
    orphan = waiting("Ann").to_items()[1:]
    assert rules.game_from_items(orphan) is None


def test_the_game_item_keeps_the_answers_off_the_player_items() -> None:
    items = asking("Ann").to_items()
    assert items[0]["questions"][0]["answer"] == "4"
    assert all("questions" not in i for i in items[1:])


# -- requests ----------------------------------------------------------------------------

def test_required_fields_name_the_action_and_the_field() -> None:
    assert rules.required({"gameid": "x"}, "gameid", "joingame") == "x"
    with pytest.raises(TriviaError, match='^joingame needs a "gameid"$'):
        rules.required({}, "gameid", "joingame")
    with pytest.raises(TriviaError, match='^answer needs an "answer"$'):
        rules.required({"gameid": "x"}, "answer", "answer")
    # A field that is there but null is not missing: the type check refuses it later.
    assert rules.required({"answer": None}, "answer", "answer") is None


def test_game_id_in_needs_a_well_formed_id() -> None:
    assert rules.game_id_in({"gameid": GAME_ID}, "startgame") == GAME_ID
    with pytest.raises(TriviaError, match='startgame needs a "gameid"'):
        rules.game_id_in({}, "startgame")
    with pytest.raises(TriviaError, match='"gameid" must be a string'):
        rules.game_id_in({"gameid": 7}, "startgame")


def test_start_options_default_and_validate() -> None:
    assert rules.start_options({}, default_wait=10, default_count=5) == (10, 5)
    assert rules.start_options({"waitseconds": 300, "questioncount": 1},
                               default_wait=10, default_count=5) == (300, 1)


@pytest.mark.parametrize(("message", "reason"), [
    ({"waitseconds": 0}, '"waitseconds" must be between 1 and 300, not 0'),
    ({"waitseconds": 301}, "between 1 and 300"),
    ({"waitseconds": 2.0}, "must be a whole number, not 2.0"),
    ({"waitseconds": True}, "must be a whole number, not True"),
    ({"waitseconds": "5"}, "must be a whole number, not '5'"),
    ({"questioncount": 21}, '"questioncount" must be between 1 and 20, not 21'),
    ({"questioncount": None}, '"questioncount" must be a whole number, not None'),
])
def test_bad_start_options_are_refused(message: dict, reason: str) -> None:
    with pytest.raises(TriviaError, match=re.escape(reason)):
        rules.start_options(message, default_wait=10, default_count=5)


def test_a_player_name_is_trimmed_or_a_free_colour() -> None:
    assert rules.choose_player_name("  Ann ") == "Ann"
    assert rules.choose_player_name(None, rng=random.Random(1)) in rules.COLOURS
    taken = rules.COLOURS[1:]
    assert rules.choose_player_name(None, taken=taken) == rules.COLOURS[0]
    # Every colour taken: names may repeat (the player list tells players apart).
    assert rules.choose_player_name(None, taken=rules.COLOURS) in rules.COLOURS


@pytest.mark.parametrize(("requested", "reason"), [
    (42, '"name" must be a string, not 42'),
    ("   ", "a player needs a name"),
    ("x" * 25, "a name has at most 24 characters"),
])
def test_bad_player_names_are_refused(requested: object, reason: str) -> None:
    with pytest.raises(TriviaError, match=re.escape(reason)):
        rules.choose_player_name(requested)


def test_a_full_game_takes_no_more_players() -> None:
    game = waiting(*(f"P{i}" for i in range(rules.MAX_PLAYERS)))
    with pytest.raises(TriviaError, match="the game is full"):
        rules.join_game(game, "conn-late", "Late")


def test_only_a_player_of_the_game_may_start_it() -> None:
    with pytest.raises(TriviaError, match="not in this game"):
        rules.start_game(waiting("Ann"), [Q1], by="conn-eve")
    assert rules.start_game(waiting("Ann"), [Q1], by="conn-ann").phase == rules.PLAYING


# -- the state machine's tasks -----------------------------------------------------------

def test_ask_question_asks_the_next_or_repeats_an_unscored_one() -> None:
    game = rules.start_game(waiting("Ann"), [Q1, Q2])
    game, asked = rules.ask_question(game)
    assert asked == Q1 and game.position == 0
    again, repeated = rules.ask_question(game)   # a retried task: same question, no move
    assert repeated == Q1 and again == game
    game, _ = rules.score_question(game)
    game, asked = rules.ask_question(game)
    assert asked == Q2 and game.position == 1
    game, _ = rules.score_question(game)
    with pytest.raises(TriviaError, match="not being played"):
        rules.ask_question(game)
    with pytest.raises(TriviaError, match="no such game"):
        rules.ask_question(None)


def test_was_scored_says_whether_to_score_the_question_asked() -> None:
    game = asking("Ann")
    assert rules.was_scored(game, 0) is False
    scored, _ = rules.score_question(game)
    assert rules.was_scored(scored, 0) is True
    with pytest.raises(TriviaError, match="question 1 is not the question being asked"):
        rules.was_scored(game, 1)
    with pytest.raises(TriviaError, match="no such game"):
        rules.was_scored(None, 0)


def test_player_connections_need_no_game_item() -> None:
    items = asking("Ann", "Bob").to_items()
    assert rules.player_connections(items) == ["conn-ann", "conn-bob"]
    assert rules.player_connections(items[1:]) == ["conn-ann", "conn-bob"]
    assert rules.player_connections([]) == []
