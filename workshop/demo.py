"""``python -m workshop demo``: bots play the finished game while you watch.

Two bots connect to the game server, are matched into a room, trade scores, attack,
die and are told who won, over the exact wire protocol the labs build. Every frame
is printed, so the demo doubles as a readable transcript of the protocol.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import cloud, lab
from .player import Player

__all__ = ["play_battle", "main"]

DEMO_STACK = "demo"


class _Transcript:
    """Prints each frame as ``who → message`` (sent) or ``who ← message`` (received)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def line(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def sent(self, player: Player, action: str, **fields: Any) -> None:
        player.send(action, **fields)
        self.line(f"  {player.name:>6} → {json.dumps({'action': action, **fields})}")

    def received(self, player: Player, action: str) -> dict[str, Any]:
        message = player.wait_for(action, timeout=15.0)
        self.line(f"  {player.name:>6} ← {json.dumps(message)}")
        return message


def play_battle(url: str, *, out: TextIO = sys.stdout) -> dict[str, str]:
    """Two bots play one battle at ``url``; returns each bot's settlement."""
    say = _Transcript(out)
    with Player(url, user_id="alice") as alice, Player(url, user_id="bob") as bob:
        say.line("matchmaking")
        say.sent(alice, "joinroom")
        room = say.received(alice, "joinroom")["data"]
        say.sent(bob, "joinroom")
        say.received(bob, "joinroom")
        for me, peer in ((alice, bob), (bob, alice)):
            assert say.received(me, "peer_player_id")["data"] == peer.user_id
        say.line(f"battle in room {room}")
        for me, peer, score in ((alice, bob, 12), (bob, alice, 9)):
            say.sent(me, "syncscore", score=score)
            say.received(peer, "player_syncscore")
        say.sent(bob, "attack")
        say.received(alice, "attacked")
        say.sent(alice, "die")
        say.received(bob, "player_died")
        say.sent(bob, "die")
        say.received(alice, "player_died")
        say.line("settlement")
        return {player.user_id: say.received(player, "battle_settlement")["data"]
                for player in (alice, bob)}


def main(*, port: int | None = None, out: TextIO = sys.stdout,
         games: tuple[Callable[..., Any], ...] = (play_battle,)) -> int:
    """Start (or reuse) the local cloud, deploy the game to its own stack, play."""
    state = cloud.up(port=port)
    cloud.use_local_cloud(port=state["port"])
    print(f"local cloud at {state['endpoint']}; deploying the game as stack "
          f"{DEMO_STACK!r}…", file=out, flush=True)
    outputs = lab.deploy(4, stack_name=DEMO_STACK)["outputs"]
    for game in games:
        result = game(outputs["WebSocketURL"], out=out)
        print(f"result: {result}", file=out, flush=True)
    return 0
