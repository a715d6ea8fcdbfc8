"""The command-line contract: exit status, one-line reasons, JSON output."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import websocket

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def workshop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workshop", *args], capture_output=True,
                          text=True, timeout=120, env=env or dict(os.environ))


def test_status_json_describes_the_running_cloud(cloud: dict) -> None:
    result = workshop("status", "--json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["status"] == "running" and state["port"] == cloud["port"]


def test_up_is_idempotent(cloud: dict) -> None:
    result = workshop("up")
    assert result.returncode == 0, result.stderr
    assert f"pid {cloud['pid']}" in result.stdout


def test_deploy_then_outputs_json_gives_a_ws_url_that_talks(cloud: dict) -> None:
    deployed = workshop("deploy", "--template", str(FIXTURES / "e2e" / "echo.yaml"),
                        "--stack-name", "cli")
    assert deployed.returncode == 0, deployed.stderr
    assert "WebSocketURL" in deployed.stdout
    outputs = json.loads(workshop("outputs", "--json", "--stack-name", "cli").stdout)
    assert outputs["WebSocketURL"].startswith("ws://127.0.0.1:")
    ws = websocket.create_connection(outputs["WebSocketURL"], timeout=10)
    ws.send(json.dumps({"action": "echo", "data": 42}))
    assert json.loads(ws.recv())["data"] == 42
    ws.close()
    logs = workshop("logs", "EchoFunction", "--stack-name", "cli")
    assert logs.returncode == 0, logs.stderr
    assert "START RequestId:" in logs.stdout


def test_delete_removes_one_stack_and_leaves_the_others(cloud: dict) -> None:
    echo = str(FIXTURES / "e2e" / "echo.yaml")
    for name in ("doomed", "kept"):
        assert workshop("deploy", "--template", echo, "--stack-name", name).returncode == 0
    doomed_url = json.loads(workshop("outputs", "--json", "--stack-name", "doomed").stdout)
    result = workshop("delete", "--stack-name", "doomed")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stack doomed deleted: ")
    stacks = json.loads(workshop("status", "--json").stdout)["stacks"]
    assert "doomed" not in stacks and "kept" in stacks
    with pytest.raises(websocket.WebSocketBadStatusException):  # its API is gone
        websocket.create_connection(doomed_url["WebSocketURL"], timeout=10)
    again = workshop("delete", "--stack-name", "doomed")
    assert (again.returncode, again.stderr.strip()) == (
        1, "workshop delete: stack 'doomed' has not been deployed")


def test_a_broken_template_is_refused_and_changes_nothing(cloud: dict, tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n   Properties: [\n")
    before = json.loads(workshop("status", "--json").stdout)
    result = workshop("deploy", "--template", str(broken), "--stack-name", "cli")
    assert result.returncode == 1
    assert str(broken) in result.stderr and result.stderr.count("\n") == 1
    after = json.loads(workshop("status", "--json").stdout)
    assert after["functions"] == before["functions"] and after["stacks"] == before["stacks"]


def test_missing_template_file_is_one_clear_line(cloud: dict) -> None:
    result = workshop("deploy", "--template", "no/such/template.yaml")
    assert result.returncode == 1
    assert result.stderr == "workshop deploy: no/such/template.yaml: no such template file\n"


def test_unknown_option_is_named(cloud: dict) -> None:
    result = workshop("status", "--colour")
    assert result.returncode == 2
    assert "unrecognized arguments: --colour" in result.stderr


def _private_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(WORKSHOP_HOME=str(tmp_path), WORKSHOP_PORT=str(port))
    return env


def test_port_taken_by_another_program_is_explained(tmp_path: Path) -> None:
    # Another web server (a second Jupyter, say) answers on the port, with its own pages.
    squatter = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=squatter.serve_forever, daemon=True)
    thread.start()
    try:
        result = workshop("up", env=_private_env(tmp_path, squatter.server_port))
    finally:
        squatter.shutdown()
    assert result.returncode == 1
    assert result.stderr == (
        f"workshop up: port {squatter.server_port} is in use by another program, not the "
        "local cloud; choose another port with --port or WORKSHOP_PORT\n")


def test_stale_pid_file_is_cleared_and_a_live_one_is_explained(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _private_env(tmp_path, port)
    pid_file = tmp_path / f"cloud-{port}.pid"
    # A live process that is not answering on the port holds the pid file.
    pid_file.write_text(json.dumps({"pid": os.getpid(), "port": port}))
    held = workshop("up", env=env)
    assert held.returncode == 1 and f"pid {os.getpid()}" in held.stderr
    # A dead process's pid file is stale: it is removed and the cloud starts.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    pid_file.write_text(json.dumps({"pid": int(dead), "port": port}))
    try:
        started = workshop("up", env=env)
        assert started.returncode == 0, started.stderr
        assert json.loads(workshop("status", "--json", env=env).stdout)["port"] == port
    finally:
        stopped = workshop("down", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not pid_file.exists()
    assert workshop("status", env=env).returncode == 1


@pytest.mark.parametrize("args", [["up", "--time-scale", "0"], ["up", "--time-scale", "x"]])
def test_bad_time_scale_is_refused(args: list[str], tmp_path: Path) -> None:
    result = workshop(*args, env=_private_env(tmp_path, 1))
    assert result.returncode != 0
    assert "time" in result.stderr.lower() and "Traceback" not in result.stderr
