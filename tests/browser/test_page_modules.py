"""The pages' pure modules, run in the browser as the pages run them (ES modules from the
website): the WebSocket URL a page chooses, close codes in words, the battle's rules and
the trivia page's state."""

from __future__ import annotations

from typing import Any

import pytest

# (what, configured, ?ws= override, the page's address, the URL chosen or the error's words)
LOCAL = "ws://127.0.0.1:4580/abc123/Prod"
AWS = "wss://a1b2c3.execute-api.eu-west-1.amazonaws.com/Prod"
SITE = "/_website/workshop-site-1a2b/battle/"
ENDPOINT_CASES = [
    ("a loopback page uses config.js", LOCAL, None, f"http://127.0.0.1:4580{SITE}", LOCAL),
    ("?ws= wins", LOCAL, AWS, f"http://127.0.0.1:4580{SITE}", AWS),
    ("an AWS URL is used as it is", AWS, None,
     "http://site.s3-website-eu-west-1.amazonaws.com/battle/", AWS),
    ("through SageMaker Studio's proxy (https)", LOCAL, None,
     f"https://d-1.studio.eu-west-1.sagemaker.aws/jupyterlab/default/proxy/4580{SITE}index.html",
     "wss://d-1.studio.eu-west-1.sagemaker.aws/jupyterlab/default/proxy/4580/abc123/Prod"),
    ("through a JupyterHub proxy (http), page query ignored", LOCAL, None,
     f"http://hub.example:8000/user/ann/proxy/4580{SITE}?game=x",
     "ws://hub.example:8000/user/ann/proxy/4580/abc123/Prod"),
    ("through a local Jupyter's proxy", LOCAL, None,
     f"http://localhost:8888/proxy/4580{SITE}", "ws://localhost:8888/proxy/4580/abc123/Prod"),
    ("a proxy to another port is not the local cloud's", LOCAL, None,
     f"https://jupyter.example/proxy/9999{SITE}", LOCAL),
    ("class play: the room's address", LOCAL, None, f"http://192.168.1.20:4580{SITE}",
     "ws://192.168.1.20:4580/abc123/Prod"),
    ("another loopback address of the same cloud", LOCAL, None, f"http://127.0.0.2:4580{SITE}",
     "ws://127.0.0.2:4580/abc123/Prod"),
    ("the virtual-host website form keeps config.js", LOCAL, None,
     "http://site.s3-website-us-east-1.localhost:4580/battle/", LOCAL),
    ("a page served from another port keeps config.js", LOCAL, None,
     "http://127.0.0.1:9000/battle/", LOCAL),
    ("the configured query survives the proxy", f"{LOCAL}?lang=en", None,
     f"https://j.example/proxy/4580{SITE}", "wss://j.example/proxy/4580/abc123/Prod?lang=en"),
    ("?ws= must be a WebSocket URL", LOCAL, "http://example.com/", f"http://127.0.0.1:4580{SITE}",
     "error: The ?ws= address must start with ws:// or wss://, not http://"),
    ("?ws= must be a URL", LOCAL, "no url", f"http://127.0.0.1:4580{SITE}",
     'error: The ?ws= address is not a URL: "no url"'),
    ("no URL at all", None, None, f"http://127.0.0.1:4580{SITE}",
     "error: This page does not know where the game server is"),
]

RESOLVE = """async (cases) => {
  const { resolveWebSocketUrl } = await import("../shared/endpoint.js");
  return cases.map(([configured, override, page]) => {
    try { return resolveWebSocketUrl({ configured, override, page }).url; }
    catch (error) { return `error: ${error.message}`; }
  });
}"""


@pytest.fixture
def page(site: Any, open_page: Any) -> Any:
    """A game page to run modules in (any page: the modules are the website's files)."""
    return open_page("modules", site.battle).page


def test_the_websocket_url_a_page_chooses(page: Any) -> None:
    got = page.evaluate(RESOLVE, [case[1:4] for case in ENDPOINT_CASES])
    wrong = [f"{what}: expected {expected!r}, got {answer!r}"
             for (what, *_, expected), answer in zip(ENDPOINT_CASES, got, strict=True)
             if not (answer.startswith(expected) if expected.startswith("error:")
                     else answer == expected)]
    assert not wrong, "\n".join(wrong)


def test_connection_problems_in_words(page: Any) -> None:
    words = page.evaluate("""async () => {
      const c = await import("../shared/connection.js");
      return {
        deleted: c.describeClose(1000, "Connection deleted via @connections", { opened: true }),
        idle: c.describeClose(1001, "Going away", { opened: true }),
        refused: c.describeClose(1006, "", { opened: false }),
        left: c.describeClose(1000, "", { opened: true, byPlayer: true }),
        gateway: c.readFrame('{"message": "Internal server error", "connectionId": "x"}'),
        junk: c.readFrame("not json"),
        message: c.readFrame('{"action": "joinroom", "data": "r1"}'),
      };
    }""")
    assert words["deleted"].startswith(
        'The server closed the connection (code 1000: "Connection deleted via @connections")')
    assert "idle for 10 minutes" in words["idle"]
    assert words["refused"].startswith("Could not connect to the game server")
    assert words["left"].startswith("You left the game")
    assert words["gateway"]["kind"] == "gateway"
    assert 'The gateway answered "Internal server error"' in words["gateway"]["text"]
    assert words["junk"]["kind"] == "unknown"
    assert words["message"] == {"kind": "message", "text": "",
                                "message": {"action": "joinroom", "data": "r1"}}


