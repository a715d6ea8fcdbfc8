"""Lab 5: trivia games run by Step Functions, played by real WebSocket players.

The session's cloud runs at a time scale of 0.01, so ``waitseconds`` 100 gives players
one real second to answer each question.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from labtools import TEMPLATE, Lobby, all_at_once, eventually

from workshop import lab
from workshop.emulator.template import load_template
from workshop.player import Player, close_all

BANK = {q["id"]: q for q in json.loads(
    (Path(__file__).resolve().parents[2] / "solutions" / "trivia" / "questions.json").read_text())}
ANSWER_WINDOW = 100  # waitseconds: 1 s of real time at the tests' time scale
# What the state machine sends may follow a cold start of its function on a busy machine.
FLOW = 15.0
UNKNOWN_GAME = "0123456789abcdef0123456789abcdef"
# How a test player answers a question: the option to send, or None to stay silent.
Strategy = Callable[[int, dict], "str | None"]


@pytest.fixture(scope="module")
def games_table(game: dict[str, str]) -> Any:
    return boto3.resource("dynamodb").Table(game["TriviaGamesTableName"])


@pytest.fixture(scope="module")
def machine(game: dict[str, str]) -> str:
    return game["TriviaStateMachineArn"]


# -- helpers -----------------------------------------------------------------------------

def items_of(games_table: Any, game_id: str) -> list[dict]:
    return games_table.query(KeyConditionExpression=Key("gameId").eq(game_id),
                             ConsistentRead=True)["Items"]


def row(games_table: Any, game_id: str, connection_id: str = "#game") -> dict | None:
    return games_table.get_item(Key={"gameId": game_id, "connectionId": connection_id},
                                ConsistentRead=True).get("Item")


def me(players_message: dict) -> str:
    """The receiver's own connection id, from a playerlist message."""
    (own,) = [p["connectionId"] for p in players_message["players"] if p["currentPlayer"]]
    return own


def new_game(player: Player, name: str | None = None) -> tuple[str, str]:
    """The game id the player created, and the player's connection id."""
    player.send("newgame", **({"name": name} if name else {}))
    game_id = player.wait_for("gamecreated")["gameId"]
    return game_id, me(player.wait_for("playerlist", timeout=FLOW))


def join(player: Player, game_id: str, others: list[Player], name: str | None = None) -> str:
    """Join a game; everyone already in it, and the newcomer, gets one new player list."""
    player.send("joingame", gameid=game_id, **({"name": name} if name else {}))
    connection_id = me(player.wait_for("playerlist", timeout=FLOW))
    for other in others:
        listed = other.wait_for("playerlist")["players"]
        assert connection_id in [p["connectionId"] for p in listed]
    return connection_id


def setup_game(players: list[Player]) -> tuple[str, dict[Player, str]]:
    """A game created by the first player and joined by the others; their connection ids."""
    game_id, first = new_game(players[0], players[0].name)
    ids = {players[0]: first}
    for index, player in enumerate(players[1:], start=1):
        ids[player] = join(player, game_id, players[:index], player.name)
    return game_id, ids


def execution_arn(machine: str, game_id: str) -> str:
    return machine.replace(":stateMachine:", ":execution:") + f":game-{game_id}"


def finished(machine: str, game_id: str, *, timeout: float = 30.0) -> dict:
    sfn = boto3.client("stepfunctions")

    def done() -> dict | None:
        execution = sfn.describe_execution(executionArn=execution_arn(machine, game_id))
        return execution if execution["status"] != "RUNNING" else None

    execution = eventually(done, timeout=timeout)
    assert execution, f"game {game_id} still running after {timeout} s"
    return execution


def history(machine: str, game_id: str) -> list[dict]:
    return boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn(machine, game_id), maxResults=1000)["events"]


def right(index: int, question: dict) -> str:
    return BANK[question["id"]]["answer"]


def wrong(index: int, question: dict) -> str:
    return next(o for o in question["options"] if o != BANK[question["id"]]["answer"])


def points(question: dict) -> int:
    return 1 + BANK[question["id"]].get("bonus", 0)


def warm_up(players: list[Player]) -> None:
    """Have as many answer functions running as there are players: a cold start under a
    loaded machine could take longer than a test's answer window."""
    all_at_once(players, "answer", gameid=UNKNOWN_GAME, questionid="q01", answer="x")
    for player in players:
        assert player.wait_for("error")["data"] == "no such game"


