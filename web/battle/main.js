// The battle page: wires the rules (rules.js), what the server said (match.js), the
// drawing (draw.js) and the connection (../shared/connection.js) to the page.
//
// window.game is a handle for people and tests: window.game.state is a plain snapshot of
// everything the page shows.

import { GameSocket } from "../shared/connection.js";
import { withUserId } from "../shared/endpoint.js";
import { $, gameServer, query, showConnection, showProblem } from "../shared/page.js";
import { draw } from "./draw.js";
import { askedForRoom, hear, newMatch, RESULT_WORDS } from "./match.js";
import * as rules from "./rules.js";

// API Gateway may run two messages of one connection at the same time, so a die sent
// right after a syncscore could be settled before that score is kept: leave a gap.
const DIE_AFTER_SYNC_MS = 300;
const MAX_FRAME_SECONDS = 0.05; // a slow or hidden tab slows the game, never skips it

const server = gameServer(); // null: the page says why it cannot connect
const ui = {
  userId: $("#user-id"), find: $("#find"), leave: $("#leave"), again: $("#again"),
  me: $("#me"), myScore: $("#my-score"), hearts: $("#hearts"), room: $("#room"),
  opponent: $("#opponent"), opponentScore: $("#opponent-score"),
  opponentState: $("#opponent-state"), canvas: $("#world"), jump: $("#jump"),
  attack: $("#attack"), autopilot: $("#autopilot"), news: $("#news"), result: $("#result"),
};
const ctx = ui.canvas.getContext("2d");

let socket = null;
let match = newMatch(null);
let game = rules.newGame({ seed: seedFor() });
let lastFrame = null;
let lastSyncAt = -Infinity;
let problem = "";

function seedFor() {
  const asked = Number.parseInt(query.get("seed") || "", 10);
  return Number.isFinite(asked) ? asked : Math.floor(Math.random() * 2 ** 31);
}

function say(text) {
  if (text) ui.news.textContent = text;
}

function complain(text) {
  problem = text;
  showProblem(text);
}

// -- the connection ---------------------------------------------------------------------

async function findOpponent() {
  if (!server) return;
  complain("");
  if (!socket || socket.state === "closed") {
    const userId = ui.userId.value.trim();
    if (!userId) {
      complain("Choose a player id first.");
      return;
    }
    ui.userId.disabled = true;
    match = newMatch(userId);
    socket = new GameSocket(withUserId(server.url, userId));
    socket.on("state", (state) => { showConnection(state, server); render(); });
    socket.on("problem", complain);
    socket.on("message", received);
    try {
      await socket.connect();
    } catch {
      ui.userId.disabled = false;
      return; // the problem is on the page already
    }
  }
  match = askedForRoom(match);
  game = rules.newGame({ seed: seedFor() });
  socket.send("joinroom");
  say("Looking for an opponent…");
  render();
}

function received(message) {
  const [next, notice] = hear(match, message);
  if (message.action === "peer_player_id" && match.phase !== "playing") {
    game = rules.newGame({ seed: seedFor() }); // the battle begins now
  }
  if (message.action === "attacked" && message.data === "FREEZE") rules.freeze(game);
  match = next;
  if (message.action === "error") complain(notice);
  else say(notice);
  render();
}

function leaveRoom() {
  if (socket) socket.send("exitroom");
}

// -- playing ----------------------------------------------------------------------------

function playing() {
  return match.phase === "playing" && !game.dead && socket !== null && socket.state === "open";
}

function pressJump() {
  if (!playing()) return;
  if (rules.jump(game) === "frozen") say("You are frozen: you cannot jump yet!");
  render();
}

function pressAttack() {
  if (!playing() || match.opponentDead || !rules.attack(game)) return;
  socket.send("attack");
  say(`You froze ${match.opponent}!`);
  render();
}

function happened(events) {
  for (const event of events) {
    if (event.type === "score") {
      socket.send("syncscore", { score: event.score });
      lastSyncAt = performance.now();
    } else if (event.type === "hit") {
      say(event.hearts > 0 ? `Ouch! ${event.hearts} ♥ left.` : "Ouch!");
    } else if (event.type === "died") {
      say(`You fell with ${event.score} points.`);
      const wait = lastSyncAt + DIE_AFTER_SYNC_MS - performance.now();
      if (wait > 0) setTimeout(() => socket.send("die"), wait);
      else socket.send("die");
    }
  }
}

