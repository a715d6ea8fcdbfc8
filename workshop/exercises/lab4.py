"""Lab 4's exercises: the battle's routes, relaying scores and attacks, settling once.

The checks play real battles on the learner's deployed API: they connect players, match
them with ``joinroom`` (lab 3), send ``syncscore`` / ``attack`` / ``die`` and judge what
each player receives and what the room item in the rooms table holds afterwards.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..notebook.checks import (
    Check,
    CheckFailed,
    eventually,
    room_item,
    room_of,
    settlement_problems,
    verdict,
)
from ..player import Player, PlayerTimeout
from .catalog import Exercise
from .runner import Deployment

__all__ = ["EXERCISES"]

NOT_IN_A_ROOM = "you are not in a room"
# How many rooms the exactly-once check plays at once, and for how long it waits.
RACE_ROOMS, RACE_ROUNDS = 10, 2
_WAIT = 10.0


@contextmanager
def _players(deployment: Deployment, *names: str) -> Iterator[list[Player]]:
    """Fresh players ``check-<name>-<random>``, closed afterwards."""
    run = secrets.token_hex(3)
    players: list[Player] = []
    try:
        for name in names:
            players.append(Player(deployment.url, user_id=f"check-{name}-{run}", name=name))
        yield players
    finally:
        for player in players:
            player.close()


def _match(first: Player, second: Player) -> str:
    """Put two players in one room (lab 3's joinroom); the room's name."""
    try:
        first.send("joinroom")
        room = first.wait_for("joinroom", timeout=_WAIT)["data"]
        second.send("joinroom")
        second.wait_for("joinroom", timeout=_WAIT)
        peers = (first.wait_for("peer_player_id", timeout=_WAIT)["data"],
                 second.wait_for("peer_player_id", timeout=_WAIT)["data"])
    except PlayerTimeout as error:
        raise CheckFailed(f"the check could not match two players ({error}): joinroom "
                          "(lab 3) has to work first") from None
    if peers != (second.user_id, first.user_id):
        raise CheckFailed(f"joinroom matched the check's players with {peers}, not with each "
                          "other: run the check again")
    return str(room)


def _room(deployment: Deployment, room_name: str) -> dict[str, Any]:
    return room_item(deployment.output("RoomsTableName"), room_name)


def _next(player: Player, action: str, timeout: float = _WAIT) -> dict[str, Any] | None:
    try:
        return player.wait_for(action, timeout=timeout)
    except PlayerTimeout:
        return None


def _unrouted(player: Player, action: str) -> None:
    """Stop the check if ``action`` went to $default: its route (4.1) is missing."""
    if any(str(m.get("data", "")).startswith(f'unknown action "{action}"')
           for m in player.messages("error")):
        raise CheckFailed(f"{action!r} reached $default ('unknown action'): there is no route "
                          f"{action} yet — do exercise 4.1 first")


def _first_answer(player: Player, timeout: float = _WAIT) -> dict[str, Any] | None:
    """The next message the player receives, whatever it is."""
    seen = len(player.inbox)
    arrived = eventually(lambda: player.inbox[seen:], timeout=timeout)
    return arrived[0] if arrived else None


# -- 4.1 the routes ------------------------------------------------------------------------

def routes(deployment: Deployment) -> Check:
    """syncscore, attack and die each reach BattleFunction, not $default."""
    with _players(deployment, "routes") as [player]:
        for action, fields in (("syncscore", {"score": 1}), ("attack", {}), ("die", {})):
            player.send(action, **fields)
            answer = _first_answer(player)
            data = str((answer or {}).get("data", ""))
            if answer is None:
                return verdict(False, "", f"{action!r} got no answer at all ($default would "
                                          "have said 'unknown action'): the route may be "
                                          "there but BattleFunction answered nothing — look "
                                          "at its log")
            if data.startswith("unknown action"):
                return verdict(False, "", f"{action!r} reached $default, which answered "
                                          f"{data!r}: write a route with RouteKey {action} "
                                          "and Target integrations/${BattleIntegration}")
            if answer.get("action") != "error" or NOT_IN_A_ROOM not in data:
                return verdict(False, "", f"{action!r} from a player in no room got {answer}, "
                                          f"not BattleFunction's error {NOT_IN_A_ROOM!r}: is "
                                          "its route's Target BattleIntegration?")
    return verdict(True, "syncscore, attack and die reach BattleFunction: a player in no room "
                         f"gets its answer {NOT_IN_A_ROOM!r} to each", "")


# -- 4.2 relay the score -------------------------------------------------------------------

def relay_score(deployment: Deployment) -> Check:
    """A synced score reaches the opponent (only) and is kept in the room item."""
    with _players(deployment, "ann", "bob") as [ann, bob]:
        room_name = _match(ann, bob)
        ann.send("syncscore", score=12)
        got = _next(bob, "player_syncscore")
        if got is None:
            _unrouted(ann, "syncscore")
            own = ann.messages("player_syncscore")
            return verdict(False, "", "ann sent syncscore 12 and bob got no player_syncscore"
                           + (": ann got it back herself — send it to the opponent, not "
                              "reply()" if own else
                              " in 10 s: send the opponent {'action': 'player_syncscore', "
                              "'data': score} with connections.send_to_user"))
        if got.get("data") != 12:
            return verdict(False, "", f"ann synced 12, bob got {got}: send the score itself "
                                      "as data")
        bob.send("syncscore", score=9)
        if _next(ann, "player_syncscore") is None:
            return verdict(False, "", "bob's score 9 never reached ann")
        time.sleep(0.3)
        own = [m.get("data") for m in ann.messages("player_syncscore")]
        if own != [9]:
            return verdict(False, "", f"ann received the scores {own}, not just bob's 9: each "
                                      "score goes to the opponent only")
        scores = {k: int(v) for k, v in (_room(deployment, room_name).get("scores") or {}).items()}
        wanted = {ann.user_id: 12, bob.user_id: 9}
        if scores != wanted:
            return verdict(False, "", f"the scores were relayed, but the room item holds scores "
                                      f"{scores or 'none'}, not {wanted}: the settlement reads "
                                      "them there — SET scores.#player = :score")
    return verdict(True, "each score reached the opponent and only the opponent, and the room "
                         "keeps both for the settlement", "")


# -- 4.3 attack ----------------------------------------------------------------------------

def attack(deployment: Deployment) -> Check:
    """An attack freezes the opponent; the dead neither attack nor are attacked."""
    with _players(deployment, "ann", "bob") as [ann, bob]:
        _match(ann, bob)
        ann.send("attack")
        got = _next(bob, "attacked")
        if got is None:
            _unrouted(ann, "attack")
            return verdict(False, "", "ann attacked and bob got no 'attacked' in 10 s: send "
                                      "the opponent {'action': 'attacked', 'data': 'FREEZE'}"
                                      + (" (ann got it herself)" if ann.messages("attacked")
                                         else ""))
        if got.get("data") != "FREEZE":
            return verdict(False, "", f"bob got {got}, not 'data': 'FREEZE'")
        if ann.messages("attacked"):
            return verdict(False, "", "ann was frozen by her own attack: only the opponent "
                                      "is told")
        ann.send("die")
        if _next(bob, "player_died") is None:
            _unrouted(ann, "die")
            return verdict(False, "", "the relay works, but when ann died bob heard nothing, "
                                      "so the check cannot test the dead: look at die")
        for attacker, victim, reason in ((ann, bob, "you are dead"),
                                         (bob, ann, "your opponent is already dead")):
            attacker.send("attack")
            answer = _next(attacker, "error", timeout=5.0)
            if answer is None or reason not in str(answer.get("data")):
                frozen = " and was frozen" if victim.messages("attacked") else ""
                return verdict(False, "", f"ann is dead, yet {attacker.name}'s attack got no "
                                          f"error saying {reason!r}{frozen}: let "
                                          "battle_rules.check_attack decide who may attack")
    return verdict(True, "an attack freezes the opponent only, and a dead player neither "
                         "attacks nor is attacked", "")


# -- 4.4 settle exactly once ---------------------------------------------------------------

def _all_at_once(players: Iterable[Player], action: str) -> None:
    """Send ``action`` from every player in the same instant (threads on a barrier)."""
    players = list(players)
    barrier = threading.Barrier(len(players))

    def send(player: Player) -> None:
        barrier.wait()
        player.send(action)

    threads = [threading.Thread(target=send, args=(player,)) for player in players]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _race_round(deployment: Deployment, rooms: int) -> tuple[int, list[str], list[str]]:
    """One round: ``rooms`` rooms, both players of each dying in the same instant.

    Returns how many rooms were played, and the problems of the rooms nobody settled and
    of those settled wrongly.
    """
    from ..notebook.crowd import Crowd

    with Crowd(deployment.url, 2 * rooms, name="check-race", progress=False) as crowd:
        report = crowd.join_rooms()
        pairs = crowd.pairs()
        if len(pairs) < rooms:
            problems = "; ".join(report.problems()) or f"only {len(pairs)} rooms"
            raise CheckFailed(f"{2 * rooms} players joined, but not in {rooms} rooms of two "
                              f"({problems}): joinroom (lab 3) has to work first")
        _all_at_once(crowd, "die")
        eventually(lambda: all(p.messages("battle_settlement") for p in crowd), timeout=_WAIT)
        time.sleep(1.0)                 # a second, wrong settlement on its way is caught too
        for player in crowd:
            _unrouted(player, "die")
        unsettled, wrong = [], []
        table = deployment.output("RoomsTableName")
        for first, second in pairs:
            room = room_item(table, room_of(first) or "")
            problems = settlement_problems(first, second, room)
            if problems and problems[0].endswith("no battle_settlement"):
                unsettled += problems
            else:
                wrong += problems
    return len(pairs), unsettled, wrong


def settle_once(deployment: Deployment) -> Check:
    """Both players of many rooms die in the same instant: every battle settles once.

    Two rounds, because a race may not show in every room: the check passes only when
    every room of both rounds was settled exactly once.
    """
    played = 0
    for _ in range(RACE_ROUNDS):
        rooms, unsettled, wrong = _race_round(deployment, RACE_ROOMS)
        played += rooms
        if unsettled:
            return verdict(False, "", f"in {len(unsettled)} of {rooms} rooms both players died "
                                      "at the same moment and nobody got a battle_settlement: "
                                      "each die read the room before the other's death was "
                                      "written, so neither saw both dead. Let the update "
                                      "itself decide (ReturnValues='ALL_NEW')")
        if wrong:
            shown = "; ".join(wrong[:2]) + (f"; and {len(wrong) - 2} more"
                                             if len(wrong) > 2 else "")
            return verdict(False, "", f"{len(wrong)} of {rooms} rooms were settled wrongly: "
                                      f"{shown}")
    return verdict(True, f"{played} rooms, both players dying in the same instant in each: "
                         "every player got exactly one battle_settlement, and it is the "
                         "room's stored outcome", "")


EXERCISES = [
    Exercise(
        "4.1", "Route the battle's actions",
        "In `template.yaml`, write the routes `syncscore`, `attack` and `die`: each sends "
        "its messages to `BattleIntegration`, the way lab 1's routes use theirs.",
        "An `AWS::ApiGatewayV2::Route` with `ApiId: !Ref MainEntry`, `RouteKey: syncscore` "
        "(the message's `action`), `AuthorizationType: NONE` and `Target: !Sub "
        "integrations/${BattleIntegration}`; three of them.",
        routes),
    Exercise(
        "4.2", "Relay the score",
        "In `battle/app.py`, `sync_score` must keep the player's score in the room item "
        "(the settlement reads it there) and send the opponent `{\"action\": "
        "\"player_syncscore\", \"data\": score}`.",
        "`rooms.update_item` with `UpdateExpression=\"SET scores.#player = :score\"`, "
        "`ExpressionAttributeNames={\"#player\": user_id}` and `ConditionExpression=\"phase "
        "= :playing\"` (a finished battle keeps its scores); then "
        "`connections.send_to_user(event, opponent, {...})`.",
        relay_score),
    Exercise(
        "4.3", "Attack",
        "In `battle/app.py`, `attack` must freeze the opponent: send it `{\"action\": "
        "\"attacked\", \"data\": \"FREEZE\"}`. A dead player may not attack, nor be "
        "attacked, and the attacker hears when the opponent is not connected.",
        "`battle_rules.check_attack(load_battle(user_id), user_id)` applies the rules and "
        "returns the opponent. `connections.send_to_user` returns False when nobody is "
        "connected: raise `BattleError(\"your opponent is not connected\")` then.",
        attack),
    Exercise(
        "4.4", "Settle exactly once",
        "In `battle/app.py`, `add_death` reads the room and then writes the death, so two "
        "players dying at once can both miss the other's death. Make one conditional update "
        "add the player to `dead` and return the room as that write left it.",
        "`rooms.update_item(Key=..., UpdateExpression=\"ADD dead :player\", "
        "ConditionExpression=\"phase = :playing AND NOT contains(dead, :user)\", "
        "ExpressionAttributeValues={\":player\": {player}, \":user\": player, \":playing\": "
        "PLAYING}, ReturnValues=\"ALL_NEW\")[\"Attributes\"]`; a "
        "`ConditionalCheckFailedException` means \"already dead\": return None.",
        settle_once),
]
