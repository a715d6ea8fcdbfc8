// What the server has told this player about the trivia game (lab 5 protocol), as plain
// data: no DOM, no network, no clock (the caller passes `now`, in seconds).
//
// The server never says how long a question stays open, so the countdown uses what this
// page knows: how long the previous question took, else the seconds it asked for when it
// started the game (times the local cloud's time scale, if config.js gives one).

/** A player in no game yet. */
export function newTrivia() {
  return {
    gameId: null, joining: null, you: null, players: [], started: false, over: false,
    question: null, number: 0, askedAt: null, scored: false, answers: {}, gains: {},
    questionSeconds: null, waitSeconds: null, stopped: null, results: [],
  };
}

function gainsBetween(before, after) {
  const old = new Map(before.map((p) => [p.connectionId, p.score]));
  return Object.fromEntries(after.map((p) => [p.connectionId, p.score - (old.get(p.connectionId) ?? p.score)]));
}

function playerList(state, players, now) {
  const mine = players.find((p) => p.currentPlayer);
  const next = {
    ...state, players, you: mine ? mine.connectionId : state.you,
    gameId: state.gameId || state.joining, joining: null,
  };
  if (!state.question || state.scored) return [next, ""];
  // A player list while a question is asked: that question's scores.
  const scored = {
    ...next, scored: true, gains: gainsBetween(state.players, players),
    questionSeconds: state.askedAt === null ? state.questionSeconds : now - state.askedAt,
  };
  const result = { number: state.number, questionId: state.question.id,
    words: answerWords(scored) };
  return [{ ...scored, results: [...state.results, result] }, `Question ${state.number} scored.`];
}

/** The state after one message from the server, and a sentence for the page ("" if none). */
export function hear(state, message, now) {
  switch (message.action) {
    case "gamecreated":
      return [{ ...newTrivia(), gameId: message.gameId },
        "Game created: share its id or invite link, then start when everyone is in."];
    case "playerlist":
      return playerList(state, Array.isArray(message.players) ? message.players : [], now);
    case "gamestarted":
      return [{ ...state, started: true }, "The game has started: the first question is on its way."];
    case "question":
      return [{
        ...state, started: true, question: message.question, number: state.number + 1,
        askedAt: now, scored: false, gains: {},
      }, ""];
    case "gameover":
      return [{ ...state, over: true }, "Game over!"];
    case "error": {
      const reason = String(message.data);
      const stopped = reason.startsWith("the game stopped") ? reason : state.stopped;
      return [{ ...state, stopped, joining: null }, `The server refused that: ${reason}`];
    }
    default:
      return [state, `The server sent an action this page does not know: ${message.action}`];
  }
}

/** Asked to join a game (sent joingame): its id is ours once the player list arrives. */
export function joining(state, gameId) {
  return { ...newTrivia(), joining: gameId };
}

/** This player started the game (sent startgame) with `waitSeconds` per question. */
export function starting(state, waitSeconds) {
  return { ...state, waitSeconds };
}

/** This player answered the question being asked (sent answer). */
export function answered(state, option) {
  return { ...state, answers: { ...state.answers, [state.question.id]: option } };
}

/** Whether the question being asked can still be answered by this player. */
export function canAnswer(state) {
  return Boolean(state.question) && !state.scored && !state.over &&
    !(state.question.id in state.answers);
}

/**
 * The countdown of the question being asked: {seconds, left} (left counts down to 0), or
 * null when there is none (no open question, or no way to know how long it lasts).
 */
export function countdown(state, now, { timeScale = 1 } = {}) {
  if (!state.question || state.scored || state.over || state.askedAt === null) return null;
  // How long the last question really took is the best guess; before that, what was asked.
  const seconds = state.questionSeconds ?? (state.waitSeconds === null ? null : state.waitSeconds * timeScale);
  if (seconds === null || !(seconds > 0)) return null;
  return { seconds, left: Math.max(0, state.askedAt + seconds - now) };
}

/** The players best first, with ranks (equal scores share a rank: 1, 1, 3). */
export function leaderboard(players) {
  const sorted = [...players].sort((a, b) => b.score - a.score ||
    String(a.playerName).localeCompare(String(b.playerName)));
  return sorted.map((player) => ({
    ...player, rank: 1 + sorted.filter((other) => other.score > player.score).length,
  }));
}

/** What the page says about this player's answer to the question being asked. */
export function answerWords(state) {
  const question = state.question;
  if (!question) return "";
  const mine = question.id in state.answers;
  if (!state.scored) return mine ? `You answered “${state.answers[question.id]}”: waiting for the scores…` : "";
  const gain = state.gains[state.you] || 0;
  if (gain > 0) return `Right! +${gain} for you.`;
  return mine ? "Not this time: no points." : "You did not answer in time.";
}
