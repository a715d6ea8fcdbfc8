"""Lab 3's exercises: a naive join, the race-free join, and leaving in one transaction.

The checks play matchmaking the way players do: they connect bots to the learner's
API, send ``joinroom`` / ``exitroom`` and judge what each player was told (with
:mod:`~workshop.notebook.matchmaking_report`), and compare it with the rooms table.

3.1 judges the learner's naive version (``naive.handler``): the check deploys the lab
with that handler for the moment, then deploys it back as the template says.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import boto3

from ..notebook.checks import Check, eventually, verdict
from ..notebook.crowd import Crowd
from ..notebook.matchmaking_report import MatchReport, report
from ..player import Player, close_all
from .catalog import Exercise
from .runner import Deployment, deploy

__all__ = ["EXERCISES", "NAIVE", "RUSH"]

NAIVE = {"RoomManagerFunction": {"Handler": "naive.handler"}}
RUSH = 40                   # players joining at once; even, so everyone can be matched


def _rooms(deployment: Deployment) -> Any:
    return boto3.resource("dynamodb").Table(deployment.output("RoomsTableName"))


def _players(deployment: Deployment, exercise: str, names: list[str]) -> list[Player]:
    run = secrets.token_hex(2)
    return [Player(deployment.url, user_id=f"check-{exercise}-{run}-{name}") for name in names]


def _answered(player: Player) -> bool:
    """The player got its joinroom reply, an error, or API Gateway's own error frame."""
    return bool(player.messages("joinroom") or player.messages("error")
                or any("action" not in message for message in player.inbox))


def _say(player: Player, action: str, *, timeout: float = 5.0) -> dict[str, Any] | None:
    """Send ``action``; the reply to it (same action or error), or None after ``timeout``."""
    before = len(player.inbox)

    def reply() -> dict[str, Any] | None:
        for message in player.inbox[before:]:
            if message.get("action") in (action, "error") or "action" not in message:
                return message
        return None

    player.send(action)
    return eventually(reply, timeout=timeout)


def _quiet(players: list[Player], *, settle: float = 0.3, timeout: float = 3.0) -> None:
    """Wait until no message has arrived for ``settle`` seconds (opponents are announced
    a moment after the room)."""
    deadline, seen, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = sum(len(player.inbox) for player in players)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= settle:
            return
        time.sleep(0.05)


def _one_by_one(players: list[Player]) -> MatchReport:
    for player in players:
        _say(player, "joinroom")
        _quiet(players)
    return report(players)


def _described(result: MatchReport) -> str:
    errors = [f"{row.user_id}: {row.errors}" for row in result.players.itertuples() if row.errors]
    problems = "; ".join(result.problems())
    return problems + (f" (first error: {errors[0]})" if errors else "")


@contextlib.contextmanager
def _naive_deployed(deployment: Deployment) -> Iterator[Deployment]:
    """The lab with RoomManagerFunction running ``naive.handler``, for the block."""
    stack = deployment.report.get("stack_name", "workshop")
    options = {"workspace": deployment.workspace, "target": deployment.target,
               "stack_name": stack}
    try:
        yield deploy(3, override=NAIVE, **options)
    finally:
        deploy(3, **options)


def naive_join(deployment: Deployment) -> Check:
    with _naive_deployed(deployment) as naive:
        # A clean lobby: rooms left in the list by earlier runs have nobody waiting in them.
        _rooms(naive).delete_item(Key={"pk": "available_rooms"})
        players = _players(naive, "3-1", ["ann", "bob", "cat", "dan"])
        try:
            result = _one_by_one(players)
        finally:
            close_all(players)
    if result.count("matched") == 2 and not result.problems():
        return verdict(True, "four players joining one after the other were matched two by "
                             "two by your naive.py (one at a time, it works)", "")
    if result.count("failed"):
        return verdict(False, "", f"joining crashed: {_described(result)}. Look at "
                                  "RoomManagerFunction's log")
    rooms = list(result.rooms["room"])
    if result.count("stranded") == len(players):
        return verdict(False, "", f"four players joining one after the other each got a room "
                                  f"of their own ({', '.join(rooms)}): when "
                                  "read_available_rooms() lists a waiting room, join it")
    return verdict(False, "", f"four players joining one after the other: {_described(result)}")


