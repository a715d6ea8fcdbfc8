"""startgame: choose the questions and hand the game to the state machine.

``{"action": "startgame", "gameid": "<id>"}`` (optionally ``"waitseconds"``, 1-300, and
``"questioncount"``, 1-20) → every player gets ``{"action": "gamestarted"}``, then the
state machine asks the questions. Only a player of the game may start it, and only once;
anything else gets ``{"action": "error", "data": "<reason>"}``.

The chosen questions, answers included, are written to the game item; the execution's
input is only ``{"gameid", "waitseconds"}``, so answers never show in the execution
history. The execution is named ``game-<gameid>``: Step Functions too refuses a second.
"""

import json
import os
from pathlib import Path

import boto3
import connections
import games
import trivia_rules as rules
from botocore.exceptions import ClientError
from trivia_rules import TriviaError

BANK = rules.parse_bank(json.loads((Path(__file__).parent / "questions.json").read_text()))
WAIT_SECONDS = int(os.environ.get("WAIT_SECONDS", "10"))
QUESTIONS_PER_GAME = int(os.environ.get("QUESTIONS_PER_GAME", "5"))
stepfunctions = boto3.client("stepfunctions")


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, {"startgame": start_game}, errors=(TriviaError,))


def start_game(event: dict, user_id: str, message: dict) -> None:
    game_id = rules.game_id_in(message, "startgame")
    wait_seconds, count = rules.start_options(message, default_wait=WAIT_SECONDS,
                                              default_count=QUESTIONS_PER_GAME)
    connection_id = event["requestContext"]["connectionId"]
    game = games.load(game_id)
    started = rules.start_game(game, rules.choose_questions(BANK, count), by=connection_id)
    try:
        games.mark_started(started)
    except games.Conflict:
        raise TriviaError("the game has already started") from None
    # Everyone hears "gamestarted" before the state machine can send the first question.
    games.broadcast(event, game_id, started.connection_ids, lambda _: {"action": "gamestarted"})
    # BEGIN SOLUTION 5.1
    try:
        stepfunctions.start_execution(
            stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=f"game-{game_id}",
            input=json.dumps({"gameid": game_id, "waitseconds": wait_seconds}))
    except ClientError as error:
        print(f"could not start the state machine for game {game_id}: {error}")
        games.abort(event, game_id, "the game could not start: try a new game")
    # STARTER
    # # Start this game's execution of the state machine (STATE_MACHINE_ARN) here:
    # # named game-<game_id>, with the input {"gameid", "waitseconds"} and nothing else.
    # print(f"game {game_id} started, but no state machine runs it yet")
    # END SOLUTION
