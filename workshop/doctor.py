"""Preflight checks: can this machine run the workshop, and what is wrong if not."""

from __future__ import annotations

import importlib.metadata
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from . import cloud

__all__ = ["Check", "run_checks"]

# The emulator patches moto's Step Functions interpreter: other versions are untested.
MOTO_VERSION = "5.2.5"
PACKAGES = ("boto3", "aiohttp", "aws-sam-translator", "websocket-client", "PyYAML")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _python() -> Check:
    ok = sys.version_info >= (3, 10)
    return Check("python", ok, f"{sys.version.split()[0]} at {sys.executable}"
                 + ("" if ok else " (3.10 or newer is needed)"))


def _packages() -> Iterator[Check]:
    try:
        moto = importlib.metadata.version("moto")
        yield Check("moto", moto == MOTO_VERSION,
                    moto if moto == MOTO_VERSION else f"{moto}, but the emulator is tested "
                    f"with {MOTO_VERSION}: pip install -e . in the workshop folder")
    except importlib.metadata.PackageNotFoundError:
        yield Check("moto", False, "not installed: run `make lab` or pip install -e .")
    for name in PACKAGES:
        try:
            yield Check(name, True, importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            yield Check(name, False, "not installed: run `make lab` or pip install -e .")


def _loopback() -> Check:
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", None)}
    return Check("loopback", "127.0.0.1" in addresses,
                 f"localhost resolves to {', '.join(sorted(addresses))}")


def _cloud(port: int | None) -> Check:
    s = cloud.settings(port=port)
    try:
        state = cloud.status(port=port)
    except cloud.CloudError as error:
        return Check("port", False, str(error))
    if state:
        return Check("local cloud", True, f"running at {state['endpoint']} (pid {state['pid']})")
    with socket.socket() as probe:
        try:
            probe.bind((s.host, s.port))
        except OSError as error:
            return Check("port", False, f"{s.port} cannot be used: {error.strerror}")
    return Check("port", True, f"{s.port} is free; start the cloud with `python -m workshop up`")


def _home(port: int | None) -> Check:
    home = cloud.settings(port=port).home
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        return Check("state folder", False, f"{home}: {error.strerror} (set WORKSHOP_HOME)")
    return Check("state folder", True, str(home))


def run_checks(*, port: int | None = None) -> list[Check]:
    return [_python(), *_packages(), _loopback(), _home(port), _cloud(port)]
