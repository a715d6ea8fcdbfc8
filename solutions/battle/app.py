"""Battle: scores, attacks and deaths in a matched room, and a settlement that happens once.

What players send, and who gets what:

* ``{"action": "syncscore", "score": 12}`` → the opponent gets
  ``{"action": "player_syncscore", "data": 12}``;
* ``{"action": "attack"}`` → the opponent gets ``{"action": "attacked", "data": "FREEZE"}``;
* ``{"action": "die"}`` → the first death: the opponent gets
  ``{"action": "player_died", "data": "<user_id>"}``; the second: the opponent gets
  ``{"action": "player_died", "data": "all"}``, then each player gets
  ``{"action": "battle_settlement", "data": "WIN" | "LOSE" | "DRAW"}``;
* a request the rules refuse → ``{"action": "error", "data": "<reason>"}``.

A player who dies while the opponent has left (no open connection) does not wait for a
death that will never come: the opponent counts as dead at its last synced score, and
the battle settles at once.

When both players die at the same moment, two invocations run at once. Each adds its
player to the room's ``dead`` set in one conditional update and reads the set back from
that same write: exactly one of them sees both players dead, and only that one settles,
with a second conditional update that succeeds once per battle.
"""

import os

import battle_rules
import boto3
import connections
from battle_rules import PLAYING, SETTLED, Battle, BattleError

rooms = boto3.resource("dynamodb").Table(os.environ["ROOMS_TABLE"])
dynamodb = rooms.meta.client


def handler(event: dict, context: object) -> dict:
    return connections.dispatch(event, ROUTES, errors=(BattleError,))


def sync_score(event: dict, user_id: str, message: dict) -> None:
    """syncscore: keep the player's score for the settlement and show it to the opponent."""
    score = battle_rules.parse_score(message)
    battle = load_battle(user_id)
    opponent = battle.opponent_of(user_id)
    # BEGIN SOLUTION 4.2
    try:
        rooms.update_item(Key=battle_rules.room_key(battle.room_name),
                          UpdateExpression="SET scores.#player = :score",
                          ConditionExpression="phase = :playing",
                          ExpressionAttributeNames={"#player": user_id},
                          ExpressionAttributeValues={":score": score, ":playing": PLAYING})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise BattleError("the battle is over") from None
    connections.send_to_user(event, opponent, {"action": "player_syncscore", "data": score})
    # STARTER
    # # Exercise 4.2: keep the score in the room item (scores.<user_id>, only while the
    # # battle's phase is PLAYING: the settlement reads it), then send the opponent
    # # {"action": "player_syncscore", "data": score}.
    # print(f"syncscore {user_id} in room {battle.room_name}: {score}, not kept, not sent")
    # END SOLUTION


def attack(event: dict, user_id: str, message: dict) -> None:
    """attack: freeze the opponent (the game client decides when a player may attack)."""
    # BEGIN SOLUTION 4.3
    opponent = battle_rules.check_attack(load_battle(user_id), user_id)
    if not connections.send_to_user(event, opponent, {"action": "attacked", "data": "FREEZE"}):
        raise BattleError("your opponent is not connected")
    # STARTER
    # # Exercise 4.3: the rules (battle_rules.check_attack) name the opponent to freeze;
    # # send it {"action": "attacked", "data": "FREEZE"}, and tell the attacker when that
    # # opponent is not connected.
    # battle = load_battle(user_id)
    # print(f"attack by {user_id} in room {battle.room_name}: nobody is told yet")
    # END SOLUTION


