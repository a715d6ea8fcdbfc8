"""Where the local cloud listens and how it behaves: one immutable value, read once.

Every knob has an environment variable so that a notebook, a terminal and CI agree on
the same cloud without passing flags around.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "DEFAULT_PORT", "SERVER_NAME", "SettingsError"]

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
    region: str = "us-east-1"
    account_id: str = "123456789012"
    time_scale: float = 1.0
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
            "ws_idle_timeout": _env_float("WORKSHOP_WS_IDLE_TIMEOUT", 600.0),
            "ws_max_lifetime": _env_float("WORKSHOP_WS_MAX_LIFETIME", 7200.0),
            "worker_idle_seconds": _env_float("WORKSHOP_WORKER_IDLE_SECONDS", 300.0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.time_scale <= 0:
            raise SettingsError(f"time scale must be greater than 0, not {settings.time_scale}")
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

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def execute_api_host(self, api_id: str) -> str:
        """The host name AWS gives a WebSocket API; handlers see it as ``domainName``."""
        return f"{api_id}.execute-api.{self.region}.amazonaws.com"
