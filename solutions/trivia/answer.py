"""answer: a player's answer to the question being asked.

``{"action": "answer", "gameid": "<id>", "questionid": "q07", "answer": "<option>"}``
records the answer; it counts only for the question being asked, once per player, and
only until that question is scored (the scores, sent after the wait, show whether it was
right). Anything else gets ``{"action": "error", "data": "<reason>"}`` and records nothing.

The write is a transaction: the answer is set only if the player has none for that
question, and only if the game item still asks that question unscored. Two answers sent
at once cannot both count, and none slips in after the scoring.
"""

import connections
import games
import trivia_rules as rules
from trivia_rules import TriviaError


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, {"answer": answer}, errors=(TriviaError,))


def answer(event: dict, user_id: str, message: dict) -> None:
    game_id = rules.game_id_in(message, "answer")
    question_id = rules.required(message, "questionid", "answer")
    choice = rules.required(message, "answer", "answer")
    connection_id = event["requestContext"]["connectionId"]
    game = games.load(game_id)
    rules.accept_answer(game, connection_id, question_id, choice)
    try:
        games.record_answer(game, connection_id, question_id, choice)
    except games.Conflict:
        # Scored, or answered by a message sent at the same moment: read why.
        print(f"answer of {connection_id} to {question_id} refused by the write's condition")
        rules.accept_answer(games.load(game_id), connection_id, question_id, choice)
        raise
