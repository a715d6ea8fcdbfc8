"""The state machine's ScoreAnswers task: score the question asked, send the scores.

Input ``{"gameid", "position"}``; output ``{"position", "more"}``, where ``more`` says
whether another question follows (the Choice state loops on it). Every player gets the
``playerlist`` with the new scores. Scoring is one transaction that fails if an answer
arrived after the game was read; it is then scored again from a fresh read. Run again
after it succeeded (a Retry), it writes nothing and sends the scores again.
"""

import games
import trivia_rules as rules

# Each player can invalidate a read at most once (one answer, or its row deleted), so
# this many attempts are only exhausted by a game changing in ways the rules forbid.
ATTEMPTS = rules.MAX_PLAYERS + 3


def handler(event: dict, context: object) -> dict:
    game_id, position = event["gameid"], event["position"]
    for _ in range(ATTEMPTS):
        game = games.load(game_id)
        if rules.was_scored(game, position):
            break
        scored, _scores = rules.score_question(game)
        try:
            games.save_scores(game, scored)
        except games.Conflict:
            continue
        game = scored
        break
    else:
        raise games.Conflict(f"game {game_id} kept changing while question {position} "
                             "was scored")
    games.send_player_lists(games.task_event(), game)
    return {"position": position, "more": game.has_next_question}
