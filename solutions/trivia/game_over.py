"""The state machine's last task: tell the players the game is over.

Input ``{"gameid"}`` after the last question was scored: every player gets
``{"action": "gameover"}``, once. Input ``{"gameid", "error": "<error name>"}`` on the
Catch path, after a task failed for good: the game is marked over and every player still
in it gets ``{"action": "error", "data": "the game stopped: ..."}`` then
``{"action": "gameover"}``; this works even if the game item itself is gone.
"""

import games


def handler(event: dict, context: object) -> dict:
    game_id, error = event["gameid"], event.get("error")
    if error is not None:
        games.abort(games.task_event(), game_id,
                    f"the game stopped: a server task failed ({error})")
        return {"aborted": True}
    games.announce_over(games.task_event(), game_id)
    return {"aborted": False}
