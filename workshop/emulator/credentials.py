"""The local cloud's own credentials: the installation's keys, the admin token, role sessions.

On first start the local cloud generates, for this installation, an access key id and
secret (what ``workshop env`` and ``workshop.up()`` export, the learner's own "root"
credentials, full access) and an admin token for ``/_workshop/*``. They live in
``WORKSHOP_HOME/credentials.json``, readable by its owner only, as ``~/.aws/credentials``
should be; a file others can read is refused, never silently used.

Lambda functions and state machines get *temporary* credentials for their role, as on AWS
(``ASIA…`` key id, secret, session token). A session token carries its role, session name
and expiry, authenticated with a key from the same file, so the cloud recognises any
session it issued without keeping a table of them (workers come and go by the thousand).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkshopError

__all__ = [
    "ADMIN_TOKEN_HEADER", "CREDENTIALS_FILE", "CredentialStore", "CredentialsError",
    "Identity", "InstallationSecrets", "SessionExpired", "credentials_path",
]

CREDENTIALS_FILE = "credentials.json"
# The header the admin API reads its token from (the CLI and notebooks send it).
ADMIN_TOKEN_HEADER = "X-Workshop-Admin-Token"
# AWS caps a role session at 12 hours; Lambda refreshes its functions' credentials before
# then. The runtime replaces a worker before its session runs out (see lambda_runtime).
SESSION_SECONDS = 12 * 3600
_TOKENS_REMEMBERED = 1024  # session tokens whose claims are kept (a worker has one)
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # what AWS key ids are made of
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*"
                       r"(?P<name>[\w+=,.@-]{1,64})$")
# Lambda names the session after the function, whose name may be one character long.
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "admin_token", "session_key")


class CredentialsError(WorkshopError):
    """The credentials file is missing, unsafe or damaged; the message says what to run."""


class SessionExpired(CredentialsError):
    """A role session this cloud issued has run out (AWS: ExpiredToken)."""


@dataclass(frozen=True)
class Identity:
    """Who signed a request.

    ``arn`` is ``arn:<partition>:iam::<account>:root`` for the installation's own credentials
    (the learner: full access) or ``arn:aws:sts::<account>:assumed-role/<Role>/<session>``
    for a role session, whose ``role_arn`` is the IAM role's ARN (None for the learner).
    """

    access_key_id: str
    arn: str
    role_arn: str | None


@dataclass(frozen=True)
class InstallationSecrets:
    """What ``credentials.json`` holds."""

    aws_access_key_id: str
    aws_secret_access_key: str
    admin_token: str
    session_key: str

    @classmethod
    def generate(cls) -> InstallationSecrets:
        return cls(aws_access_key_id="AKIA" + _random_key(16),
                   aws_secret_access_key=secrets.token_urlsafe(30),
                   admin_token=secrets.token_urlsafe(32),
                   session_key=secrets.token_hex(32))

    def to_json(self) -> str:
        return json.dumps({name: getattr(self, name) for name in _FIELDS}, indent=2) + "\n"


def credentials_path(home: Path) -> Path:
    """Where the installation's credentials live inside ``WORKSHOP_HOME``."""
    return Path(home) / CREDENTIALS_FILE


