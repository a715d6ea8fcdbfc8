// The trivia page: wires what the server said (state.js) and the connection
// (../shared/connection.js) to the page.
//
// window.game is a handle for people and tests: window.game.state is a plain snapshot of
// everything the page shows.

import { GameSocket } from "../shared/connection.js";
import { $, el, gameServer, query, showConnection, showProblem } from "../shared/page.js";
import * as trivia from "./state.js";

const TICK_MS = 100;
const MEDALS = ["gold", "silver", "bronze"];

const server = gameServer(); // null: the page says why it cannot connect
const configured = Number(server && server.config.timeScale);
const timeScale = configured > 0 ? configured : 1;
const ui = {
  lobby: $("#lobby"), name: $("#name"), newGame: $("#new-game"), gameId: $("#game-id"),
  join: $("#join"), game: $("#game"), gameLabel: $("#game-label"), invite: $("#invite"),
  copy: $("#copy"), players: $("#players"), startForm: $("#start-form"),
  questionCount: $("#question-count"), waitSeconds: $("#wait-seconds"), start: $("#start"),
  play: $("#play"), questionNumber: $("#question-number"), questionText: $("#question-text"),
  options: $("#options"), countdown: $("#countdown"), countdownText: $("#countdown-text"),
  answerState: $("#answer-state"), scores: $("#scores"), scoresTitle: $("#scores-title"),
  scoreboard: $("#scoreboard"), results: $("#results"), news: $("#news"),
};

let socket = null;
let state = trivia.newTrivia();
let problem = "";

const now = () => performance.now() / 1000;

function say(text) {
  if (text) ui.news.textContent = text;
}

function complain(text) {
  problem = text;
  showProblem(text);
}

// -- talking to the server --------------------------------------------------------------

async function connected() {
  if (!server) return false;
  if (socket && socket.state === "open") return true;
  if (socket && socket.state === "connecting") return false;
  socket = new GameSocket(server.url);
  socket.on("state", (s) => { showConnection(s, server); render(); });
  socket.on("problem", complain);
  socket.on("message", received);
  try {
    await socket.connect();
    return true;
  } catch {
    return false; // the problem is on the page already
  }
}

function received(message) {
  const [next, notice] = trivia.hear(state, message, now());
  state = next;
  if (message.action === "error") complain(notice);
  else say(notice);
  render();
}

function nameFields() {
  const name = ui.name.value.trim();
  return name ? { name } : {};
}

async function newGame() {
  complain("");
  if (!(await connected())) return;
  state = trivia.newTrivia();
  socket.send("newgame", nameFields());
  render();
}

async function joinGame() {
  complain("");
  const gameId = ui.gameId.value.trim();
  if (!gameId) {
    complain("Paste the id of the game to join (the person who created it can share it).");
    return;
  }
  if (!(await connected())) return;
  state = trivia.joining(state, gameId);
  socket.send("joingame", { gameid: gameId, ...nameFields() });
  render();
}

function startGame() {
  complain("");
  const waitseconds = Number(ui.waitSeconds.value);
  const questioncount = Number(ui.questionCount.value);
  if (socket.send("startgame", { gameid: state.gameId, waitseconds, questioncount })) {
    state = trivia.starting(state, waitseconds);
  }
  render();
}

function answer(option) {
  if (!trivia.canAnswer(state)) return;
  if (socket.send("answer", { gameid: state.gameId, questionid: state.question.id, answer: option })) {
    state = trivia.answered(state, option);
  }
  render();
}

// -- showing ----------------------------------------------------------------------------

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function inviteLink() {
  const link = new URL(window.location.href);
  link.search = "";
  link.searchParams.set("game", state.gameId);
  if (query.get("ws")) link.searchParams.set("ws", query.get("ws"));
  return link.href;
}

function renderPlayers() {
  const items = state.players.map((p) => el("li", { class: p.currentPlayer ? "you" : "" },
    `${p.playerName}${p.currentPlayer ? " (you)" : ""}`));
  ui.players.replaceChildren(...items);
}

function renderQuestion() {
  const question = state.question;
  ui.play.hidden = !state.started || state.over;
  if (!question) {
    setText(ui.questionNumber, "Get ready…");
    setText(ui.questionText, "");
    ui.options.replaceChildren();
    return;
  }
  setText(ui.questionNumber, `Question ${state.number}`);
  setText(ui.questionText, question.question);
  const texts = [...ui.options.children].map((b) => b.textContent);
  if (JSON.stringify(texts) !== JSON.stringify(question.options)) {
    ui.options.replaceChildren(...question.options.map((option, index) =>
      el("button", { type: "button", title: `key ${index + 1}`, onclick: () => answer(option) },
        option)));
  }
  const chosen = state.answers[question.id];
  for (const button of ui.options.children) {
    button.disabled = !trivia.canAnswer(state);
    button.classList.toggle("chosen", button.textContent === chosen);
  }
  setText(ui.answerState, trivia.answerWords(state));
  renderCountdown();
}

