// One player's WebSocket connection to the game's API, with every problem put in plain
// words: a refused or failed connection, a server that closes the socket, a frame from
// API Gateway itself ({"message": "Forbidden", ...}), a frame that is not JSON.
//
// The wire protocol is JSON text frames {"action": ..., ...}; this module assumes nothing
// else about the game, so both pages use it.

/** Close codes a player may meet, in words (RFC 6455 and API Gateway's quotas). */
const CLOSE_CODES = {
  1000: "it was closed on purpose",
  1001: "the server went away: the connection was idle for 10 minutes, reached its " +
    "2-hour limit, or the server stopped",
  1003: "the server does not accept binary messages",
  1005: "no reason was given",
  1006: "the connection dropped without a goodbye (the network, or the server stopped)",
  1007: "a message was not valid text",
  1008: "the server refused a message",
  1009: "a message was too big (API Gateway takes at most 128 KB)",
  1011: "the server hit an internal error",
};

/**
 * A sentence saying why a connection ended.
 *
 * @param {number} code       the close code
 * @param {string} reason     the close reason the server sent, maybe empty
 * @param {boolean} opened    whether the connection had opened before it closed
 * @param {boolean} byPlayer  whether this page closed it
 */
export function describeClose(code, reason, { opened, byPlayer = false }) {
  if (byPlayer) return "You left the game: the connection is closed.";
  if (!opened) {
    return "Could not connect to the game server. Is it running and is the stack " +
      "deployed? (workshop up, then workshop deploy; on AWS, check the stack's " +
      "WebSocketURL). The server may also have refused this player (a user id that is too long?).";
  }
  const meaning = CLOSE_CODES[code] || "an unexpected close";
  const said = reason ? `: "${reason}"` : "";
  return `The server closed the connection (code ${code}${said}): ${meaning}. ` +
    "Reload the page to connect again.";
}

/**
 * A received frame as {kind, message, text}: kind is "message" for a protocol message,
 * "gateway" for API Gateway's own frames, "unknown" for anything else.
 */
export function readFrame(data) {
  let message = null;
  try {
    message = JSON.parse(data);
  } catch {
    return { kind: "unknown", message: null, text: `The server sent something that is not JSON: ${String(data).slice(0, 80)}` };
  }
  if (message && typeof message === "object" && !Array.isArray(message)) {
    if (typeof message.action === "string") return { kind: "message", message, text: "" };
    if (typeof message.message === "string") {
      return { kind: "gateway", message, text: `The gateway answered "${message.message}": ` +
        "the function behind that route failed or is not allowed to run (see its logs: workshop logs)." };
    }
  }
  return { kind: "unknown", message, text: `The server sent a message with no "action": ${String(data).slice(0, 80)}` };
}

/**
 * The connection: `connect()` opens it; listeners get each protocol message ("message"),
 * each problem in words ("problem") and each change of state ("state": connecting, open,
 * closed).
 */
export class GameSocket {
  constructor(url) {
    this.url = url;
    this.state = "new";
    this.closeText = "";
    this._socket = null;
    this._opened = false;
    this._leaving = false;
    this._listeners = { message: [], problem: [], state: [] };
  }

  on(kind, listener) {
    this._listeners[kind].push(listener);
    return this;
  }

  _emit(kind, value) {
    for (const listener of this._listeners[kind]) listener(value);
  }

  _setState(state) {
    this.state = state;
    this._emit("state", state);
  }

  /** Open the connection; resolves once open, rejects with the problem in words. */
  connect() {
    this._setState("connecting");
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this._socket = socket;
      socket.addEventListener("open", () => {
        this._opened = true;
        this._setState("open");
        resolve();
      });
      socket.addEventListener("message", (event) => this._received(event.data));
      socket.addEventListener("close", (event) => {
        this.closeText = describeClose(event.code, event.reason,
          { opened: this._opened, byPlayer: this._leaving });
        this._setState("closed");
        if (!this._leaving) this._emit("problem", this.closeText);
        if (!this._opened) reject(new Error(this.closeText));
      });
    });
  }

  _received(data) {
    if (typeof data !== "string") {
      this._emit("problem", "The server sent a binary frame; the game expects JSON text.");
      return;
    }
    const frame = readFrame(data);
    if (frame.kind === "message") this._emit("message", frame.message);
    else this._emit("problem", frame.text);
  }

  /** Send {"action": action, ...fields}; false (and a problem) if the socket is not open. */
  send(action, fields = {}) {
    if (this.state !== "open") {
      this._emit("problem", this.closeText || "Not connected to the game server yet.");
      return false;
    }
    this._socket.send(JSON.stringify({ action, ...fields }));
    return true;
  }

  /** Close the connection on purpose (the server's $disconnect route runs). */
  close() {
    this._leaving = true;
    if (this._socket) this._socket.close(1000, "player left");
  }
}
