"""Where the local cloud listens and how it behaves: one immutable value, read once.

Every knob has an environment variable so that a notebook, a terminal and CI agree on
the same cloud without passing flags around.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from workshop.emulator import partitions

__all__ = ["Settings", "DEFAULT_PORT", "SERVER_NAME", "SettingsError", "on_off"]

DEFAULT_PORT = 4580
# How the status endpoint names itself, so a client can tell our cloud from another program.
SERVER_NAME = "workshop-local-cloud"


class SettingsError(ValueError):
    """An environment variable or option has a value the local cloud cannot use."""


def _env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value <= minimum:
        raise SettingsError(f"{name}={raw!r} must be greater than {minimum:g}")
    return value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not 0 < value < 65536:
        raise SettingsError(f"{name}={raw!r} is not a TCP port (1-65535)")
    return value


def _check_public_host(address: str, loopback: str) -> None:
    """``--host`` must be one address of this machine, not a wildcard or the loopback
    address the AWS and admin APIs already listen on."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        raise SettingsError(f"--host {address} is not an IP address: give this machine's "
                            "address on the classroom network (e.g. 192.168.1.20)") from None
    if parsed.is_unspecified:
        raise SettingsError(f"--host {address} would listen on every address: give this "
                            "machine's address on the classroom network (e.g. 192.168.1.20)")
    if parsed == ipaddress.ip_address(loopback):
        raise SettingsError(f"--host {address} is where the AWS and admin APIs already "
                            "listen: give another address (the game is exposed there)")


def on_off(value: str, *, name: str = "--iam") -> bool:
    """``on`` -> True, ``off`` -> False; anything else is a one-line error naming ``name``."""
    switch = value.strip().lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"{name} takes on or off, not {value!r}")
    return switch == "on"


def _env_switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else on_off(raw, name=name)


def _default_home() -> Path:
    return Path(os.environ.get("WORKSHOP_HOME") or Path.home() / ".workshop")


@dataclass(frozen=True)
class Settings:
    """Configuration of one local cloud.

    ``time_scale`` multiplies Step Functions waits, retry back-offs and schedules
    (0.01 runs a ten-second Wait in a tenth of a second). The WebSocket quotas are
    AWS's own numbers, in seconds, and can be shortened for tests.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Class play (``up --host ADDR``): this address serves the game (WebSocket connections
    # and websites) to other machines; AWS and admin APIs stay on ``host`` (loopback).
    public_host: str | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    time_scale: float = 1.0
    # Functions and state machines may do only what their IAM roles allow (``--iam off``
    # lifts it, for an app whose policies are not ready).
    iam: bool = True
    home: Path = field(default_factory=_default_home)
    # Lambda: concurrent workers per function, and how long an idle worker stays warm.
    lambda_concurrency: int = 10
    worker_idle_seconds: float = 300.0
    # API Gateway WebSocket quotas.
    ws_max_message_bytes: int = 128 * 1024
    ws_max_frame_bytes: int = 32 * 1024
    ws_integration_timeout: float = 29.0
    ws_idle_timeout: float = 600.0
    ws_max_lifetime: float = 7200.0

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``WORKSHOP_*`` variables, then explicit overrides (CLI flags)."""
        values: dict[str, object] = {
            "port": _env_int("WORKSHOP_PORT", DEFAULT_PORT),
            "region": os.environ.get("WORKSHOP_REGION") or "us-east-1",
            "time_scale": _env_float("WORKSHOP_TIME_SCALE", 1.0),
            "iam": _env_switch("WORKSHOP_IAM", True),
            "ws_idle_timeout": _env_float("WORKSHOP_WS_IDLE_TIMEOUT", 600.0),
            "ws_max_lifetime": _env_float("WORKSHOP_WS_MAX_LIFETIME", 7200.0),
            "worker_idle_seconds": _env_float("WORKSHOP_WORKER_IDLE_SECONDS", 300.0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.time_scale <= 0:
            raise SettingsError(f"time scale must be greater than 0, not {settings.time_scale}")
        if settings.public_host is not None:
            _check_public_host(settings.public_host, settings.host)
        try:
            settings.partition  # noqa: B018 - a region no partition has fails here, once
        except partitions.UnknownRegion as error:
            raise SettingsError(f"region {error}") from None
        return settings

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def endpoint_url(self) -> str:
        """What ``AWS_ENDPOINT_URL`` points at: every AWS API of the local cloud."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / f"cloud-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.home / f"cloud-{self.port}.log"

    @property
    def partition(self) -> str:
        """``aws``, or ``aws-cn`` in the China regions: what ``AWS::Partition`` resolves to."""
        return partitions.partition_of(self.region)

    @property
    def url_suffix(self) -> str:
        """``amazonaws.com``, or ``amazonaws.com.cn``: what ``AWS::URLSuffix`` resolves to."""
        return partitions.url_suffix_of(self.region)

    def arn(self, service: str, resource: str, *, region: str | None = None,
            account: str | None = None, in_region: bool = True) -> str:
        """An ARN in this cloud's partition, region and account (each can be given);
        ``in_region=False`` for a global service's (IAM: no region; S3: ``account=""``)."""
        return partitions.arn(service, resource, region=region or self.region,
                              account=self.account_id if account is None else account,
                              in_region=in_region)

    def function_arn(self, name: str) -> str:
        return self.arn("lambda", f"function:{name}")

    def execute_api_host(self, api_id: str) -> str:
        """The host name AWS gives a WebSocket API; handlers see it as ``domainName``."""
        return f"{api_id}.execute-api.{self.region}.{self.url_suffix}"
