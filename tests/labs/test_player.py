"""workshop.player against the game's own API (MainServer answers unknown actions)."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
import websocket
from labtools import connection_rows, eventually

from workshop.player import Player, PlayerTimeout, close_all, connect_players


def test_user_id_goes_in_the_query_string(game: dict[str, str], connections_table: Any) -> None:
    with Player(game["WebSocketURL"] + "?lang=en", user_id="player one") as player:
        assert player.url.endswith("?lang=en&user_id=player+one")
        assert player.name == "player one"
        assert len(connection_rows(connections_table, "player one")) == 1


def test_send_and_wait_for_in_order(game: dict[str, str]) -> None:
    with Player(game["WebSocketURL"], user_id="pl-order", name="Ann") as ann:
        ann.send("first")
        assert ann.wait_for("error")["data"] == 'unknown action "first"'
        ann.send("second", extra=[1, 2])
        assert ann.wait_for("error")["data"] == 'unknown action "second"'
        assert ann.messages("error") == ann.inbox
        assert [m["data"] for m in ann.inbox] == ['unknown action "first"',
                                                  'unknown action "second"']
        assert repr(ann) == "<Player Ann connected, 2 messages>"


def test_on_message_sees_each_message_as_it_arrives(game: dict[str, str]) -> None:
    seen: list[dict] = []
    with Player(game["WebSocketURL"], user_id="pl-hook", on_message=seen.append) as player:
        player.send("wave")
        player.wait_for("error")
        assert seen == player.inbox


def test_a_failing_on_message_does_not_stop_the_reader(game: dict[str, str]) -> None:
    def broken(message: dict) -> None:
        raise RuntimeError("widget gone")

    with Player(game["WebSocketURL"], user_id="pl-broken", on_message=broken) as player:
        player.send("one")
        player.send("two")
        player.wait_for("error")
        player.wait_for("error")
        assert player.connected


def test_wait_for_returns_each_message_once(game: dict[str, str]) -> None:
    with Player(game["WebSocketURL"], user_id="pl-once") as player:
        player.send("one")
        first = player.wait_for("error")
        player.send("two")
        second = player.wait_for("error")
        assert first != second
        with pytest.raises(PlayerTimeout):
            player.wait_for("error", timeout=0.2)


def test_wait_for_blocks_until_the_message_comes(game: dict[str, str]) -> None:
    with Player(game["WebSocketURL"], user_id="pl-later") as player:
        later = threading.Timer(0.2, player.send, args=("late",))
        later.start()
        started = time.monotonic()
        assert player.wait_for("error", timeout=10)["data"] == 'unknown action "late"'
        assert time.monotonic() - started >= 0.2
        later.join()


def test_a_timeout_says_who_waited_for_what_and_what_came(game: dict[str, str]) -> None:
    with Player(game["WebSocketURL"], user_id="pl-timeout", name="Zed") as zed:
        zed.send("dance")
        zed.wait_for("error")
        zed.send("sing")
        eventually(lambda: len(zed.inbox) == 2)
        with pytest.raises(PlayerTimeout) as waited:
            zed.wait_for("peer_player_id", timeout=0.1)
    text = str(waited.value)
    assert text.startswith("Zed waited 0.1 s for 'peer_player_id'")
    # Only what nobody consumed yet is listed.
    assert text.endswith('received meanwhile: error ("unknown action \\"sing\\"")')


def test_frames_that_are_not_json_objects_are_kept_raw(game: dict[str, str],
                                                       connections_table: Any) -> None:
    with Player(game["WebSocketURL"], user_id="pl-raw") as player:
        (row,) = connection_rows(connections_table, "pl-raw")
        management = boto3.client("apigatewaymanagementapi",
                                  endpoint_url=game["ConnectionsURL"])
        management.post_to_connection(ConnectionId=row["connection_id"], Data=b"plain text")
        assert eventually(lambda: player.inbox == [{"raw": "plain text"}])
        with pytest.raises(PlayerTimeout, match="frame 'plain text'"):
            player.wait_for("error", timeout=0.1)


def test_a_connection_closed_by_the_server_stops_waiting_at_once(
        game: dict[str, str], connections_table: Any) -> None:
    player = Player(game["WebSocketURL"], user_id="pl-kicked")
    (row,) = connection_rows(connections_table, "pl-kicked")
    boto3.client("apigatewaymanagementapi", endpoint_url=game["ConnectionsURL"]) \
        .delete_connection(ConnectionId=row["connection_id"])
    assert eventually(lambda: not player.connected)
    started = time.monotonic()
    with pytest.raises(PlayerTimeout, match=r"\(the connection is closed\)"):
        player.wait_for("error", timeout=10)
    assert time.monotonic() - started < 5
    player.close()  # closing again is harmless


def test_close_runs_disconnect(game: dict[str, str], connections_table: Any) -> None:
    with Player(game["WebSocketURL"], user_id="pl-bye") as player:
        assert player.connected
    assert not player.connected
    assert eventually(lambda: connection_rows(connections_table, "pl-bye") == [])


def test_a_refused_handshake_raises(game: dict[str, str]) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        Player(game["WebSocketURL"], user_id="x" * 100)


def test_connect_players_names_them_in_order(game: dict[str, str],
                                             connections_table: Any) -> None:
    players = connect_players(game["WebSocketURL"], 5, prefix="pl-crowd")
    try:
        assert [p.user_id for p in players] == [f"pl-crowd-{i:03d}" for i in range(5)]
        assert all(connection_rows(connections_table, p.user_id) for p in players)
    finally:
        close_all(players)
    assert not any(p.connected for p in players)


def test_connect_players_raises_when_players_cannot_connect(game: dict[str, str]) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        connect_players(game["WebSocketURL"], 3, prefix="y" * 70)
