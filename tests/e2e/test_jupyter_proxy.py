"""The game through a Jupyter server's proxy, as on JupyterHub or a remote JupyterLab.

A real Jupyter server with jupyter-server-proxy (the `lab` extra) and a base URL, as
JupyterHub gives each user, proxies the local cloud's port: the battle page loads from
``{base_url}proxy/{port}/_website/…`` and a WebSocket through
``{base_url}proxy/{port}/{apiId}/{stage}`` reaches the game, which is the URL the page
derives from its own address there.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from workshop import cloud as lifecycle
from workshop import website

pytest.importorskip("jupyter_server_proxy", reason="install the lab extra: pip install -e '.[lab]'")

ECHO = Path(__file__).resolve().parents[1] / "fixtures" / "e2e" / "echo.yaml"
TOKEN = "proxy-test-token"
BASE = "/user/ada/"


@pytest.fixture(scope="module")
def jupyter(cloud: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Jupyter server on a free port; yields its root URL (with the base URL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("jupyter") / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
             f"--ServerApp.base_url={BASE}", "--allow-root",
             f"--ServerApp.root_dir={tmp_path_factory.mktemp('notebooks')}"],
            stdout=output, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}{BASE}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{root}api/status?token={TOKEN}", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Jupyter server did not start: {log.read_text()[-800:]}")
                time.sleep(0.2)
        yield root
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_page_and_its_socket_work_through_the_proxy(cloud: dict, jupyter: str) -> None:
    game = lifecycle.deploy(ECHO, stack_name="proxied")["outputs"]
    site = website.publish(stack_name="proxied", target="local", game_outputs=game)
    local = f"http://127.0.0.1:{cloud['port']}"
    proxied = f"{jupyter}proxy/{cloud['port']}"
    page = site["BattlePageURL"].replace(local, proxied)
    request = urllib.request.Request(page, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200 and b'<script src="./config.js"></script>' in reply.read()
    socket_url = game["WebSocketURL"].replace(f"ws://127.0.0.1:{cloud['port']}",
                                              proxied.replace("http://", "ws://"))
    ws = websocket.create_connection(socket_url, timeout=10,
                                     header=[f"Authorization: token {TOKEN}"])
    try:
        ws.send(json.dumps({"action": "echo", "data": "through the proxy"}))
        assert json.loads(ws.recv())["data"] == "through the proxy"
    finally:
        ws.close()
    website.delete(stack_name="proxied", target="local")
