// What the server has told this player about the battle (labs 1-4 protocol), as plain
// data: no DOM, no network. `hear` takes one message and returns what the page should
// say about it; the page applies the game effects (a freeze) itself.
//
// Messages may arrive in any order between two senders: a waiting player can hear
// peer_player_id before its own joinroom reply, so neither assumes the other came first.

export const RESULT_WORDS = { WIN: "You win!", LOSE: "You lose.", DRAW: "A draw." };

/** A player who has not asked for a room yet. */
export function newMatch(userId) {
  return {
    userId, phase: "idle", room: null, opponent: null, opponentScore: 0,
    opponentDead: false, result: null, freezes: 0,
  };
}

/** Asked for a room (sent joinroom): waiting until the server pairs us. */
export function askedForRoom(match) {
  return { ...newMatch(match.userId), phase: "waiting" };
}

/**
 * The match after one message from the server, and a sentence for the page ("" if none).
 * Unknown actions are reported, not ignored, so a protocol mistake shows.
 */
export function hear(match, message) {
  const { action, data } = message;
  switch (action) {
    case "joinroom":
      return [{ ...match, room: data, phase: match.opponent ? match.phase : "waiting" },
        match.opponent ? "" : `You are in room ${data}: waiting for an opponent…`];
    case "peer_player_id":
      return [{ ...match, opponent: data, phase: "playing" }, `Matched with ${data}. Go!`];
    case "player_syncscore":
      // A score only grows, and two syncscores may arrive in either order (API Gateway
      // runs a connection's messages at the same time): the highest heard is the score.
      return [{ ...match, opponentScore: Math.max(match.opponentScore, Number(data) || 0) }, ""];
    case "attacked":
      return data === "FREEZE"
        ? [{ ...match, freezes: match.freezes + 1 }, `${match.opponent || "Your opponent"} froze you!`]
        : [match, `An attack the game does not know: ${JSON.stringify(data)}`];
    case "player_died":
      return data === "all"
        ? [{ ...match, opponentDead: true }, "Both players have fallen: settling the battle…"]
        : [{ ...match, opponentDead: true },
          `${data} fell with ${match.opponentScore} points. Your points still count until you fall.`];
    case "battle_settlement":
      return [{ ...match, result: data, phase: "settled" },
        `${RESULT_WORDS[data] || `The battle ended: ${data}.`} The battle is settled.`];
    case "exitroom":
    case "destroyroom":
      return [{ ...newMatch(match.userId) }, `You left room ${data}.`];
    case "error":
      // A refused joinroom leaves the player free to ask again.
      return [match.phase === "waiting" && match.room === null ? newMatch(match.userId) : match,
        `The server refused that: ${data}`];
    default:
      return [match, `The server sent an action this page does not know: ${action}`];
  }
}