def die(event: dict, user_id: str, message: dict) -> None:
    """die: record the death; the second death of the battle settles it."""
    battle = load_battle(user_id)
    opponent = battle_rules.check_death(battle, user_id)
    battle_after = add_death(battle.room_name, user_id)
    if battle_after is None:
        # Only this player's own death, recorded by a request sent at the same moment,
        # can have changed the room since it was read.
        raise BattleError("you are already dead")
    battle = battle_after
    if not battle.over:
        if connections.send_to_user(event, opponent,
                                    {"action": "player_died", "data": user_id}):
            return
        # The opponent has left and will never send its die: without this the battle
        # would never settle, and both players would stay stuck in the room.
        battle = add_death(battle.room_name, opponent)
        if battle is None:
            return  # the opponent died meanwhile: its own die settles the battle
        print(f"room {battle.room_name}: {opponent} left the battle and forfeits")
    results = battle_rules.outcome(battle)
    if settle(battle, results):
        connections.send_to_user(event, opponent, {"action": "player_died", "data": "all"})
        connections.send_to_user(event, opponent,
                                 {"action": "battle_settlement", "data": results[opponent]})
        connections.reply(event, {"action": "battle_settlement", "data": results[user_id]})


ROUTES = {"syncscore": sync_score, "attack": attack, "die": die}


def add_death(room_name: str, player: str) -> Battle | None:
    """Add ``player`` to the room's dead while the battle is on; the battle as written, or
    None if the player was dead already (or the battle is over).

    ADD to a set and read it back in the same write: of two players dying at once,
    exactly one sees both of them dead.
    """
    # BEGIN SOLUTION 4.4
    try:
        after = rooms.update_item(
            Key=battle_rules.room_key(room_name), UpdateExpression="ADD dead :player",
            ConditionExpression="phase = :playing AND NOT contains(dead, :user)",
            ExpressionAttributeValues={":player": {player}, ":user": player,
                                       ":playing": PLAYING},
            ReturnValues="ALL_NEW")["Attributes"]
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    return Battle.from_item(after)
    # STARTER
    # # Exercise 4.4: this decides from a read made before the write. Two players dying
    # # at once both read before either writes, so neither sees both dead and the battle
    # # is never settled. Make the write itself decide: one conditional update that adds
    # # the player and returns the room as that write left it.
    # key = battle_rules.room_key(room_name)
    # room = rooms.get_item(Key=key, ConsistentRead=True)["Item"]
    # if room.get("phase") != PLAYING or player in room.get("dead", ()):
    #     return None
    # rooms.update_item(Key=key, UpdateExpression="ADD dead :player",
    #                   ExpressionAttributeValues={":player": {player}})
    # return Battle.from_item({**room, "dead": {*room.get("dead", ()), player}})
    # END SOLUTION


def settle(battle: Battle, results: dict[str, str]) -> bool:
    """Record the outcome and free both players to join again; False if already done.

    One transaction: the room is settled only if it is still being played with both
    players dead, so a battle is settled exactly once however often this runs.
    """
    writes = [{"Update": {
        "TableName": rooms.name, "Key": battle_rules.room_key(battle.room_name),
        "UpdateExpression": "SET phase = :settled, outcome = :outcome",
        "ConditionExpression": "phase = :playing AND size(dead) = :everyone",
        "ExpressionAttributeValues": {":settled": SETTLED, ":playing": PLAYING,
                                      ":outcome": results,
                                      ":everyone": len(battle.players)}}}]
    writes += [{"Delete": {"TableName": rooms.name, "Key": battle_rules.player_key(player),
                           "ConditionExpression": "room_name = :room",
                           "ExpressionAttributeValues": {":room": battle.room_name}}}
               for player in battle.players]
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException:
        return False
    return True


def load_battle(user_id: str) -> Battle:
    """The battle of the room the player is in."""
    membership = rooms.get_item(Key=battle_rules.player_key(user_id),
                                ConsistentRead=True).get("Item")
    if membership is None or "room_name" not in membership:  # none, or still joining
        raise BattleError("you are not in a room: send joinroom first")
    room = rooms.get_item(Key=battle_rules.room_key(membership["room_name"]),
                          ConsistentRead=True).get("Item")
    if room is None:
        raise BattleError(f"room {membership['room_name']} no longer exists")
    return Battle.from_item(room)
