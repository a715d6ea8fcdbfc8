"""Lab 1: the WebSocket API, its stage, its routes and MainServerFunction."""

from __future__ import annotations

import boto3
import pytest
import websocket
from labtools import eventually

from workshop.player import Player


def test_the_outputs_point_at_the_local_cloud(game: dict[str, str], cloud: dict) -> None:
    assert game["WebSocketURL"].startswith(f"ws://127.0.0.1:{cloud['port']}/")
    assert game["WebSocketURL"].endswith("/dev")
    assert game["ConnectionsURL"].startswith(f"http://127.0.0.1:{cloud['port']}/")
    for name in ("ConnectionsTableName", "RoomsTableName", "MainServerFunctionName",
                 "RoomManagerFunctionName", "BattleFunctionName"):
        assert game[name]


def test_a_player_connects_with_and_without_a_user_id(game: dict[str, str]) -> None:
    with Player(game["WebSocketURL"], user_id="lab1-alice") as alice, \
            Player(game["WebSocketURL"]) as guest:
        assert alice.connected and guest.connected
        assert guest.name == "guest"


@pytest.mark.parametrize(("frame", "reason"), [
    ('{"action": "dance"}', 'unknown action "dance"'),
    ('{"action": 7}', "unknown action 7"),
    ('{"hello": "world"}', 'the message has no "action"'),
    ("this is not JSON", "the message is not JSON"),
    ('["joinroom"]', 'the message must be a JSON object like {"action": "joinroom"}'),
    # A binary frame never reaches a route: API Gateway closes with 1003 (test_hostile_input).
])
def test_default_route_answers_what_it_cannot_serve(game: dict[str, str],
                                                   frame: str | bytes, reason: str) -> None:
    with Player(game["WebSocketURL"], user_id="lab1-bob") as bob:
        bob.send_raw(frame)
        assert bob.wait_for("error") == {"action": "error", "data": reason}
        # The connection stays open and is still served.
        bob.send("dance")
        assert bob.wait_for("error")["data"] == 'unknown action "dance"'
        assert bob.connected


def test_an_overlong_user_id_is_refused(game: dict[str, str]) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        Player(game["WebSocketURL"], user_id="x" * 65)
    assert refused.value.status_code == 400


def test_the_function_logs_who_connected(game: dict[str, str]) -> None:
    Player(game["WebSocketURL"], user_id="lab1-logged").close()
    logs = boto3.client("logs")
    group = f"/aws/lambda/{game['MainServerFunctionName']}"

    def messages() -> list[str]:
        return [event["message"] for event in
                logs.filter_log_events(logGroupName=group)["events"]]

    assert eventually(lambda: any("connect user_id=lab1-logged" in m for m in messages()))
    assert eventually(lambda: any(m.startswith("disconnect connection_id=")
                                  for m in messages()))
