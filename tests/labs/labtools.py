"""Helpers for the lab tests: waiting, racing, and reading the game's tables."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Key
from polling import eventually

from workshop.player import Player, connect_players

__all__ = ["TEMPLATE", "Lobby", "all_at_once", "connection_rows", "eventually", "match",
           "membership", "room", "state_of"]

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
_prefixes = itertools.count()


class Lobby:
    """Makes players for one test, with user ids no other test uses; closes them after."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"p{next(_prefixes)}"
        self.players: list[Player] = []

    def player(self, name: str) -> Player:
        player = Player(self.url, user_id=f"{self.prefix}-{name}")
        self.players.append(player)
        return player

    def crowd(self, n: int) -> list[Player]:
        players = connect_players(self.url, n, prefix=f"{self.prefix}-bot")
        self.players.extend(players)
        return players


def all_at_once(players: Iterable[Player], action: str, **fields: Any) -> None:
    """Send the same message from every player at the same instant (threads on a barrier)."""
    players = list(players)
    barrier = threading.Barrier(len(players))

    def send(player: Player) -> None:
        barrier.wait()
        player.send(action, **fields)

    threads = [threading.Thread(target=send, args=(player,)) for player in players]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def membership(rooms_table: Any, user_id: str) -> dict | None:
    return rooms_table.get_item(Key={"pk": f"player#{user_id}"}, ConsistentRead=True).get("Item")


def room(rooms_table: Any, room_name: str) -> dict | None:
    return rooms_table.get_item(Key={"pk": f"room#{room_name}"}, ConsistentRead=True).get("Item")


def state_of(rooms_table: Any, players: Iterable[Player]) -> dict[str, Any]:
    """Everything the rooms table says about these players: memberships and their rooms."""
    state: dict[str, Any] = {}
    for player in players:
        seat = membership(rooms_table, player.user_id)
        state[player.user_id] = seat
        if seat and "room_name" in seat:
            state[seat["room_name"]] = room(rooms_table, seat["room_name"])
    return state


def connection_rows(connections_table: Any, user_id: str) -> list[dict]:
    return connections_table.query(IndexName="user_id-index",
                                   KeyConditionExpression=Key("user_id").eq(user_id))["Items"]


def match(first: Player, second: Player) -> str:
    """Put two players in a room together; returns the room's name."""
    first.send("joinroom")
    room_name = first.wait_for("joinroom")["data"]
    second.send("joinroom")
    assert second.wait_for("joinroom")["data"] == room_name
    assert first.wait_for("peer_player_id")["data"] == second.user_id
    assert second.wait_for("peer_player_id")["data"] == first.user_id
    return room_name