def play(players: list[Player], ids: dict[Player, str], game_id: str, *, count: int,
         strategy: dict[Player, Strategy]) -> dict[str, int]:
    """Start the game and play every question as ``strategy`` says; the final scores.

    Checks on the way that everyone gets every question (never its answer) and, after
    each wait, scores that add up exactly to the correct answers given.
    """
    warm_up(players)
    players[0].send("startgame", gameid=game_id, waitseconds=ANSWER_WINDOW,
                    questioncount=count)
    for player in players:
        assert player.wait_for("gamestarted") == {"action": "gamestarted"}
    expected = dict.fromkeys(ids.values(), 0)
    warmed = [{"action": "error", "data": "no such game"}]
    asked: list[str] = []
    for index in range(count):
        questions = [player.wait_for("question", timeout=FLOW)["question"] for player in players]
        assert all(q == questions[0] for q in questions)
        question = questions[0]
        assert set(question) == {"id", "question", "options"}
        assert question["options"] == BANK[question["id"]]["options"]
        asked.append(question["id"])
        for player in players:
            choice = strategy[player](index, question)
            if choice is not None:
                player.send("answer", gameid=game_id, questionid=question["id"], answer=choice)
                if choice == BANK[question["id"]]["answer"]:
                    expected[ids[player]] += points(question)
        for player in players:
            scores = player.wait_for("playerlist", timeout=FLOW)["players"]
            assert player.messages("error") == warmed, f"{player.name}'s answer was refused"
            assert {p["connectionId"]: p["score"] for p in scores} == expected
            assert me({"players": scores}) == ids[player]
    assert len(set(asked)) == count
    for player in players:
        player.wait_for("gameover", timeout=FLOW)
    return expected


def assert_game_over_once(players: list[Player], machine: str, game_id: str) -> dict:
    execution = finished(machine, game_id)
    eventually(lambda: False, timeout=0.2)  # anything sent twice would arrive meanwhile
    for player in players:
        assert len(player.messages("gameover")) == 1
    return execution


# -- whole games -------------------------------------------------------------------------

def test_a_two_player_game(lobby: Lobby, games_table: Any, machine: str) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    game_id, ids = setup_game([ann, bob])
    scores = play([ann, bob], ids, game_id, count=3, strategy={ann: right, bob: wrong})
    assert scores[ids[bob]] == 0 and scores[ids[ann]] >= 3
    execution = assert_game_over_once([ann, bob], machine, game_id)
    assert execution["status"] == "SUCCEEDED"
    # The execution carries the game id and the wait, never the questions or answers.
    assert json.loads(execution["input"]) == {"gameid": game_id, "waitseconds": ANSWER_WINDOW}
    events = json.dumps(history(machine, game_id), default=str)
    assert '\\"answer\\"' not in events and '"answer"' not in events
    assert not any(BANK[q]["question"] in events for q in BANK)
    game_row = row(games_table, game_id)
    assert game_row["phase"] == "over" and game_row["announced"] is True
    assert row(games_table, game_id, ids[ann])["score"] == scores[ids[ann]]
    assert row(games_table, game_id, ids[bob])["score"] == 0


def test_a_game_alone(lobby: Lobby, machine: str) -> None:
    solo = lobby.player("solo")
    game_id, ids = setup_game([solo])
    play([solo], ids, game_id, count=2, strategy={solo: right})
    assert assert_game_over_once([solo], machine, game_id)["status"] == "SUCCEEDED"


def test_eight_players_each_get_every_question(lobby: Lobby, games_table: Any,
                                               machine: str) -> None:
    players = lobby.crowd(8)
    game_id, ids = setup_game(players)

    def sometimes(offset: int) -> Strategy:
        # Right, wrong or silent, differently for each player and question.
        return lambda index, question: (right, wrong, lambda *_: None)[
            (index + offset) % 3](index, question)

    strategy = {player: sometimes(n) for n, player in enumerate(players)}
    scores = play(players, ids, game_id, count=2, strategy=strategy)
    assert_game_over_once(players, machine, game_id)
    for player in players:
        assert len(player.messages("question")) == 2
        assert row(games_table, game_id, ids[player])["score"] == scores[ids[player]]


