"""Start, stop and talk to the local cloud: what ``workshop.up()`` and the CLI call.

The local cloud is a separate background process, so it outlives a notebook kernel
restart the way a real cloud would. This module only speaks HTTP to it (standard
library only), which keeps ``import workshop`` fast in a notebook.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .emulator.credentials import (
    ADMIN_TOKEN_HEADER,
    CredentialsError,
    CredentialStore,
    credentials_path,
)
from .emulator.settings import SERVER_NAME, Settings
from .errors import WorkshopError

__all__ = [
    "CloudError", "DeployFailed", "settings", "status", "up", "down", "deploy",
    "outputs", "stack", "delete", "reset", "environment", "use_local_cloud", "private_cloud",
    "restart_note", "credentials", "local_client",
]


class CloudError(WorkshopError, RuntimeError):
    """The local cloud cannot be reached, started or stopped; the message says why."""


class DeployFailed(CloudError):
    """The local cloud refused a template; the message names file, resource and problem."""


# What this process last saw of the cloud on each port (pid, stacks): a cloud found with
# another pid has restarted, and kept nothing (it holds everything in memory).
_seen: dict[int, dict[str, Any]] = {}


def settings(*, port: int | None = None, time_scale: float | None = None,
             public_host: str | None = None, iam: bool | None = None) -> Settings:
    return Settings.from_env(port=port, time_scale=time_scale, public_host=public_host,
                             iam=iam)


def credentials(s: Settings) -> CredentialStore:
    """This installation's credentials (made now if none exist and no cloud runs)."""
    if not credentials_path(s.home).exists() and _listening(s):
        raise _missing_while_running(s)
    return CredentialStore.load(s.home, account_id=s.account_id, partition=s.partition,
                                create=True)


def _missing_while_running(s: Settings) -> CredentialsError:
    return CredentialsError(
        f"{credentials_path(s.home)} is missing, but a local cloud is running on port "
        f"{s.port} with the credentials it had: stop it (`python -m workshop down`) and "
        "start it again (`python -m workshop up`) to make new ones")


def _listening(s: Settings) -> bool:
    try:
        with socket.create_connection((s.host, s.port), timeout=2.0):
            return True
    except OSError:
        return False


def _request(s: Settings, method: str, path: str, body: Any = None,
             timeout: float = 60.0) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if credentials_path(s.home).exists():  # else the cloud answers 401, explained by status()
        headers[ADMIN_TOKEN_HEADER] = CredentialStore.load(
            s.home, account_id=s.account_id).installation.admin_token
    request = urllib.request.Request(s.endpoint_url + path, data=data, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, {"error": payload.decode(errors="replace")[:200]}


def status(*, port: int | None = None) -> dict[str, Any] | None:
    """The running cloud's status, or None when nothing listens on the port."""
    s = settings(port=port)
    in_use = (f"port {s.port} is in use by another program, not the local cloud; "
              "choose another port with --port or WORKSHOP_PORT")
    try:
        code, body = _request(s, "GET", "/_workshop/status", timeout=5.0)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, ConnectionRefusedError):
            return None
        raise CloudError(in_use) from None
    except ValueError:   # something answered, but not with JSON
        raise CloudError(in_use) from None
    if not isinstance(body, dict) or body.get("server") != SERVER_NAME:
        raise CloudError(in_use)
    if code in (401, 403) and body.get("refused") == "token":
        raise _token_refused(s)
    if code != 200:
        raise CloudError(in_use)
    _seen[s.port] = {"pid": body.get("pid"), "stacks": list(body.get("stacks") or [])}
    return body


def _token_refused(s: Settings) -> CredentialsError:
    path = credentials_path(s.home)
    if not path.exists():
        return _missing_while_running(s)
    return CredentialsError(
        f"the local cloud on port {s.port} refuses the admin token in {path}: it was "
        "started with another WORKSHOP_HOME, or that file was replaced since; stop it "
        f"(`python -m workshop down` with its WORKSHOP_HOME, or end the process on port "
        f"{s.port}) and run `python -m workshop up`")