def _stored_players(deployment: Deployment, room_name: str) -> list[str]:
    item = _rooms(deployment).get_item(Key={"pk": f"room#{room_name}"},
                                       ConsistentRead=True).get("Item") or {}
    return sorted(item.get("players_in_room") or [])


def race_free_join(deployment: Deployment) -> Check:
    players = _players(deployment, "3-2", ["ann", "bob", "cat", "dan"])
    try:
        alone = _one_by_one(players)
    finally:
        close_all(players)
    if alone.count("matched") != 2 or alone.problems():
        rooms = ", ".join(sorted(set(alone.rooms["room"])))
        if alone.count("mismatched") or alone.count("crowded"):
            return verdict(False, "", f"four players joining one after the other were put in "
                                      f"{rooms}, but not two by two: {_described(alone)}. "
                                      "Each player needs a ticket of its own, and the room "
                                      "write must return who is in it")
        return verdict(False, "", f"four players joining one after the other: "
                                  f"{_described(alone)}")
    with Crowd(deployment.url, RUSH, name="check-3-2-rush", progress=False) as crowd:
        rush = crowd.join_rooms()
    if rush.problems() or rush.count("matched") != RUSH // 2:
        return verdict(False, "", f"{RUSH} players joining at the same moment: "
                                  f"{_described(rush)}. Two joins running at once must not "
                                  "read, decide and write back: let each write decide")
    for row in rush.rooms.itertuples():
        stored = _stored_players(deployment, row.room)
        if stored != sorted(row.players.split(", ")):
            return verdict(False, "", f"{row.players} were told they share {row.room}, but "
                                      f"the rooms table lists {stored or 'nobody'} there")
    return verdict(True, f"one at a time and in a rush of {RUSH} at once, every player was "
                         "matched exactly once, and the rooms table agrees", "")


def _waiting_player(deployment: Deployment) -> tuple[Player, str] | Check:
    """A player alone in a fresh room (a second try if a leftover player was waiting)."""
    for attempt in range(2):
        [player] = _players(deployment, "3-3", [f"dave{attempt}"])
        answer = _say(player, "joinroom")
        _quiet([player])
        if answer is None or answer.get("action") != "joinroom":
            player.close()
            return verdict(False, "", f"a player's joinroom got {answer or 'no answer'}: "
                                      "do exercise 3.2 first")
        if not player.messages("peer_player_id"):
            return player, answer["data"]
        player.close()          # it met someone left waiting earlier: try again
    return verdict(False, "", "joining players were matched at once, twice: do 3.2 first")


def leave_in_one_transaction(deployment: Deployment) -> Check:
    waiting = _waiting_player(deployment)
    if isinstance(waiting, Check):
        return waiting
    dave, room_name = waiting
    erin, frank = _players(deployment, "3-3", ["erin", "frank"])
    try:
        return _judge_leaving(deployment, dave, erin, frank, room_name)
    finally:
        close_all([dave, erin, frank])