function frame(now) {
  const dt = lastFrame === null ? 0 : Math.min(MAX_FRAME_SECONDS, (now - lastFrame) / 1000);
  lastFrame = now;
  if (playing()) {
    if (ui.autopilot.checked && rules.autopilotWantsJump(game)) rules.jump(game);
    happened(rules.step(game, dt));
  }
  draw(ctx, game, match);
  render();
  requestAnimationFrame(frame);
}

// -- showing ----------------------------------------------------------------------------

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function attackLabel() {
  if (rules.canAttack(game) && !match.opponentDead) return "Attack: freeze them!";
  if (game.score <= rules.ATTACK_MIN_SCORE) return `Attack (needs more than ${rules.ATTACK_MIN_SCORE} points)`;
  if (game.t < game.attackReadyAt) return `Attack (ready in ${Math.ceil(game.attackReadyAt - game.t)} s)`;
  return "Attack";
}

function opponentState() {
  if (match.result) return "";
  if (match.opponentDead) return "fell";
  return match.opponent ? "playing" : "";
}

function render() {
  setText(ui.me, match.userId || ui.userId.value || "–");
  setText(ui.myScore, String(game.score));
  setText(ui.hearts, "♥".repeat(Math.max(0, game.hearts)));
  setText(ui.room, match.room || "–");
  setText(ui.opponent, match.opponent || "–");
  setText(ui.opponentScore, String(match.opponentScore));
  setText(ui.opponentState, opponentState());
  const frozen = playing() && rules.isFrozen(game);
  ui.canvas.classList.toggle("frozen", frozen);
  ui.jump.disabled = !playing();
  setText(ui.jump.firstChild, frozen ? `Frozen ${rules.frozenFor(game).toFixed(1)} s ` : "Jump ");
  ui.attack.disabled = !(playing() && !match.opponentDead && rules.canAttack(game));
  setText(ui.attack, attackLabel());
  ui.find.hidden = match.phase !== "idle";
  ui.find.disabled = !server || (socket !== null && socket.state === "connecting");
  ui.leave.hidden = match.phase !== "waiting" || match.opponent !== null;
  ui.again.hidden = match.phase !== "settled";
  ui.result.hidden = !match.result;
  setText(ui.result, match.result ? `${RESULT_WORDS[match.result] || match.result} ` +
    `You ${game.score}, ${match.opponent} ${match.opponentScore}.` : "");
}

function snapshot() {
  return {
    connection: socket ? socket.state : "new", problem, news: ui.news.textContent,
    userId: match.userId, phase: match.phase, room: match.room, opponent: match.opponent,
    opponentScore: match.opponentScore, opponentDead: match.opponentDead, result: match.result,
    freezes: match.freezes, t: game.t, score: game.score, hearts: game.hearts, y: game.y,
    onGround: rules.onGround(game), jumps: game.jumps, blockedJumps: game.blockedJumps,
    frozen: rules.isFrozen(game), dead: game.dead, canAttack: !ui.attack.disabled,
  };
}

// -- input ------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "text") return;
  if (event.code === "Space" || event.code === "ArrowUp") {
    event.preventDefault(); // no page scroll
    if (!event.repeat) pressJump();
  }
});
// A focused button would also take Space as a click (on key up): Space is for jumping.
document.addEventListener("keyup", (event) => {
  if (event.code === "Space" && !(event.target instanceof HTMLInputElement)) event.preventDefault();
});
ui.canvas.addEventListener("pointerdown", (event) => { event.preventDefault(); pressJump(); });
ui.jump.addEventListener("click", pressJump);
ui.attack.addEventListener("click", pressAttack);
ui.find.addEventListener("click", findOpponent);
ui.again.addEventListener("click", findOpponent);
ui.leave.addEventListener("click", leaveRoom);
ui.userId.value = query.get("user_id") || `fox-${Math.random().toString(36).slice(2, 7)}`;
ui.autopilot.checked = query.get("autopilot") === "1";
showConnection("new", server);
window.game = { get state() { return snapshot(); }, ready: true };
draw(ctx, game, match);
render();
requestAnimationFrame(frame);