def restart_note(before: dict[str, Any] | None, now: dict[str, Any]) -> str | None:
    """What a restart of the cloud cost, if ``now`` (a status) is not the cloud this
    process saw ``before``: the stacks it had are gone, and what to run about it."""
    if not before or before.get("pid") == now.get("pid"):
        return None
    lost = [name for name in before.get("stacks", []) if name not in now.get("stacks", [])]
    if not lost:
        return None
    names = ", ".join(lost)
    return (f"the local cloud was restarted (pid {before.get('pid')} is now {now.get('pid')}) "
            "and keeps nothing across restarts, as it holds everything in memory: the "
            f"stack{'s' if len(lost) > 1 else ''} {names} and every item, execution and "
            "connection in them are gone. Deploy again: re-run this notebook's deploy cell "
            "(or `python -m workshop deploy --lab N` to catch up to lab N), then reconnect "
            "players and clients that were open")


def _read_pid(s: Settings) -> int | None:
    try:
        return int(json.loads(s.pid_file.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited server waits as a zombie until its adoptive parent reaps it, which some
    # container init processes do slowly: it is gone all the same.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _clear_stale_pid_file(s: Settings) -> None:
    pid = _read_pid(s)
    if pid is not None and _alive(pid):
        raise CloudError(
            f"a local cloud process (pid {pid}) holds {s.pid_file} but does not answer on "
            f"port {s.port}; stop it with `python -m workshop down` or `kill {pid}`")
    s.pid_file.unlink(missing_ok=True)


def up(*, port: int | None = None, time_scale: float | None = None, host: str | None = None,
       iam: bool | None = None, timeout: float = 60.0) -> dict[str, Any]:
    """Start the local cloud in the background, or return the one already running.

    ``host`` (class play) also serves the game, and only the game, on that address.
    ``iam`` False lets functions and state machines call anything, whatever their roles
    allow (default: on, as on AWS; or ``WORKSHOP_IAM``).
    """
    s = settings(port=port, time_scale=time_scale, public_host=host, iam=iam)
    before = _seen.get(s.port)
    running = status(port=s.port)
    if running:
        return _noting_restart(before, running)
    _clear_stale_pid_file(s)
    s.home.mkdir(parents=True, exist_ok=True)
    credentials(s)  # made (or checked: owner-only) before the cloud reads them
    command = [sys.executable, "-m", "workshop.emulator.server", "--port", str(s.port),
               "--time-scale", repr(s.time_scale), "--pid-file", str(s.pid_file)]
    if s.public_host:
        command += ["--host", s.public_host]
    command += ["--iam", "on" if s.iam else "off"]
    with open(s.log_file, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CloudError(_last_reason(s.log_file) or
                             f"the local cloud exited with status {process.returncode}; "
                             f"see {s.log_file}")
        running = status(port=s.port)
        if running:
            return _noting_restart(before, running)
        time.sleep(0.05)
    process.terminate()
    raise CloudError(f"the local cloud did not answer within {timeout:.0f} s; see {s.log_file}")


def _noting_restart(before: dict[str, Any] | None, state: dict[str, Any]) -> dict[str, Any]:
    """``state``, with ``restarted`` saying what was lost if the cloud restarted."""
    note = restart_note(before, state)
    return {**state, "restarted": note} if note else state


def _last_reason(log_file: Path) -> str | None:
    """The server's own one-line explanation (``workshop: …``) from its log."""
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines[-50:]):
        if line.startswith("workshop: "):
            return line.removeprefix("workshop: ")
    return None


def down(*, port: int | None = None, timeout: float = 15.0) -> bool:
    """Stop the local cloud and its Lambda workers; False if none was running."""
    s = settings(port=port)
    pid = _read_pid(s)
    try:
        running = status(port=s.port)
    except CredentialsError:
        # It will not take our token (its credentials are gone or others): the pid file
        # says which process it is, and SIGTERM stops it as cleanly as the admin call.
        if pid is None or not _alive(pid):
            raise CloudError(f"the local cloud on port {s.port} refuses this installation's "
                             f"admin token and {s.pid_file} does not name it: end the "
                             f"process listening on port {s.port} (`fuser -k {s.port}/tcp`)"
                             ) from None
        os.kill(pid, signal.SIGTERM)
        running = None
    if running:
        pid = running["pid"]
        _request(s, "POST", "/_workshop/shutdown", body={})
    elif pid is None or not _alive(pid):
        s.pid_file.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    s.pid_file.unlink(missing_ok=True)
    return True


def _admin(port: int | None, method: str, path: str, body: Any = None, *,
           error: type[CloudError] = CloudError, timeout: float = 60.0) -> Any:
    """Call the running cloud's admin API; a refusal becomes ``error`` with its reason."""
    s = settings(port=port)
    if status(port=s.port) is None:
        raise CloudError(
            f"no local cloud is running on port {s.port}; start it with `python -m workshop up`")
    code, reply = _request(s, method, path, body=body, timeout=timeout)
    if code != 200:
        raise error(reply.get("error", str(reply)) if isinstance(reply, dict) else str(reply))
    return reply


def deploy(template: str | Path = "template.yaml", *, stack_name: str = "workshop",
           parameters: dict[str, str] | None = None, port: int | None = None) -> dict[str, Any]:
    """Deploy a SAM/CloudFormation template to the local cloud and return the report."""
    request = {"template": str(Path(template).resolve()), "stack_name": stack_name,
               "parameters": parameters or {}}
    report = _admin(port, "POST", "/_workshop/deploy", request, error=DeployFailed,
                    timeout=600.0)
    seen = _seen.get(settings(port=port).port)
    if seen is not None and stack_name not in seen["stacks"]:
        seen["stacks"].append(stack_name)
    return report


def outputs(*, stack_name: str = "workshop", port: int | None = None) -> dict[str, str]:
    """The stack's Outputs, resolved, with WebSocket URLs pointing at the local cloud.

    For the CLI (``workshop outputs``, ``status``), through the admin API: it answers at
    once "no local cloud is running … start it with `python -m workshop up`" when the
    cloud is down, where boto3 would retry a refused connection first. Notebooks and lab
    checks read stacks with plain boto3 CloudFormation instead (:mod:`.stack_reader`),
    the same call on both targets; both give the same outputs."""
    return _admin(port, "GET", f"/_workshop/outputs?stack={quote(stack_name)}")


def stack(*, stack_name: str = "workshop", port: int | None = None) -> dict[str, Any]:
    """The stack's resources: logical id, type, physical id (for the CLI's ``status``,
    as :func:`outputs` is; notebooks use :func:`.stack_reader.resources`)."""
    return _admin(port, "GET", f"/_workshop/stack?stack={quote(stack_name)}")


def delete(*, stack_name: str = "workshop", port: int | None = None) -> dict[str, Any]:
    """Delete one stack and every resource it made; returns the report (``deleted``)."""
    return _admin(port, "POST", "/_workshop/delete", {"stack_name": stack_name})


def reset(*, port: int | None = None) -> None:
    """Delete every resource, item, function, API and stack; the cloud keeps running."""
    _admin(port, "POST", "/_workshop/reset", {})


def environment(s: Settings) -> dict[str, str]:
    """The variables that make plain boto3 (and the AWS CLI) talk to the local cloud."""
    return {
        "AWS_ENDPOINT_URL": s.endpoint_url,
        "AWS_REGION": s.region,
        "AWS_DEFAULT_REGION": s.region,
        # This installation's own keys: the local cloud refuses any others.
        **credentials(s).environment(),
        "WORKSHOP_PORT": str(s.port),
    }


def local_client(service: str, *, port: int | None = None) -> Any:
    """A boto3 client of the local cloud, with its endpoint and this installation's keys,
    whatever this process's boto3 is pointed at (the aws target, another profile)."""
    import boto3

    variables = environment(settings(port=port))
    session = boto3.session.Session(
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=variables.get("AWS_SESSION_TOKEN"),
        region_name=variables["AWS_REGION"])
    return session.client(service, endpoint_url=variables["AWS_ENDPOINT_URL"])


def use_local_cloud(*, port: int | None = None) -> dict[str, str]:
    """Point this Python process's boto3 at the local cloud (no-op for other processes)."""
    s = settings(port=port)
    variables = environment(s)
    os.environ.update(variables)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    import boto3

    from .emulator.execute_api_urls import install_redirect

    boto3.DEFAULT_SESSION = None  # the next boto3.client() reads the new variables
    install_redirect(s.endpoint_url)
    return variables


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def private_cloud(*, time_scale: float | None = None, iam: bool | None = None
                  ) -> Iterator[dict[str, Any]]:
    """A throwaway local cloud on a free port with its own state folder.

    For tests and benchmarks: it never touches a learner's cloud. While it runs, this
    process's environment (``WORKSHOP_*``, ``AWS_*``) points at it; both are restored.
    """
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="workshop-") as home:
        os.environ["WORKSHOP_HOME"] = home
        os.environ["WORKSHOP_PORT"] = str(_free_port())
        try:
            state = up(time_scale=time_scale, iam=iam)
            use_local_cloud()
            yield state
        finally:
            down()
            os.environ.clear()
            os.environ.update(saved)