RULES = """async () => {
  const r = await import("./rules.js");
  const out = {};
  // A frozen fox cannot jump until the freeze ends; then it can.
  let g = r.newGame({ seed: 3 });
  r.step(g, r.READY_SECONDS + 0.01);
  r.freeze(g);
  out.frozenJump = [r.jump(g), g.jumps, g.blockedJumps, g.vy];
  r.step(g, r.FREEZE_SECONDS - 0.05);
  out.stillFrozen = r.jump(g);
  r.step(g, 0.1);
  out.thawedJump = [r.jump(g), g.jumps];
  // Not before "Go!".
  out.tooEarly = r.jump(r.newGame());
  // The attack unlocks past ATTACK_MIN_SCORE points, then recharges.
  g = r.newGame({ seed: 3 });
  r.step(g, r.READY_SECONDS + 0.01);
  g.score = r.ATTACK_MIN_SCORE;
  out.atMin = r.canAttack(g);
  g.score = r.ATTACK_MIN_SCORE + 1;
  out.pastMin = [r.canAttack(g), r.attack(g), r.canAttack(g), r.attack(g)];
  g.t = g.attackReadyAt;
  out.recharged = r.canAttack(g);
  // Standing still: coins are out of reach, rocks take the three hearts, then the fox falls.
  g = r.newGame({ seed: 5 });
  const events = [];
  for (let i = 0; i < 60 * 120 && !g.dead; i += 1) events.push(...r.step(g, 1 / 60));
  out.standing = { dead: g.dead, score: g.score, types: events.map((e) => e.type),
                   jumpWhenDead: r.jump(g), eventsWhenDead: r.step(g, 1).length };
  // The autopilot passes the attack's threshold well within a minute, and the same seed
  // plays the same game.
  const play = (seed) => {
    const game = r.newGame({ seed });
    for (let i = 0; i < 60 * 60 && game.score <= r.ATTACK_MIN_SCORE; i += 1) {
      if (r.autopilotWantsJump(game)) r.jump(game);
      r.step(game, 1 / 60);
    }
    return [game.score, game.t, game.jumps, game.hearts];
  };
  out.autopilot = [play(7), play(7), play(8)];
  return out;
}"""


def test_battle_rules(page: Any) -> None:
    out = page.evaluate(RULES)
    assert out["frozenJump"] == ["frozen", 0, 1, 0], "a frozen fox jumped"
    assert out["stillFrozen"] == "frozen"
    assert out["thawedJump"] == ["jumped", 1], "the fox could not jump after the freeze"
    assert out["tooEarly"] == ""
    assert out["atMin"] is False, "the attack unlocked at 10 points, not past them"
    assert out["pastMin"] == [True, True, False, False], "the attack did not recharge"
    assert out["recharged"] is True
    standing = out["standing"]
    assert standing["dead"] and standing["score"] == 0
    assert standing["types"] == ["hit", "hit", "hit", "died"]
    assert standing["jumpWhenDead"] == "" and standing["eventsWhenDead"] == 0
    (score, seconds, jumps, hearts), again, other = out["autopilot"]
    assert score > 10 and seconds < 60 and hearts > 0, out["autopilot"]
    assert again == out["autopilot"][0] and other != again, "a seed does not fix the game"


