"""joingame: join a game that has not started yet.

``{"action": "joingame", "gameid": "<id>"}`` (optionally ``"name"``) → every player of the
game, the newcomer included, gets the ``playerlist``. Joining an unknown or started game,
or joining twice, gets ``{"action": "error", "data": "<reason>"}``.

The player's item is written in a transaction with a check that the game still waits, so
a join racing the start either gets in before it or is refused.
"""

import connections
import games
import trivia_rules as rules
from trivia_rules import TriviaError


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, {"joingame": join_game}, errors=(TriviaError,))


def join_game(event: dict, user_id: str, message: dict) -> None:
    game_id = rules.game_id_in(message, "joingame")
    connection_id = event["requestContext"]["connectionId"]
    game = games.load(game_id)
    taken = [p.player_name for p in game.players] if game else []
    name = rules.choose_player_name(message.get("name"), taken=taken)
    joined = rules.join_game(game, connection_id, name)
    try:
        games.add_player(joined, joined.player(connection_id))
    except games.Conflict:
        # The game started, or this connection joined, since it was read: say which.
        rules.join_game(games.load(game_id), connection_id, name)
        raise
    games.send_player_lists(event, games.load(game_id))
