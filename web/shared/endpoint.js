// Which WebSocket URL a game page connects to, decided from plain values (no DOM, no
// network) so that every case can be tested on its own.
//
// The deploy writes the stack's WebSocket URL into ./config.js. Locally that is a loopback
// URL (ws://127.0.0.1:4580/{apiId}/{stage}) which only works for a browser on the same
// machine as the local cloud. Two other ways of opening the page need another URL:
//
// * through a Jupyter server's proxy (jupyter-server-proxy: .../proxy/4580/...), as on
//   SageMaker Studio or a remote JupyterLab: the browser cannot reach 127.0.0.1 of the
//   server, so the socket goes through the same proxy prefix the page came through;
// * class play (`workshop up --host ADDR`): the room opens http://ADDR:4580/..., so the
//   socket goes to ADDR too.

const LOOPBACK_NAMES = new Set(["localhost", "[::1]", "::1"]);

/** Whether a URL's hostname names this machine (localhost, *.localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname) {
  const name = hostname.toLowerCase();
  return LOOPBACK_NAMES.has(name) || name.endsWith(".localhost") ||
    /^127(\.\d{1,3}){3}$/.test(name);
}

function portOf(url) {
  if (url.port) return url.port;
  return url.protocol === "wss:" || url.protocol === "https:" ? "443" : "80";
}

function parseSocketUrl(text, where) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${where} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new Error(`${where} must start with ws:// or wss://, not ${url.protocol}//`);
  }
  return url;
}

/**
 * The WebSocket URL to connect to, and how it was chosen.
 *
 * @param {object} options
 * @param {string|null|undefined} options.configured  the URL from config.js
 * @param {string|null|undefined} options.override    the page's ?ws= parameter, if any
 * @param {string} options.page                       the page's own address (location.href)
 * @returns {{url: string, how: string}}
 * @throws {Error} with a sentence saying what is wrong, when there is no usable URL
 */
export function resolveWebSocketUrl({ configured, override, page }) {
  if (override) {
    return { url: parseSocketUrl(override, "The ?ws= address").href, how: "from ?ws= in the page's address" };
  }
  if (!configured) {
    throw new Error("This page does not know where the game server is: config.js has no " +
      "webSocketUrl. Deploy the stack (workshop deploy), or add ?ws=<WebSocketURL> to the address.");
  }
  const server = parseSocketUrl(configured, "config.js's webSocketUrl");
  const here = new URL(page);
  if (server.protocol !== "ws:" || !isLoopbackHost(server.hostname) ||
      (here.protocol !== "http:" && here.protocol !== "https:")) {
    return { url: server.href, how: "from config.js" };
  }
  const socketScheme = here.protocol === "https:" ? "wss:" : "ws:";
  const port = portOf(server);
  const proxy = here.pathname.match(new RegExp(`^(.*?/proxy/${port})/`));
  if (proxy) {
    const url = `${socketScheme}//${here.host}${proxy[1]}${server.pathname}${server.search}`;
    return { url, how: `through the proxy this page came through (${proxy[1]}/)` };
  }
  if (portOf(here) === port && here.hostname !== server.hostname &&
      !here.hostname.endsWith(".localhost")) {
    // The local cloud serves the page and the sockets on one port: whatever address the
    // browser reached the page at reaches the sockets too (class play). Not a website's
    // virtual-host name ({bucket}.s3-website-{region}.localhost), which names the site.
    const url = `${socketScheme}//${here.host}${server.pathname}${server.search}`;
    return { url, how: `from this page's address (${here.host}): the local cloud serves both` };
  }
  return { url: server.href, how: "from config.js" };
}

/** The URL for one player: the game's URL with ?user_id= set (other parameters kept). */
export function withUserId(url, userId) {
  const result = new URL(url);
  result.searchParams.set("user_id", userId);
  return result.href;
}