def test_a_player_who_disconnects_is_dropped_and_the_game_goes_on(
        lobby: Lobby, games_table: Any, machine: str) -> None:
    ann, bob, cy = lobby.player("ann"), lobby.player("bob"), lobby.player("cy")
    game_id, ids = setup_game([ann, bob, cy])
    ann.send("startgame", gameid=game_id, waitseconds=ANSWER_WINDOW, questioncount=3)
    for player in (ann, bob, cy):
        question = player.wait_for("question", timeout=FLOW)["question"]
        player.send("answer", gameid=game_id, questionid=question["id"],
                    answer=right(0, question))
    bob.close()  # before the first scores: sending them to bob finds the connection gone
    for player in (ann, cy):
        assert len(player.wait_for("playerlist", timeout=FLOW)["players"]) == 3
    remaining = {ids[ann], ids[cy]}
    for _ in range(2):
        for player in (ann, cy):
            player.wait_for("question", timeout=FLOW)
        for player in (ann, cy):
            listed = player.wait_for("playerlist", timeout=FLOW)["players"]
            assert {p["connectionId"] for p in listed} == remaining
    for player in (ann, cy):
        player.wait_for("gameover", timeout=FLOW)
    assert finished(machine, game_id)["status"] == "SUCCEEDED"
    assert row(games_table, game_id, ids[bob]) is None
    assert {i["connectionId"] for i in items_of(games_table, game_id)} == remaining | {"#game"}


# -- answers -----------------------------------------------------------------------------

def at_once(player: Player, times: int, action: str, **fields: Any) -> None:
    """Send the same message ``times`` times from one player at the same instant."""
    barrier = threading.Barrier(times)

    def send() -> None:
        barrier.wait()
        player.send(action, **fields)

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def started(players: list[Player], *, count: int = 2) -> tuple[str, dict[Player, str], dict]:
    """A game of these players, started and asking its first question."""
    game_id, ids = setup_game(players)
    players[0].send("startgame", gameid=game_id, waitseconds=ANSWER_WINDOW, questioncount=count)
    questions = [player.wait_for("question", timeout=FLOW)["question"] for player in players]
    return game_id, ids, questions[0]


def refused(player: Player, reason: str, action: str, **fields: Any) -> None:
    player.send(action, **fields)
    assert player.wait_for("error") == {"action": "error", "data": reason}
    assert player.connected


def test_answers_sent_at_once_count_once(lobby: Lobby, games_table: Any) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    game_id, ids, question = started([ann, bob], count=1)
    at_once(ann, 6, "answer", gameid=game_id, questionid=question["id"],
            answer=right(0, question))
    for _ in range(5):
        assert ann.wait_for("error")["data"] == "you have already answered this question"
    assert row(games_table, game_id, ids[ann])["answers"] == {question["id"]: right(0, question)}
    listed = ann.wait_for("playerlist", timeout=FLOW)["players"]
    scores = {p["connectionId"]: p["score"] for p in listed}
    assert scores == {ids[ann]: points(question), ids[bob]: 0}
    assert len(ann.messages("error")) == 5


def test_wrong_late_and_unknown_answers_are_refused(lobby: Lobby, games_table: Any,
                                                    machine: str) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    game_id, ids, first = started([ann, bob])
    before = items_of(games_table, game_id)
    refused(ann, "question 'q999' is not the question being asked", "answer",
            gameid=game_id, questionid="q999", answer=first["options"][0])
    refused(ann, "'nope' is not one of the options", "answer",
            gameid=game_id, questionid=first["id"], answer="nope")
    refused(ann, "4 is not one of the options", "answer",
            gameid=game_id, questionid=first["id"], answer=4)
    assert items_of(games_table, game_id) == before
    # Scored and moved on: an answer to the first question is too late.
    second = ann.wait_for("question", timeout=FLOW)["question"]
    bob.wait_for("question", timeout=FLOW)
    refused(bob, f"question {first['id']!r} is not the question being asked", "answer",
            gameid=game_id, questionid=first["id"], answer=right(0, first))
    # After the last scoring the game is over: nothing is recorded any more.
    ann.wait_for("gameover", timeout=FLOW)
    refused(ann, "the game is over", "answer", gameid=game_id, questionid=second["id"],
            answer=right(1, second))
    finished(machine, game_id)
    assert all(item.get("answers", {}) == {} for item in items_of(games_table, game_id))
    assert row(games_table, game_id, ids[bob])["score"] == 0


