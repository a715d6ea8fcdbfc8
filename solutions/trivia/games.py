"""The trivia functions' I/O: the game table and the players' connections.

Every trivia function (the four routes and the state machine's tasks) imports this
module; the rules it applies are in the layer's ``trivia_rules.py``, the layout of the
table is documented there. Each write here is conditional, as the rules module says, so
that requests racing each other cannot both win; a write that loses raises
``Conflict``, and the caller reads the game again to learn why.

A player whose connection has gone (``GoneException``: the socket closed, maybe without
``$disconnect``) is dropped from a game in play the first time a broadcast reaches it:
its row is deleted, so it gets no more messages and leaves the scores. The broadcasts
that end a game keep the rows: by then they are the game's result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
import connections
import trivia_rules as rules
from boto3.dynamodb.conditions import Key
from trivia_rules import GAME_ROW, OVER, PLAYING, WAITING, Game, Player, TriviaError

__all__ = ["Conflict", "abort", "add_player", "announce_over", "broadcast", "create",
           "key", "load", "load_items", "mark_started", "record_answer", "save_position",
           "save_scores", "send_player_lists", "task_event"]

table = boto3.resource("dynamodb").Table(os.environ["GAMES_TABLE"])
# The table resource's client accepts plain Python values, as the table does.
dynamodb = table.meta.client
_NAMES = {"#phase": "phase", "#position": "position", "#scored": "scored"}


class Conflict(TriviaError):
    """A conditional write lost: the game changed since it was read.

    The handlers read the game again to tell the player why; should the rules find
    nothing wrong, the player reads this message instead of an internal error.
    """

    def __init__(self, message: str = "the game changed while your request was handled: "
                                      "try again") -> None:
        super().__init__(message)


def key(game_id: str, connection_id: str = GAME_ROW) -> dict[str, str]:
    return {"gameId": game_id, "connectionId": connection_id}


# -- reading -----------------------------------------------------------------------------

def load_items(game_id: str) -> list[dict[str, Any]]:
    """Every item of a game (its game item and one per player): one consistent Query."""
    request = {"KeyConditionExpression": Key("gameId").eq(game_id), "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def load(game_id: str) -> Game | None:
    """The game, or None if there is no such game."""
    return rules.game_from_items(load_items(game_id))


# -- writing -----------------------------------------------------------------------------

def _transact(writes: list[dict[str, Any]]) -> None:
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException:
        raise Conflict() from None


def _put_new(item: dict[str, Any]) -> dict[str, Any]:
    return {"Put": {"TableName": table.name, "Item": item,
                    "ConditionExpression": "attribute_not_exists(connectionId)"}}


def _game_is(game: Game, condition: str, values: dict[str, Any]) -> dict[str, Any]:
    """A ConditionCheck on the game item, with ``#phase``, ``#position``, ``#scored``."""
    used = {k: v for k, v in _NAMES.items() if k in condition}
    return {"ConditionCheck": {"TableName": table.name, "Key": key(game.game_id),
                               "ConditionExpression": condition,
                               "ExpressionAttributeNames": used,
                               "ExpressionAttributeValues": values}}


def create(game: Game) -> None:
    """Store a new game: its game item and its creator's item, both new."""
    _transact([_put_new(item) for item in game.to_items()])


def add_player(game: Game, player: Player) -> None:
    """Add a player's item, only while the game waits and only once per connection."""
    _transact([_game_is(game, "#phase = :waiting", {":waiting": WAITING}),
               _put_new(player.to_item(game.game_id))])


def mark_started(game: Game) -> None:
    """Flip a waiting game to playing with its questions: it starts once."""
    game_item = game.to_items()[0]
    try:
        table.update_item(
            Key=key(game.game_id),
            UpdateExpression="SET #phase = :playing, questions = :questions, "
                             "#position = :position, #scored = :scored",
            ConditionExpression="#phase = :waiting",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={":playing": PLAYING, ":waiting": WAITING,
                                       ":questions": game_item["questions"],
                                       ":position": game.position, ":scored": game.scored})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise Conflict() from None


def record_answer(game: Game, connection_id: str, question_id: str, answer: str) -> None:
    """Record one answer: once per player, only while ``question_id`` is asked unscored."""
    # BEGIN SOLUTION 5.3
    _transact([
        _game_is(game, "#phase = :playing AND #position = :position AND #scored = :no",
                 {":playing": PLAYING, ":position": game.position, ":no": False}),
        {"Update": {"TableName": table.name, "Key": key(game.game_id, connection_id),
                    "UpdateExpression": "SET answers.#question = :answer",
                    "ConditionExpression": "attribute_exists(connectionId) AND "
                                           "attribute_not_exists(answers.#question)",
                    "ExpressionAttributeNames": {"#question": question_id},
                    "ExpressionAttributeValues": {":answer": answer}}}])
    # STARTER
    # # Two conditions are missing: the game item still asks this question unscored
    # # (a ConditionCheck, see _game_is), and this player has no answer to it yet.
    # _transact([
    #     {"Update": {"TableName": table.name, "Key": key(game.game_id, connection_id),
    #                 "UpdateExpression": "SET answers.#question = :answer",
    #                 "ExpressionAttributeNames": {"#question": question_id},
    #                 "ExpressionAttributeValues": {":answer": answer}}}])
    # END SOLUTION