def _judge_leaving(deployment: Deployment, dave: Player, erin: Player, frank: Player,
                   room_name: str) -> Check:
    left = _say(dave, "exitroom")
    if not left or left.get("action") != "exitroom":
        return verdict(False, "", f"dave waited alone in {room_name}, sent exitroom and got "
                                  f"{left or 'no answer'}, not {{'action': 'exitroom', ...}}")
    _say(erin, "joinroom")
    _quiet([dave, erin])
    met = [m.get("data") for m in erin.messages("peer_player_id")]
    if met:
        return verdict(False, "", f"erin joined after dave left {room_name}, and was matched "
                                  f"with {', '.join(met)}: a player who left. The room must go "
                                  "with its player (delete it in the transaction)")
    _say(frank, "joinroom")
    _quiet([erin, frank])
    if frank.messages("peer_player_id") != [{"action": "peer_player_id",
                                             "data": erin.user_id}]:
        rooms = [m.get("data") for p in (erin, frank) for m in p.messages("joinroom")]
        if len(rooms) == 2 and rooms[0] == rooms[1]:
            return verdict(False, "", f"erin and frank were both put in {rooms[0]} but not "
                                      "told of each other: joining is not right yet, do "
                                      "exercise 3.2 first")
        return verdict(False, "", f"erin and frank joined one after the other, yet both wait "
                                  f"alone ({', '.join(map(str, rooms))}): dave's ticket was "
                                  "not handed back (SET handed_out to his ticket, on the "
                                  "condition that nobody took the next one)")
    refused = _say(erin, "exitroom")
    if not refused or refused.get("action") != "error":
        return verdict(False, "", f"erin sent exitroom from a full room and got "
                                  f"{refused or 'no answer'}: leaving must be refused once an "
                                  "opponent is in the room (a condition on the room's delete)")
    if "full" not in str(refused.get("data")):
        return verdict(False, "", f"erin's exitroom from a full room was refused with "
                                  f"{refused.get('data')!r}, not because the room is full: "
                                  "the room's Delete needs the condition size(players_in_room) "
                                  "= :one, second in the transaction (why_not_leave reads it)")
    room = frank.messages("joinroom")[-1]["data"]
    stored = _stored_players(deployment, room)
    if stored != sorted([erin.user_id, frank.user_id]):
        return verdict(False, "", f"erin's refused exitroom still changed {room}: the table "
                                  f"lists {stored or 'nobody'} there. The transaction must "
                                  "change nothing when a condition fails")
    return verdict(True, "a waiting player left and took the room and ticket along; the next "
                         "two were matched; leaving a full room was refused and changed "
                         "nothing", "")


EXERCISES = [
    Exercise(
        "3.1", "The naive join",
        "In `room_manager/naive.py`, `join_room` always opens a new room. Make it join the "
        "first room that `read_available_rooms()` lists, the obvious way: read the room, "
        "add the player, write the room and the list back.",
        "`room_name, *others = available`; read the room with `rooms.get_item(Key="
        "matchmaking.room_key(room_name))['Item']`; its first player is `peer_id`; append "
        "`user_id` to `room['players_in_room']`, set `phase=PLAYING` and `scores="
        "matchmaking.starting_scores(...)`, `put_item` the room, then `put_item` "
        "`{**AVAILABLE_ROOMS, 'room_names': others}`.",
        naive_join),
    Exercise(
        "3.2", "A join that cannot race",
        "In `room_manager/app.py`, `take_seat` gives every player ticket 0. Take a ticket "
        "from an atomic counter, then sit down in its room with one conditional update "
        "that returns the room as your write left it.",
        "Ticket: `rooms.update_item(Key=matchmaking.TICKETS_KEY, UpdateExpression='ADD "
        "handed_out :one', ExpressionAttributeValues={':one': 1}, ReturnValues="
        "'UPDATED_NEW')['Attributes']`; your ticket is `handed_out - 1`. Room: "
        "`UpdateExpression` `SET ... players_in_room = list_append(if_not_exists("
        "players_in_room, :none), :me)`, `ConditionExpression` `attribute_not_exists("
        "players_in_room) OR size(players_in_room) < :two`, `ReturnValues='ALL_NEW'`.",
        race_free_join),
    Exercise(
        "3.3", "Leave in one transaction",
        "In `room_manager/app.py`, `leave_room` only deletes the membership, so the room "
        "and the ticket stay taken. Make leaving one `transact_write_items` of three "
        "conditional writes: hand the ticket back, delete the room, release the player.",
        "`dynamodb.transact_write_items(TransactItems=[{'Update': {... 'Key': "
        "matchmaking.TICKETS_KEY, 'UpdateExpression': 'SET handed_out = :mine', "
        "'ConditionExpression': 'handed_out = :after_mine' ...}}, {'Delete': {... 'Key': "
        "matchmaking.room_key(seat.room_name), 'ConditionExpression': "
        "'size(players_in_room) = :one' ...}}, release(user_id, seat.room_name)])`; each "
        "write also names `'TableName': rooms.name`. The order matters: `why_not_leave` "
        "reads the room's reason second.",
        leave_in_one_transaction),
]