# -- bad input on every route ------------------------------------------------------------

BAD_FIELDS = [
    ("newgame", {"name": 42}, '"name" must be a string, not 42'),
    ("newgame", {"name": "  "}, "a player needs a name"),
    ("newgame", {"name": "x" * 25}, "a name has at most 24 characters"),
    ("joingame", {}, 'joingame needs a "gameid"'),
    ("joingame", {"gameid": 42}, '"gameid" must be a string, not 42'),
    ("joingame", {"gameid": "nope"}, "no such game: 'nope'"),
    ("joingame", {"gameid": UNKNOWN_GAME}, "no such game"),
    ("startgame", {}, 'startgame needs a "gameid"'),
    ("startgame", {"gameid": None}, '"gameid" must be a string, not None'),
    ("startgame", {"gameid": UNKNOWN_GAME}, "no such game"),
    ("answer", {"questionid": "q01", "answer": "x"}, 'answer needs a "gameid"'),
    ("answer", {"gameid": UNKNOWN_GAME, "answer": "x"}, 'answer needs a "questionid"'),
    ("answer", {"gameid": UNKNOWN_GAME, "questionid": "q01"}, 'answer needs an "answer"'),
    ("answer", {"gameid": UNKNOWN_GAME, "questionid": "q01", "answer": "x"}, "no such game"),
]


@pytest.mark.parametrize(("action", "fields", "reason"), BAD_FIELDS,
                         ids=[f"{a}-{r}" for a, _, r in BAD_FIELDS])
def test_bad_requests_are_refused(lobby: Lobby, games_table: Any, action: str, fields: dict,
                                  reason: str) -> None:
    ann = lobby.player("ann")
    refused(ann, reason, action, **fields)
    assert row(games_table, UNKNOWN_GAME) is None
    assert ann.messages("gamecreated") == []


@pytest.mark.parametrize("action", ["newgame", "joingame", "startgame", "answer"])
def test_malformed_json_is_refused(lobby: Lobby, action: str) -> None:
    ann = lobby.player("ann")
    ann.send_raw(json.dumps({"action": action, "gameid": UNKNOWN_GAME})[:-1])  # no "}"
    assert ann.wait_for("error") == {"action": "error", "data": "the message is not JSON"}
    assert ann.connected


@pytest.mark.parametrize(("fields", "reason"), [
    ({"waitseconds": "10"}, "\"waitseconds\" must be a whole number, not '10'"),
    ({"waitseconds": 1.5}, '"waitseconds" must be a whole number, not 1.5'),
    ({"waitseconds": True}, '"waitseconds" must be a whole number, not True'),
    ({"waitseconds": 0}, '"waitseconds" must be between 1 and 300, not 0'),
    ({"waitseconds": 301}, '"waitseconds" must be between 1 and 300, not 301'),
    ({"questioncount": 0}, '"questioncount" must be between 1 and 20, not 0'),
    ({"questioncount": 21}, '"questioncount" must be between 1 and 20, not 21'),
    ({"questioncount": None}, '"questioncount" must be a whole number, not None'),
])
def test_bad_start_options_leave_the_game_waiting(lobby: Lobby, games_table: Any,
                                                  fields: dict, reason: str) -> None:
    ann = lobby.player("ann")
    game_id, _ = new_game(ann)
    before = items_of(games_table, game_id)
    refused(ann, reason, "startgame", gameid=game_id, **fields)
    assert items_of(games_table, game_id) == before
    assert ann.messages("gamestarted") == []