TRIVIA = """async () => {
  const t = await import("../trivia/state.js");
  const out = {};
  const players = (a, b, c) => [
    { connectionId: "A", playerName: "Ann", score: a, currentPlayer: true },
    { connectionId: "B", playerName: "Bob", score: b, currentPlayer: false },
    { connectionId: "C", playerName: "Cid", score: c, currentPlayer: false }];
  const options = ["a", "b", "c", "d"];
  const ask = (id) => ({ action: "question", question: { id, question: "?", options } });
  let s = t.newTrivia();
  [s] = t.hear(s, { action: "gamecreated", gameId: "g1" }, 0);
  [s] = t.hear(s, { action: "playerlist", players: players(0, 0, 0) }, 0);
  out.lobby = [s.gameId, s.you, s.scored, s.started];
  s = t.starting(s, 10);
  [s] = t.hear(s, { action: "gamestarted" }, 1);
  [s] = t.hear(s, ask("q1"), 2);
  out.open = [t.canAnswer(s), t.countdown(s, 4, { timeScale: 1 }),
              t.countdown(s, 2.05, { timeScale: 0.01 })];
  s = t.answered(s, "b");
  out.answered = [t.canAnswer(s), t.answerWords(s)];
  [s] = t.hear(s, { action: "playerlist", players: players(2, 0, 1) }, 2.5);
  out.scored = [s.scored, s.gains, t.answerWords(s), t.countdown(s, 2.6), s.results];
  // A player who did not start the game learns how long a question lasts from the first.
  let j = t.joining(t.newTrivia(), "g1");
  [j] = t.hear(j, { action: "playerlist", players: players(0, 0, 0) }, 0);
  [j] = t.hear(j, ask("q1"), 10);
  out.firstUnknown = t.countdown(j, 11);
  [j] = t.hear(j, { action: "playerlist", players: players(0, 0, 0) }, 14);
  [j] = t.hear(j, ask("q2"), 15);
  out.learned = [j.gameId, t.countdown(j, 16), t.answerWords(j)];
  [j] = t.hear(j, { action: "playerlist", players: players(0, 0, 0) }, 18);
  out.missed = t.answerWords(j);
  out.ranks = t.leaderboard(players(3, 5, 3)).map((p) => [p.playerName, p.rank]);
  [s] = t.hear(s, { action: "gameover" }, 20);
  out.over = [s.over, t.canAnswer(s)];
  [s] = t.hear(s, { action: "error", data: "the game stopped: a server task failed (X)" }, 21);
  out.stopped = s.stopped;
  out.unknown = t.hear(s, { action: "surprise" }, 22)[1];
  return out;
}"""


def test_trivia_state(page: Any) -> None:
    out = page.evaluate(TRIVIA)
    assert out["lobby"] == ["g1", "A", False, False]
    can, slow, scaled = out["open"]
    assert can is True and slow == {"seconds": 10, "left": 8}
    assert scaled["seconds"] == pytest.approx(0.1) and scaled["left"] == pytest.approx(0.05)
    assert out["answered"] == [False, "You answered “b”: waiting for the scores…"]
    assert out["scored"] == [True, {"A": 2, "B": 0, "C": 1}, "Right! +2 for you.", None,
                             [{"number": 1, "questionId": "q1", "words": "Right! +2 for you."}]]
    assert out["firstUnknown"] is None, "a countdown was made up for an unknown length"
    assert out["learned"] == ["g1", {"seconds": 4, "left": 3}, ""]
    assert out["missed"] == "You did not answer in time."
    assert out["ranks"] == [["Bob", 1], ["Ann", 2], ["Cid", 2]]
    assert out["over"] == [True, False]
    assert out["stopped"].startswith("the game stopped")
    assert out["unknown"] == "The server sent an action this page does not know: surprise"


MATCH = """async () => {
  const m = await import("./match.js");
  const out = {};
  const play = (match, ...messages) => messages.reduce(([state, said], message) => {
    const [next, words] = m.hear(state, message);
    return [next, [...said, words]];
  }, [match, []]);
  const waiting = m.askedForRoom(m.newMatch("ann"));
  // The opponent may be announced before the player's own joinroom reply.
  let [match, said] = play(waiting, { action: "peer_player_id", data: "bob" },
    { action: "joinroom", data: "room-7" });
  out.early = [match.phase, match.room, match.opponent, said];
  [match, said] = play(match, { action: "player_syncscore", data: 12 },
    { action: "attacked", data: "FREEZE" }, { action: "player_died", data: "bob" },
    { action: "player_died", data: "all" }, { action: "battle_settlement", data: "WIN" });
  out.battle = [match.opponentScore, match.freezes, match.opponentDead, match.result,
    match.phase, said];
  // Sent 9 then 12, heard 12 then 9: the score stays 12.
  out.late = play(match, { action: "player_syncscore", data: 9 })[0].opponentScore;
  out.refused = play(waiting, { action: "error", data: "you are already in room room-3" });
  out.unknown = play(waiting, { action: "dance" })[1];
  out.left = play(waiting, { action: "joinroom", data: "room-9" },
    { action: "exitroom", data: "room-9" })[0].phase;
  return out;
}"""


def test_what_the_battle_page_makes_of_the_server_messages(page: Any) -> None:
    out = page.evaluate(MATCH)
    assert out["early"] == ["playing", "room-7", "bob", ["Matched with bob. Go!", ""]]
    score, freezes, dead, result, phase, said = out["battle"]
    assert (score, freezes, dead, result, phase) == (12, 1, True, "WIN", "settled")
    assert said == ["", "bob froze you!",
                    "bob fell with 12 points. Your points still count until you fall.",
                    "Both players have fallen: settling the battle…",
                    "You win! The battle is settled."]
    assert out["late"] == 12, "an older score heard late must not lower the opponent's"
    refused, words = out["refused"]
    assert refused["phase"] == "idle", "a refused joinroom leaves the player stuck waiting"
    assert words == ["The server refused that: you are already in room room-3"]
    assert out["unknown"] == ["The server sent an action this page does not know: dance"]
    assert out["left"] == "idle"
