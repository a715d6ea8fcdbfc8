"""The AWS SAM CLI as a tool: find ``sam``, run it, and say in one line why it failed.

The SAM CLI pins an older boto3 than the workshop, so it cannot live in the workshop's
environment: ``make sam`` installs it into a tool environment of its own
(``.tools/sam`` in the checkout). ``sam`` is looked for, in order, at ``WORKSHOP_SAM``
(a path to the executable), in that tool environment, then on ``PATH``.

It runs with telemetry off and the caller's environment, less the variables that would
make its Python import the workshop's packages instead of its own. The same commands
reach the learner's AWS account or, with ``AWS_ENDPOINT_URL`` set (``python -m workshop
env``), the local cloud: only the endpoint differs. Its output is shown as it comes; a
failure becomes :class:`SamCliError`, one line saying what went wrong and what to do.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import WorkshopError

__all__ = ["SAM_VARIABLE", "TOOL_DIR", "SamCliError", "SamCliMissing", "SamRun", "explain",
           "environment", "find", "recognise", "run"]

SAM_VARIABLE = "WORKSHOP_SAM"
# Where `make sam` puts the tool environment: the checkout's .tools/sam.
TOOL_DIR = Path(__file__).resolve().parent.parent / ".tools" / "sam"
# Variables that would make the tool's Python import someone else's packages.
_FOREIGN_PYTHON = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
_INSTALL = ("install it with `make sam` (a tool environment in .tools/sam; the SAM CLI "
            "cannot share the workshop's environment), or set WORKSHOP_SAM to a `sam` "
            "executable")


class SamCliError(WorkshopError):
    """``sam`` failed; the message is one line: what happened and what to do next."""

    def __init__(self, message: str, *, reason: str = "failed", output: str = "") -> None:
        super().__init__(message)
        self.reason = reason   # a short word tests and callers can branch on
        self.output = output   # everything the SAM CLI printed


class SamCliMissing(SamCliError):
    """No ``sam`` executable was found."""


@dataclass(frozen=True)
class SamRun:
    """One finished ``sam`` command: what ran, what it printed, how long it took."""

    command: list[str]
    output: str
    seconds: float


def find() -> Path:
    """The ``sam`` executable: ``WORKSHOP_SAM``, else the tool environment, else ``PATH``."""
    configured = os.environ.get(SAM_VARIABLE, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise SamCliMissing(f"{SAM_VARIABLE}={configured} is not an executable `sam`: fix or "
                            f"unset it, or {_INSTALL}", reason="missing")
    tool = TOOL_DIR / "bin" / "sam"
    if tool.is_file() and os.access(tool, os.X_OK):
        return tool
    found = shutil.which("sam")
    if found:
        return Path(found)
    raise SamCliMissing(f"the AWS SAM CLI (`sam`) is not installed: {_INSTALL}",
                        reason="missing")


def environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``sam`` runs in: ``base`` (default: this process's), telemetry
    off, and nothing that would make its Python import foreign packages."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in _FOREIGN_PYTHON}
    env["SAM_CLI_TELEMETRY"] = "0"
    # Plain lines, not progress bars and colours, in notebooks and logs.
    env.setdefault("TERM", "dumb")
    return env


def run(arguments: Sequence[str], *, cwd: Path | None = None, echo: bool = True,
        env: Mapping[str, str] | None = None, timeout: float | None = None,
        answers: str | None = None) -> SamRun:
    """Run ``sam ARGUMENTS``; show its output as it comes (``echo``); raise
    :class:`SamCliError` with one line if it fails.

    ``answers`` is typed at its prompts (``sam sync`` asks once per stack: ``"y\n"``);
    without it a prompt reads end-of-file and ``sam`` stops.
    """
    command = [str(find()), *arguments]
    shown = shlex.join(["sam", *arguments])
    if echo:
        print("$", shown, flush=True)
    started = time.monotonic()
    try:
        process = subprocess.Popen(command, cwd=cwd, env=environment(env),
                                   stdin=subprocess.DEVNULL if answers is None
                                   else subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
    except OSError as error:
        raise SamCliMissing(f"cannot run {command[0]} ({error.strerror}): {_INSTALL}",
                            reason="missing") from None
    if answers is not None:
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(answers)
    lines: list[str] = []
    # A thread copies the output, so a silent, hung `sam` still meets the timeout.
    reader = threading.Thread(target=_copy, args=(process, lines, echo), daemon=True)
    reader.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        reader.join(5)
        raise SamCliError(f"`{shown}` took longer than {timeout:g} s and was stopped",
                          reason="timeout", output="".join(lines)) from None
    reader.join()
    output = "".join(lines)
    if process.returncode != 0:
        raise explain(arguments, output)
    return SamRun(command, output, time.monotonic() - started)


def _copy(process: subprocess.Popen[str], lines: list[str], echo: bool) -> None:
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            lines.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()


# What the SAM CLI (and botocore under it) prints for each failure a learner can fix, and
# the one line that replaces it. First match wins.
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (r"Unable to locate credentials|NoCredentialsError|Error loading SSO Token",
     "credentials",
     "no AWS credentials were found: run `aws configure` (or `aws sso login --profile "
     "NAME` and pass --profile NAME), then run this again"),
    (r"ExpiredToken|security token included in the request is expired|token has expired"
     r"|Token has expired",
     "expired",
     "your AWS session has expired: sign in again (`aws sso login`, or fresh keys from "
     "your administrator), then run this again"),
    (r"InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch"
     r"|security token included in the request is invalid",
     "credentials",
     "AWS refused these credentials (unknown key, or a wrong secret): check `aws sts "
     "get-caller-identity` and `aws configure`, then run this again"),
    (r"is in (\w*ROLLBACK\w*|DELETE_FAILED) state and can not be updated",
     "rollback",
     "stack {stack} is in {1}, so it cannot be updated: delete it with `python -m workshop "
     "delete --target aws` (or `sam delete --stack-name {stack}`), then deploy again"),
    (r"ProfileNotFound|config profile \(([^)]*)\) could not be found",
     "profile",
     "the AWS profile {1} is not configured: `aws configure --profile {1}`, or pass "
     "another --profile"),
    (r"Binary validation failed for (\w+).*?runtime: ([a-z]+[\d.]*\d)",
     "runtime",
     "`sam build` needs {2} on PATH (the template's Runtime): install it (pyenv install, "
     "or your package manager), then run this again"),
    (r"Could not connect to the endpoint URL: \"?([^\"\s]+)",
     "endpoint",
     "could not reach {1}: check the region (a typo, or a service not offered there); "
     "with AWS_ENDPOINT_URL set, check the local cloud runs (`python -m workshop status`)"),
)


def explain(arguments: Sequence[str], output: str) -> SamCliError:
    """The one-line error for a failed ``sam ARGUMENTS`` that printed ``output``."""
    stack = _option(arguments, "--stack-name") or "the stack"
    known = recognise(output, stack=stack)
    if known:
        return SamCliError(known[1], reason=known[0], output=output)
    said = [line.strip() for line in output.splitlines() if line.strip().startswith("Error:")]
    what = said[-1].removeprefix("Error:").strip() if said else "see its output above"
    verb = " ".join(arguments[:1])
    return SamCliError(f"`sam {verb}` failed: {what}", reason="failed", output=output)


def recognise(text: str, *, stack: str = "the stack") -> tuple[str, str] | None:
    """``(reason, one line)`` for a failure a learner can fix, found in ``text`` (what the
    SAM CLI printed, or a botocore error's message); None if it is none of them."""
    for pattern, reason, message in _KNOWN:
        match = re.search(pattern, text, re.DOTALL)
        if match:
            groups = [match.group(0), *(g or "" for g in match.groups())]
            return reason, message.format(*groups, stack=stack)
    return None


def _option(arguments: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` in ``arguments``, if given."""
    items = list(arguments)
    if name in items[:-1]:
        return items[items.index(name) + 1]
    return None
