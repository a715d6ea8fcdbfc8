"""The state machine's AskQuestion task: send every player the next question.

Input ``{"gameid"}``; output ``{"position", "questionid"}`` (the state machine passes
``position`` to the ScoreAnswers task). Players get
``{"action": "question", "question": {"id", "question", "options"}}``, never the answer.
Run again before the question is scored (a Retry), it sends the same question again
rather than skip one.
"""

import games
import trivia_rules as rules


def handler(event: dict, context: object) -> dict:
    game_id = event["gameid"]
    before = games.load(game_id)
    game, question = rules.ask_question(before)
    if game.position != before.position:
        games.save_position(before, game)
    view = rules.public_question(question)
    games.broadcast(games.task_event(), game_id, game.connection_ids,
                    lambda _: {"action": "question", "question": view})
    return {"position": game.position, "questionid": question.id}