def save_position(before: Game, after: Game) -> None:
    """Move the game to its next question, if nothing else moved it meanwhile."""
    try:
        table.update_item(
            Key=key(after.game_id),
            UpdateExpression="SET #position = :position, #scored = :no",
            ConditionExpression="#phase = :playing AND #position = :before",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={":playing": PLAYING, ":position": after.position,
                                       ":before": before.position, ":no": False})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise Conflict() from None


def save_scores(before: Game, after: Game) -> None:
    """Write the scores of the question being asked, and mark it scored, at once.

    The transaction also checks that every player's answer is still the one read: an
    answer recorded after the read makes it fail (``Conflict``), and the caller scores
    again from a fresh read. A player deleted meanwhile (its connection gone) fails it too.
    """
    question = before.current_question
    names = {"#question": question.id}
    writes = [{"Update": {
        "TableName": table.name, "Key": key(before.game_id),
        "UpdateExpression": "SET #phase = :phase, #scored = :yes",
        "ConditionExpression": "#phase = :playing AND #position = :position AND #scored = :no",
        "ExpressionAttributeNames": _NAMES,
        "ExpressionAttributeValues": {":phase": after.phase, ":playing": PLAYING,
                                      ":position": before.position, ":yes": True,
                                      ":no": False}}}]
    for old, new in zip(before.players, after.players, strict=True):
        where = key(before.game_id, old.connection_id)
        answer = old.answers.get(question.id)
        if new.score != old.score:
            writes.append({"Update": {
                "TableName": table.name, "Key": where, "UpdateExpression": "SET score = :score",
                "ConditionExpression": "answers.#question = :answer",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":score": new.score, ":answer": answer}}})
        elif answer is None:  # an answer must not arrive unseen: check it still has none
            writes.append({"ConditionCheck": {
                "TableName": table.name, "Key": where,
                "ConditionExpression": "attribute_exists(connectionId) AND "
                                       "attribute_not_exists(answers.#question)",
                "ExpressionAttributeNames": names}})
    _transact(writes)


def _set_over(game_id: str, *, announced: bool) -> dict[str, Any] | None:
    """Mark the game over (and its end announced); the game item as it was before, or
    None if there is no game item (it is never created here)."""
    try:
        return table.update_item(
            Key=key(game_id),
            UpdateExpression="SET #phase = :over" + (", announced = :yes" if announced else ""),
            ConditionExpression="attribute_exists(connectionId)",
            ExpressionAttributeNames={"#phase": "phase"},
            ExpressionAttributeValues={":over": OVER, **({":yes": True} if announced else {})},
            ReturnValues="ALL_OLD")["Attributes"]
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None


def _announced(items: Iterable[dict[str, Any]]) -> bool:
    return any(i.get("connectionId") == GAME_ROW and i.get("announced") for i in items)


# -- messaging ---------------------------------------------------------------------------

def task_event() -> dict[str, Any]:
    """What ``connections.send`` needs of an event, for a state machine task.

    A route function answers through the API and stage its event came from; a task of
    the state machine has no WebSocket event, so template.yaml gives it the same
    ``https://{api}.execute-api.{region}.{url suffix}/{stage}`` as CONNECTIONS_URL.
    """
    url = urlsplit(os.environ["CONNECTIONS_URL"])
    return {"requestContext": {"domainName": url.netloc, "stage": url.path.strip("/")}}


def broadcast(event: dict, game_id: str, receivers: Iterable[str],
              message_for: Callable[[str], dict[str, Any]], *,
              drop_gone: bool = True) -> list[str]:
    """Send each receiver its message; drop the players whose connection has gone.

    Once a game is over its rows are its result, so the last broadcasts keep the rows of
    players who left (``drop_gone=False``). Returns the connections that got their message.
    """
    delivered = []
    for connection_id in receivers:
        if connections.send(event, connection_id, message_for(connection_id)):
            delivered.append(connection_id)
        elif drop_gone:
            table.delete_item(Key=key(game_id, connection_id))
            print(f"dropped player {connection_id} of game {game_id}: connection gone")
    return delivered


def send_player_lists(event: dict, game: Game) -> list[str]:
    """Everyone gets the player list, with ``currentPlayer`` on their own entry."""
    return broadcast(event, game.game_id, game.connection_ids,
                     lambda receiver: {"action": "playerlist",
                                       "players": rules.player_list(game, receiver)})


def announce_over(event: dict, game_id: str) -> None:
    """Tell the players the game is over, once. The end is recorded after the broadcast:
    a task that dies half way and runs again repeats ``gameover`` rather than lose it."""
    items = load_items(game_id)
    game = rules.game_from_items(items)
    if game is None:
        raise TriviaError(f"no such game: {game_id}")
    if _announced(items):
        return
    broadcast(event, game_id, game.connection_ids, lambda _: {"action": "gameover"},
              drop_gone=False)
    _set_over(game_id, announced=True)


def abort(event: dict, game_id: str, reason: str) -> None:
    """End a game that cannot go on: mark it over at once (answers are refused from then
    on), tell every player why, then ``gameover``. Works even if the game item is gone;
    players who were told the game is over already are not told again."""
    before = _set_over(game_id, announced=False)
    if before is not None and before.get("announced"):
        return
    receivers = rules.player_connections(load_items(game_id))
    for message in ({"action": "error", "data": reason}, {"action": "gameover"}):
        receivers = broadcast(event, game_id, receivers, lambda _, m=message: m,
                              drop_gone=False)
    if before is not None:
        _set_over(game_id, announced=True)
