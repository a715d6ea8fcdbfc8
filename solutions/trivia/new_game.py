"""newgame: create a game whose first player is the sender.

``{"action": "newgame"}`` (optionally ``"name": "Ann"``; without one the player is named
after a colour) → the sender gets ``{"action": "gamecreated", "gameId": "<32 hex>"}`` and
``{"action": "playerlist", "players": [...]}``; a bad name gets
``{"action": "error", "data": "<reason>"}``.
"""

import connections
import games
import trivia_rules as rules
from trivia_rules import TriviaError


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, {"newgame": new_game}, errors=(TriviaError,))


def new_game(event: dict, user_id: str, message: dict) -> None:
    connection_id = event["requestContext"]["connectionId"]
    name = rules.choose_player_name(message.get("name"))
    game = rules.create_game(rules.new_game_id(), connection_id, name)
    games.create(game)
    connections.reply(event, {"action": "gamecreated", "gameId": game.game_id})
    games.send_player_lists(event, game)
