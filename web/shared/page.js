// What both game pages do the same way: read ./config.js and the page's address, show
// where they connect and any problem in plain words. Browser code (DOM), kept small.

import { resolveWebSocketUrl } from "./endpoint.js";

/** The page's ?name= parameters. */
export const query = new URLSearchParams(window.location.search);

/**
 * The deploy's settings from ./config.js (window.WORKSHOP_CONFIG) and the WebSocket URL
 * to use: {url, how, config}; null, with the reason shown on the page, when there is no
 * usable URL (the page then stays usable for reading, but cannot connect).
 */
export function gameServer() {
  const config = window.WORKSHOP_CONFIG || {};
  try {
    if (!window.WORKSHOP_CONFIG && !query.get("ws")) {
      throw new Error("This page's config.js did not load, so it does not know where the " +
        "game server is. Deploy the stack (workshop deploy), or add ?ws=<WebSocketURL> " +
        "to the address.");
    }
    const chosen = resolveWebSocketUrl({
      configured: config.webSocketUrl, override: query.get("ws"), page: window.location.href,
    });
    return { ...chosen, config };
  } catch (error) {
    showProblem(error.message);
    return null;
  }
}

/** `$("#id")`, throwing a clear error if the page lacks the element. */
export function $(selector) {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
}

/** A new element: el("li", {class: "x", text: "hi"}, child, ...). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** Show a problem in the page's alert bar (the newest one wins); "" hides it. */
export function showProblem(text) {
  const bar = document.querySelector("#problem");
  if (!bar) return;
  bar.textContent = text;
  bar.hidden = !text;
}

/** Show the connection's state in the page's status line. */
export function showConnection(state, server) {
  const line = document.querySelector("#connection");
  if (!line) return;
  const words = {
    new: "not connected", connecting: "connecting…", open: "connected", closed: "disconnected",
  }[state] || state;
  line.textContent = server ? `${words} · ${server.url} (${server.how})` :
    `${words} · no game server to connect to`;
  line.dataset.state = state;
}
