"""``python -m workshop demo``: bots play the finished game while you watch.

Two bots connect to the game server, are matched into a room, trade scores, attack,
die and are told who won; then three bots play a round of trivia, which a Step Functions
state machine runs. It all goes over the exact wire protocol the labs build, and every
frame is printed, so the demo doubles as a readable transcript of the protocol.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import cloud, lab
from .notebook import trivia_bots
from .notebook.trivia_bots import AnswerKey, Bots, TriviaBot
from .player import Player

__all__ = ["TRIVIA_BOTS", "play_battle", "play_trivia", "main"]

DEMO_STACK = "demo"
# The trivia bots and how often each knows the answer.
TRIVIA_BOTS = {"Ada": 1.0, "Grace": 0.5, "Linus": 0.0}


class _Transcript:
    """Prints each frame as ``who → message`` (sent) or ``who ← message`` (received)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def line(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def sent(self, player: Player, action: str, **fields: Any) -> None:
        player.send(action, **fields)
        self.line(f"  {player.name:>6} → {json.dumps({'action': action, **fields})}")

    def request(self, bot: TriviaBot, request: dict[str, Any]) -> None:
        bot.send(request)
        self.line(f"  {bot.name:>6} → {json.dumps(request)}")

    def received(self, player: Player, action: str, *, timeout: float = 15.0,
                 shown: bool = True) -> dict[str, Any]:
        message = player.wait_for(action, timeout=timeout)
        if shown:
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


def play_trivia(url: str, *, out: TextIO = sys.stdout, waitseconds: int = 2,
                questioncount: int = 3, seed: int = 5) -> dict[str, int]:
    """Three bots play one trivia game at ``url``; returns the final scores, best first.

    Ada always knows the answer, Grace half the time, Linus never. ``waitseconds`` is
    the time to answer each question, in the state machine's (scaled) seconds.
    """
    say, key = _Transcript(out), AnswerKey.load()
    with Bots(url, TRIVIA_BOTS, seed=seed, key=key) as bots:
        host, *guests = bots
        say.line("trivia: " + ", ".join(f"{bot.name} knows {bot.accuracy:.0%} of the answers"
                                        for bot in bots))
        say.request(host, trivia_bots.newgame(name=host.name))
        game_id = say.received(host.player, "gamecreated")["gameId"]
        say.received(host.player, "playerlist")
        for guest in guests:
            say.request(guest, trivia_bots.joingame(game_id, name=guest.name))
            say.received(guest.player, "playerlist")
            host.player.wait_for("playerlist", timeout=15.0)   # the host is told too
        say.request(host, trivia_bots.startgame(game_id, waitseconds=waitseconds,
                                                questioncount=questioncount))
        say.received(host.player, "gamestarted")
        final: dict[str, int] = {}
        for number in range(1, questioncount + 1):
            say.line(f"question {number}")
            final = _trivia_round(say, key, bots, game_id, timeout=15.0 + waitseconds)
        say.received(host.player, "gameover", timeout=15.0 + waitseconds)
        return final


def _trivia_round(say: _Transcript, key: AnswerKey, bots: Bots, game_id: str, *,
                  timeout: float) -> dict[str, int]:
    """One question: asked, answered by every bot, scored; returns the scores."""
    host = bots.bots[0]
    asked = say.received(host.player, "question", timeout=timeout)["question"]
    told = say.received(host.player, "playerlist", timeout=timeout, shown=False)
    for bot in bots:   # each bot answered the moment the question arrived
        option = bot.answers.get(asked["id"])
        frame = json.dumps(trivia_bots.answer(game_id, asked["id"], option))
        say.line(f"  {bot.name:>6} → {frame} {'✓' if key.earned(asked['id'], option) else '✗'}")
    say.line(f"  {host.name:>6} ← {json.dumps(told)}")
    final = trivia_bots.scores(told)
    say.line("scores: " + ", ".join(f"{name} {score}" for name, score in final.items()))
    return final


def _humane_wait(time_scale: float) -> int:
    """Seconds to answer a question that take about one real second (at least two)."""
    return min(300, max(2, math.ceil(1.0 / time_scale)))


def main(*, port: int | None = None, out: TextIO = sys.stdout,
         games: tuple[Callable[..., Any], ...] = (play_battle, play_trivia)) -> int:
    """Start (or reuse) the local cloud, deploy the game to its own stack, play."""
    state = cloud.up(port=port)
    cloud.use_local_cloud(port=state["port"])
    print(f"local cloud at {state['endpoint']}; deploying the game as stack "
          f"{DEMO_STACK!r}…", file=out, flush=True)
    outputs = lab.deploy(5, stack_name=DEMO_STACK)["outputs"]
    for game in games:
        options = ({"waitseconds": _humane_wait(state.get("time_scale", 1.0))}
                   if game is play_trivia else {})
        result = game(outputs["WebSocketURL"], out=out, **options)
        print(f"result: {result}", file=out, flush=True)
    return 0