def _random_key(length: int) -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(length))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CredentialStore:
    """The installation's credentials and the role sessions made from them (thread-safe:
    nothing in it changes after construction). ``partition`` is the cloud region's (aws-cn
    in the China regions): the installation's own ARN carries it."""

    def __init__(self, installation: InstallationSecrets, *, account_id: str,
                 partition: str = "aws", session_seconds: float = SESSION_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.installation = installation
        self._account_id = account_id
        self._session_seconds = session_seconds
        self._clock = clock
        self._session_key = installation.session_key.encode()
        self._root = Identity(installation.aws_access_key_id,
                              f"arn:{partition}:iam::{account_id}:root", None)
        # A Lambda worker signs every call with the same session token: its claims (a MAC
        # check and a JSON parse) and its secret are worked out once, not per request.
        # Expiry is still checked on every use (identify).
        self._claims = functools.lru_cache(maxsize=_TOKENS_REMEMBERED)(  # type: ignore[method-assign]
            self._claims)
        self._session_secret = functools.lru_cache(  # type: ignore[method-assign]
            maxsize=_TOKENS_REMEMBERED)(self._session_secret)

    # -- construction --------------------------------------------------------------------

    @classmethod
    def load(cls, home: Path, *, account_id: str, create: bool = False,
             **options: object) -> CredentialStore:
        """The store of ``home``'s credentials file; made first if ``create`` and absent."""
        path = credentials_path(home)
        if create and not path.exists():
            _create(path)
        return cls(read_secrets(path), account_id=account_id, **options)  # type: ignore[arg-type]

    @classmethod
    def ephemeral(cls, *, account_id: str, **options: object) -> CredentialStore:
        """Fresh credentials kept in memory only (unit tests of single parts)."""
        return cls(InstallationSecrets.generate(), account_id=account_id,
                   **options)  # type: ignore[arg-type]

    # -- the installation ----------------------------------------------------------------

    @property
    def root(self) -> Identity:
        """The installation's own identity (the learner: full access)."""
        return self._root

    def environment(self) -> dict[str, str]:
        """``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` of the installation."""
        return {"AWS_ACCESS_KEY_ID": self.installation.aws_access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.installation.aws_secret_access_key}

    def admin_token_matches(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the admin token, compared in constant time."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.installation.admin_token.encode())

    # -- role sessions -------------------------------------------------------------------

    def issue_role_session(self, role_arn: str, *, session_name: str) -> dict[str, str]:
        """Temporary credentials for ``role_arn``, as ``AWS_*`` environment variables.

        ``AWS_ACCESS_KEY_ID`` (``ASIA…``), ``AWS_SECRET_ACCESS_KEY`` and
        ``AWS_SESSION_TOKEN``; they expire after 12 hours.
        """
        match = _ROLE_ARN.match(role_arn or "")
        if match is None:
            raise CredentialsError(f"{role_arn!r} is not an IAM role ARN "
                                   "(arn:aws:iam::<account>:role/<name>)")
        if not _SESSION_NAME.match(session_name or ""):
            raise CredentialsError(f"{session_name!r} is not a role session name (1-64 of "
                                   "letters, digits and +=,.@-_)")
        access_key_id = "ASIA" + _random_key(16)
        claims = {"k": access_key_id, "r": role_arn, "n": session_name,
                  "x": int(self._clock() + self._session_seconds)}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        token = f"{body}.{_b64(self._mac(b'token', body))}"
        return {"AWS_ACCESS_KEY_ID": access_key_id,
                "AWS_SECRET_ACCESS_KEY": self._session_secret(token),
                "AWS_SESSION_TOKEN": token}

    def session_expiry(self, session_token: str) -> float | None:
        """When a session token this store issued expires (epoch seconds), else None."""
        claims = self._claims(session_token)
        return float(claims["x"]) if claims else None

    # -- recognising a request's credentials ---------------------------------------------

    def identify(self, access_key_id: str, session_token: str | None
                 ) -> tuple[Identity, str] | None:
        """The identity and secret key of ``access_key_id``, or None if unknown.

        A role session's key needs its own session token; the installation's key must come
        without one (AWS refuses a token with long-term keys). Raises
        :class:`SessionExpired` for a genuine session token past its expiry.
        """
        if access_key_id == self._root.access_key_id:
            return None if session_token else (self._root, self.installation
                                               .aws_secret_access_key)
        if not session_token or not access_key_id.startswith("ASIA"):
            return None
        claims = self._claims(session_token)
        if claims is None or claims.get("k") != access_key_id:
            return None
        if self._clock() >= claims["x"]:
            raise SessionExpired(f"the session of {claims['r']} ({claims['n']}) expired")
        role_arn, name = claims["r"], claims["n"]
        role_name = role_arn.rsplit("/", 1)[1]
        partition = role_arn.split(":", 2)[1]  # the role's own: aws-cn in the China regions
        arn = f"arn:{partition}:sts::{self._account_id}:assumed-role/{role_name}/{name}"
        return Identity(access_key_id, arn, role_arn), self._session_secret(session_token)

    def _claims(self, session_token: str) -> dict | None:
        body, _, mac = session_token.partition(".")
        try:
            genuine = hmac.compare_digest(_unb64(mac), self._mac(b"token", body))
            claims = json.loads(_unb64(body)) if genuine else None
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict) or not {"k", "r", "n", "x"} <= claims.keys():
            return None
        return claims

    def _mac(self, purpose: bytes, text: str) -> bytes:
        return hmac.new(self._session_key, purpose + b":" + text.encode(), hashlib.sha256).digest()

    def _session_secret(self, token: str) -> str:
        return base64.b64encode(self._mac(b"secret", token)).decode("ascii")[:40]


# -- the file -----------------------------------------------------------------------------


def read_secrets(path: Path) -> InstallationSecrets:
    """The secrets in ``path``, refusing a file other users could read or write."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CredentialsError(
            f"{path} does not exist: start the local cloud (`python -m workshop up`), "
            "which creates it") from None
    _check_private(path, info)
    try:
        document = json.loads(path.read_text())
        return InstallationSecrets(**{name: str(document[name]) for name in _FIELDS})
    except (OSError, ValueError, KeyError, TypeError):
        raise CredentialsError(
            f"{path} is damaged: delete it, then restart the local cloud "
            "(`python -m workshop down`, then `python -m workshop up`) to make new "
            "credentials") from None


def _check_private(path: Path, info: os.stat_result) -> None:
    if os.name != "posix":
        return
    if info.st_uid != os.getuid():
        raise CredentialsError(f"{path} belongs to another user (uid {info.st_uid}): "
                               f"use your own WORKSHOP_HOME, or `chown` it to yourself")
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise CredentialsError(
            f"{path} can be read or written by other users (mode "
            f"{stat.S_IMODE(info.st_mode):04o}): run `chmod 600 {path}`")


def _create(path: Path) -> None:
    """Write new secrets, owner-only from the first byte; a concurrent creator wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as stream:
            stream.write(InstallationSecrets.generate().to_json())
        try:
            os.link(temporary, path)  # fails if another process made it meanwhile
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