def test_joining_and_starting_out_of_turn(lobby: Lobby, games_table: Any, machine: str) -> None:
    ann, bob, eve = lobby.player("ann"), lobby.player("bob"), lobby.player("eve")
    game_id, ids = setup_game([ann, bob])
    before = items_of(games_table, game_id)
    refused(bob, "you are already in this game", "joingame", gameid=game_id)
    refused(eve, "you are not in this game", "startgame", gameid=game_id)
    refused(eve, "you are not in this game", "answer", gameid=game_id, questionid="q01",
            answer="x")
    refused(ann, "the game has not started yet", "answer", gameid=game_id, questionid="q01",
            answer="x")
    assert items_of(games_table, game_id) == before
    # Both players start at the same moment: the game starts once.
    refusals = {player: len(player.messages("error")) for player in (ann, bob)}
    barrier = threading.Barrier(2)

    def start(player: Player) -> None:
        barrier.wait()
        player.send("startgame", gameid=game_id, waitseconds=1, questioncount=1)

    threads = [threading.Thread(target=start, args=(p,)) for p in (ann, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loser = eventually(lambda: next((p for p in (ann, bob)
                                     if len(p.messages("error")) > refusals[p]), None))
    assert loser.wait_for("error")["data"] == "the game has already started"
    refused(eve, "the game has already started", "joingame", gameid=game_id)
    refused(ann, "the game has already started", "startgame", gameid=game_id)
    for player in (ann, bob):
        player.wait_for("gameover", timeout=FLOW)
    assert_game_over_once([ann, bob], machine, game_id)
    for player in (ann, bob):
        assert len(player.messages("gamestarted")) == 1
    assert {i["connectionId"] for i in items_of(games_table, game_id)} == {
        "#game", ids[ann], ids[bob]}


# -- tasks run again, as a Retry would run them -------------------------------------------

def invoke(function_name: str, payload: dict) -> dict:
    reply = boto3.client("lambda").invoke(FunctionName=function_name,
                                          Payload=json.dumps(payload).encode())
    assert "FunctionError" not in reply, reply["Payload"].read()
    return json.loads(reply["Payload"].read())


def test_tasks_run_twice_neither_skip_nor_count_twice(lobby: Lobby, games_table: Any,
                                                      game: dict[str, str],
                                                      machine: str) -> None:
    ann = lobby.player("ann")
    game_id, ids = setup_game([ann])
    ann.send("startgame", gameid=game_id, waitseconds=200, questioncount=1)
    question = ann.wait_for("question", timeout=FLOW)["question"]
    ann.send("answer", gameid=game_id, questionid=question["id"], answer=right(0, question))
    # Asked again before the scoring: the same question, not the next one.
    asked = invoke(game["TriviaQuestionFunctionName"], {"gameid": game_id})
    assert asked == {"position": 0, "questionid": question["id"]}
    assert ann.wait_for("question", timeout=FLOW)["question"] == question
    eventually(lambda: row(games_table, game_id, ids[ann])["answers"])
    # Scored early by hand, then by the state machine after its wait: counted once.
    scored = invoke(game["TriviaScoresFunctionName"], {"gameid": game_id, "position": 0})
    assert scored == {"position": 0, "more": False}
    ann.wait_for("gameover", timeout=FLOW)
    assert finished(machine, game_id)["status"] == "SUCCEEDED"
    lists = ann.messages("playerlist")[1:]              # after the one of newgame
    assert [entry["players"][0]["score"] for entry in lists] == [points(question)] * 2
    assert row(games_table, game_id, ids[ann])["score"] == points(question)
    # The game over announced again: nothing more is sent.
    invoke(game["TriviaGameOverFunctionName"], {"gameid": game_id})
    assert_game_over_once([ann], machine, game_id)


# -- the Catch path ----------------------------------------------------------------------

def test_a_failing_task_ends_the_game_and_tells_the_players(lobby: Lobby, games_table: Any,
                                                            machine: str) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    game_id, _ids, _question = started([ann, bob], count=3)
    # The game item vanishes while the players think: ScoreAnswers cannot score.
    games_table.delete_item(Key={"gameId": game_id, "connectionId": "#game"})
    for player in (ann, bob):
        assert player.wait_for("error", timeout=FLOW)["data"] == (
            "the game stopped: a server task failed (TriviaError)")
        player.wait_for("gameover", timeout=FLOW)
    execution = assert_game_over_once([ann, bob], machine, game_id)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "TriviaGameFailed"
    entered = [e["stateEnteredEventDetails"]["name"] for e in history(machine, game_id)
               if "stateEnteredEventDetails" in e]
    assert entered == ["AskQuestion", "WaitForAnswers", "ScoreAnswers", "EndGameAfterError",
                       "GameFailed"]
    for player in (ann, bob):
        assert len(player.messages("question")) == 1


def test_a_game_that_ends_keeps_the_rows_of_players_who_left(lobby: Lobby, games_table: Any,
                                                            machine: str) -> None:
    ann, bob = lobby.player("ann"), lobby.player("bob")
    game_id, ids, _question = started([ann, bob], count=2)
    bob.close()
    # The game item vanishes: the game ends through the Catch, telling whoever is left.
    games_table.delete_item(Key={"gameId": game_id, "connectionId": "#game"})
    ann.wait_for("gameover", timeout=FLOW)
    assert finished(machine, game_id)["status"] == "FAILED"
    # Bob's connection was gone when the end was announced; his row is the game's result.
    assert row(games_table, game_id, ids[bob]) is not None


def test_the_definition_retries_and_catches_every_task() -> None:
    definition = json.loads((Path(__file__).resolve().parents[2] / "solutions" /
                             "statemachines" / "trivia.asl.json").read_text())
    tasks = {name: state for name, state in definition["States"].items()
             if state["Type"] == "Task"}
    assert set(tasks) == {"AskQuestion", "ScoreAnswers", "AnnounceGameOver",
                          "EndGameAfterError"}
    for name, state in tasks.items():
        (retry,) = state["Retry"]
        assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"], name
        assert "States.ALL" not in retry["ErrorEquals"], name   # a bug is not retried
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        target = "GameFailed" if name == "EndGameAfterError" else "EndGameAfterError"
        assert catch["Next"] == target, name


# -- the lab's slice of template.yaml ----------------------------------------------------

def test_lab_5_is_sliced_apart_from_lab_4() -> None:
    body = load_template(TEMPLATE).body
    trivia = {name for name, spec in body["Resources"].items() if lab.lab_of(spec) == 5}
    assert {"TriviaGamesTable", "TriviaStateMachine", "TriviaStartGameFunction"} <= trivia
    assert all(name.startswith("Trivia") for name in trivia)
    lab4, lab5 = lab.select(body, 4), lab.select(body, 5)
    assert not trivia & set(lab4["Resources"])
    assert not any(name.startswith("Trivia") for name in lab4.get("Outputs", {}))
    assert trivia <= set(lab5["Resources"])
    assert {"TriviaGamesTableName", "TriviaStateMachineArn"} <= set(lab5["Outputs"])
    assert all(lab.lab_of(body["Resources"][name]) <= 5 for name in lab5["Resources"])


@pytest.fixture(scope="module")
def unstartable(cloud: dict) -> dict[str, str]:
    """Lab 5 as its own stack, whose start function names a state machine that is not there."""
    variables = {"CONNECTIONS_TABLE": {"Ref": "ConnectionsTable"},
                 "GAMES_TABLE": {"Ref": "TriviaGamesTable"},
                 "STATE_MACHINE_ARN": {"Fn::Sub": "${TriviaStateMachine}-gone"},
                 "WAIT_SECONDS": "10", "QUESTIONS_PER_GAME": "2"}
    report = lab.deploy(5, stack_name="trivia-unstartable", target="local", override={
        "TriviaStartGameFunction": {"Environment": {"Variables": variables}}})
    return report["outputs"]


def test_a_game_whose_execution_cannot_start_is_ended_and_the_players_told(
        unstartable: dict[str, str]) -> None:
    lobby = Lobby(unstartable["WebSocketURL"])
    try:
        ann, bob = lobby.player("ann"), lobby.player("bob")
        game_id, _ids = setup_game([ann, bob])
        ann.send("startgame", gameid=game_id)
        for player in (ann, bob):
            player.wait_for("gamestarted", timeout=FLOW)
            assert player.wait_for("error", timeout=FLOW)["data"] == (
                "the game could not start: try a new game")
            player.wait_for("gameover", timeout=FLOW)
        table = boto3.resource("dynamodb").Table(unstartable["TriviaGamesTableName"])
        assert row(table, game_id)["phase"] == "over"
        # Over means over: a second start and an answer are refused, and nobody hears more.
        refused(bob, "the game has already started", "startgame", gameid=game_id)
        assert [len(p.messages("gameover")) for p in (ann, bob)] == [1, 1]
        assert not ann.messages("question")
    finally:
        close_all(lobby.players)
