"""The game's web pages in a notebook: a link for a new tab and the page inside the notebook.

``open_game("battle", deployment)`` publishes the pages for the learner's deployed stack
(:mod:`workshop.website`: an S3 website whose ``config.js`` holds the stack's WebSocket URL)
and shows both. Nothing waits for a person: the cell returns at once, so "Run all" and CI
run it like any other.

Where the page's address comes from:

* the **local cloud**, JupyterLab on this machine: the website's own loopback address;
* the **local cloud**, JupyterLab elsewhere (JupyterHub, SageMaker, a remote server): the
  browser cannot reach that machine's 127.0.0.1, so the page goes through the Jupyter
  server's proxy (jupyter-server-proxy's ``{base_url}proxy/{port}/…``). A small script in
  the cell's output sees where the notebook page itself was loaded from and switches the
  link and the frame to the proxy path; the page then finds its WebSocket URL through the
  same proxy. ``WORKSHOP_PROXY_BASE`` (say ``/jupyter/default/proxy/4580``) sets the prefix
  by hand where the guess is wrong;
* the **aws target**: the bucket's public website endpoint (``http://``): a JupyterLab
  served over HTTPS refuses to show an ``http://`` page in a frame (mixed content), so
  there use the link.
"""

from __future__ import annotations

import html
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from .. import website

__all__ = ["GamePage", "PROXY_VARIABLE", "open_game", "page_for", "publish"]

PROXY_VARIABLE = "WORKSHOP_PROXY_BASE"
_OUTPUT = {"battle": "BattlePageURL", "trivia": "TriviaPageURL"}
_TITLES = {"battle": "the battle", "trivia": "the trivia game"}

# Runs in the notebook page (trusted output): where JupyterLab is not on this machine,
# point the link and the frame at the Jupyter server's proxy for the local cloud's port.
_SCRIPT = """
(() => {
  const box = document.getElementById(%(id)s);
  if (!box) return;
  const direct = new URL(%(url)s);
  const loopback = (name) => name === "localhost" || name.endsWith(".localhost") ||
    /^127(\\.\\d{1,3}){3}$/.test(name) || name === "[::1]";
  if (loopback(window.location.hostname) || !loopback(direct.hostname)) return;
  let base = "/";
  const data = document.getElementById("jupyter-config-data");
  if (data) { try { base = JSON.parse(data.textContent).baseUrl || "/"; } catch (e) {} }
  if (!base.endsWith("/")) base += "/";
  const proxied = `${base}proxy/${direct.port}${direct.pathname}${direct.search}`;
  for (const a of box.querySelectorAll("a[data-game]")) a.href = proxied;
  for (const frame of box.querySelectorAll("iframe")) frame.src = proxied;
  const how = box.querySelector("[data-how]");
  if (how) how.textContent = "Through this Jupyter server's proxy (" + base + "proxy/" +
    direct.port + "/), because this notebook is not open on the machine that runs the " +
    "local cloud.";
})();
"""


@dataclass(frozen=True)
class GamePage:
    """One game page to show: its URL (as seen from this machine) and how it is reached."""

    page: str
    url: str
    how: str
    height: int = 560

    def __str__(self) -> str:
        return self.url

    def _repr_html_(self) -> str:
        box = f"game-{uuid.uuid4().hex[:12]}"
        url = html.escape(self.url, quote=True)
        title = _TITLES.get(self.page, self.page)
        return (
            f'<div id="{box}">'
            f'<p><a data-game href="{url}" target="_blank" rel="noopener">Open {title} in a '
            f'new tab</a> (open it twice to play yourself, or share the tab with a '
            f'neighbour).<br><small data-how>{html.escape(self.how)}</small></p>'
            f'<iframe src="{url}" title="{html.escape(title)}" width="100%" '
            f'height="{self.height}" style="border: 1px solid #ccc; border-radius: 6px">'
            f'</iframe></div>'
            f"<script>{_SCRIPT % {'id': json.dumps(box), 'url': json.dumps(self.url)}}</script>")


def _proxied(url: str) -> str | None:
    """``url`` through the prefix ``WORKSHOP_PROXY_BASE`` names, if it is set."""
    base = os.environ.get(PROXY_VARIABLE, "").strip()
    if not base:
        return None
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def page_for(page: str, site_outputs: Mapping[str, str], *, height: int = 560,
             **params: str) -> GamePage:
    """The ``battle`` or ``trivia`` page of a published website; ``params`` go in its
    address (the battle page reads ``user_id``, the trivia page ``name`` and ``game``)."""
    if page not in _OUTPUT:
        raise ValueError(f"page {page!r} is not one of {', '.join(_OUTPUT)}")
    url = site_outputs[_OUTPUT[page]]
    if params:
        url += "?" + urlencode(params)
    proxied = _proxied(url)
    if proxied is not None:
        return GamePage(page, proxied, f"Through the proxy {PROXY_VARIABLE} names.", height)
    if urlsplit(url).hostname in ("127.0.0.1", "localhost"):
        how = "From the local cloud's website on this machine (an S3 website, emulated)."
    else:
        how = ("From the stack's S3 website: anyone with this address can open the page. "
               "If the frame stays empty, your JupyterLab is served over HTTPS and refuses "
               "an http:// frame: use the link.")
    return GamePage(page, url, how, height)


def publish(deployment: Any, *, target: str | None = None) -> dict[str, str]:
    """Publish the pages for a deployed lab (an ``exercises.deploy`` result or its report)."""
    report = getattr(deployment, "report", deployment)
    stack_name = report.get("stack_name") or "workshop"
    target = target or getattr(deployment, "target", None)
    return website.publish(stack_name=stack_name, target=target,
                           game_outputs=report.get("outputs") or {})


def open_game(page: str, deployment: Any, *, height: int = 560, **params: str) -> GamePage:
    """Publish the pages for ``deployment`` and return ``page`` to show (link and frame)."""
    return page_for(page, publish(deployment), height=height, **params)