function renderCountdown() {
  const clock = trivia.countdown(state, now(), { timeScale });
  ui.countdown.value = clock ? clock.left / clock.seconds : 0;
  const open = state.question && !state.scored && !state.over;
  setText(ui.countdownText, clock ? `${Math.ceil(clock.left)} s left` :
    open ? "answer before the time runs out" : "");
}

function scoresTitle() {
  if (state.over) return "Final scores";
  const scoredUpTo = state.scored ? state.number : state.number - 1;
  return scoredUpTo > 0 ? `Scores after question ${scoredUpTo}` : "Players";
}

function renderScores() {
  const board = trivia.leaderboard(state.players);
  ui.scores.hidden = !state.started || board.length === 0;
  setText(ui.scoresTitle, scoresTitle());
  const head = el("tr", {}, el("th", { text: "#" }), el("th", { text: "player" }),
    el("th", { text: "score" }), el("th", { text: "" }));
  const rows = board.map((p) => {
    const gain = state.gains[p.connectionId] || 0;
    const medal = state.over && p.rank <= 3 ? ` ${MEDALS[p.rank - 1]}` : "";
    return el("tr", { class: p.currentPlayer ? "you" : "" },
      el("td", {}, el("span", { class: `rank${medal}`, text: String(p.rank) })),
      el("td", { text: `${p.playerName}${p.currentPlayer ? " (you)" : ""}` }),
      el("td", { class: "score", text: String(p.score) }),
      el("td", { class: "gain", text: gain > 0 && !state.over ? `+${gain}` : "" }));
  });
  ui.scoreboard.replaceChildren(head, ...rows);
  if (ui.results.children.length !== state.results.length) {
    ui.results.replaceChildren(...state.results.map((r) =>
      el("li", { text: `Question ${r.number}: ${r.words}` })));
  }
}

function render() {
  const inGame = Boolean(state.gameId);
  ui.lobby.hidden = inGame && !state.over;
  if (ui.lobby.hidden && ui.lobby.contains(document.activeElement)) document.activeElement.blur();
  ui.game.hidden = !inGame || state.started;
  setText(ui.gameLabel, state.gameId || "");
  if (inGame && ui.invite.value !== inviteLink()) ui.invite.value = inviteLink();
  ui.start.disabled = !socket || socket.state !== "open";
  const connecting = socket !== null && socket.state === "connecting";
  ui.newGame.disabled = !server || connecting;
  ui.join.disabled = !server || connecting;
  renderPlayers();
  renderQuestion();
  renderScores();
  if (state.over) say(winnerWords());
}

function winnerWords() {
  const board = trivia.leaderboard(state.players);
  const best = board.filter((p) => p.rank === 1).map((p) => p.playerName);
  if (state.stopped) return `The game stopped early: ${state.stopped}`;
  if (best.length === 0) return "Game over.";
  return best.length === 1 ? `Game over: ${best[0]} wins!` : `Game over: ${best.join(" and ")} share the win!`;
}

async function copyInvite() {
  ui.invite.select();
  try {
    await navigator.clipboard.writeText(ui.invite.value);
    say("Invite link copied.");
  } catch {
    say("Select the link and copy it (this browser did not allow the page to copy).");
  }
}

function snapshot() {
  return {
    connection: socket ? socket.state : "new", problem, news: ui.news.textContent,
    gameId: state.gameId, you: state.you, players: state.players, started: state.started,
    over: state.over, question: state.question, number: state.number, scored: state.scored,
    answers: state.answers, results: state.results, canAnswer: trivia.canAnswer(state),
    leaderboard: trivia.leaderboard(state.players), countdown: trivia.countdown(state, now(), { timeScale }),
  };
}

// Keys 1-4 answer with the first to fourth option, for people who prefer the keyboard.
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLInputElement || !state.question) return;
  const option = state.question.options[Number(event.key) - 1];
  if (option !== undefined && trivia.canAnswer(state)) answer(option);
});
ui.newGame.addEventListener("click", newGame);
ui.join.addEventListener("click", joinGame);
ui.gameId.addEventListener("keydown", (event) => { if (event.key === "Enter") joinGame(); });
ui.start.addEventListener("click", startGame);
ui.copy.addEventListener("click", copyInvite);
ui.name.value = query.get("name") || "";
ui.gameId.value = query.get("game") || "";
if (ui.gameId.value) say("You were invited to a game: press Join.");
showConnection("new", server);
setInterval(() => { if (trivia.countdown(state, now(), { timeScale })) renderCountdown(); }, TICK_MS);
window.game = { get state() { return snapshot(); }, ready: true };
render();
