"""The installation's credentials file, role sessions, and what Lambda workers get."""

from __future__ import annotations

import socket
import stat
import threading
from pathlib import Path

import pytest

from workshop import cloud
from workshop.emulator.credentials import (
    CredentialsError,
    CredentialStore,
    SessionExpired,
    credentials_path,
)
from workshop.emulator.lambda_runtime import FunctionConfig, LambdaRuntime, ValidationError
from workshop.emulator.settings import Settings

ACCOUNT = "123456789012"
BEHAVIOURS = Path(__file__).parent.parent / "fixtures" / "functions" / "behaviours"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service/ConnectRole"


# -- the file ----------------------------------------------------------------------------


def test_first_load_creates_an_owner_only_file_and_later_loads_read_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = CredentialStore.load(home, account_id=ACCOUNT, create=True)
    path = credentials_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    again = CredentialStore.load(home, account_id=ACCOUNT)
    assert again.installation == first.installation
    assert first.installation.aws_access_key_id.startswith("AKIA")
    assert len(first.installation.aws_access_key_id) == 20


def test_concurrent_first_starts_agree_on_one_set(tmp_path: Path) -> None:
    stores: list[CredentialStore] = []
    threads = [threading.Thread(target=lambda: stores.append(
        CredentialStore.load(tmp_path, account_id=ACCOUNT, create=True))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({store.installation for store in stores}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.json"]  # no temporaries left


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_or_write_is_refused_with_the_fix(tmp_path: Path,
                                                                 mode: int) -> None:
    CredentialStore.load(tmp_path, account_id=ACCOUNT, create=True)
    path = credentials_path(tmp_path)
    path.chmod(mode)
    with pytest.raises(CredentialsError) as error:
        CredentialStore.load(tmp_path, account_id=ACCOUNT, create=True)
    message = str(error.value)
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert "\n" not in message


def test_a_missing_file_names_the_command_that_makes_it(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"python -m workshop up"):
        CredentialStore.load(tmp_path, account_id=ACCOUNT)


def test_a_damaged_file_says_how_to_start_afresh(tmp_path: Path) -> None:
    path = credentials_path(tmp_path)
    path.write_text('{"aws_access_key_id": "AKIA"}')
    path.chmod(0o600)
    with pytest.raises(CredentialsError, match=r"is damaged: delete it"):
        CredentialStore.load(tmp_path, account_id=ACCOUNT)


def test_a_missing_file_while_a_cloud_runs_is_explained(tmp_path: Path) -> None:
    with socket.socket() as listener:  # stands for the running cloud
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings = Settings(port=listener.getsockname()[1], home=tmp_path)
        with pytest.raises(CredentialsError) as error:
            cloud.credentials(settings)
    message = str(error.value)
    assert "is missing, but a local cloud is running" in message
    assert "python -m workshop down" in message and "python -m workshop up" in message
    assert not credentials_path(tmp_path).exists()  # none made that the cloud would refuse


def test_the_admin_token_is_compared_exactly() -> None:
    store = CredentialStore.ephemeral(account_id=ACCOUNT)
    token = store.installation.admin_token
    assert store.admin_token_matches(token)
    for wrong in (None, "", token[:-1], token + "x", token.upper()):
        assert not store.admin_token_matches(wrong)


# -- role sessions --------------------------------------------------------------------------


def test_a_role_session_is_recognised_as_its_role() -> None:
    store = CredentialStore.ephemeral(account_id=ACCOUNT)
    session = store.issue_role_session(ROLE, session_name="ConnectFunction")
    assert session["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    identity, secret = store.identify(session["AWS_ACCESS_KEY_ID"], session["AWS_SESSION_TOKEN"])
    assert secret == session["AWS_SECRET_ACCESS_KEY"]
    assert identity.role_arn == ROLE
    assert identity.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ConnectRole/ConnectFunction"
    # Another store (another installation's key) does not recognise it.
    assert CredentialStore.ephemeral(account_id=ACCOUNT).identify(
        session["AWS_ACCESS_KEY_ID"], session["AWS_SESSION_TOKEN"]) is None


@pytest.mark.parametrize("role", ["ConnectRole", "arn:aws:iam::123:role/x",
                                  "arn:aws:lambda:us-east-1:123456789012:function:f", ""])
def test_only_a_role_arn_gets_a_session(role: str) -> None:
    with pytest.raises(CredentialsError, match="is not an IAM role ARN"):
        CredentialStore.ephemeral(account_id=ACCOUNT).issue_role_session(role, session_name="f")


def test_a_session_expires() -> None:
    now = [1_000.0]
    store = CredentialStore.ephemeral(account_id=ACCOUNT, session_seconds=10,
                                      clock=lambda: now[0])
    session = store.issue_role_session(ROLE, session_name="f")
    assert store.session_expiry(session["AWS_SESSION_TOKEN"]) == 1_010.0
    now[0] = 1_010.0
    with pytest.raises(SessionExpired):
        store.identify(session["AWS_ACCESS_KEY_ID"], session["AWS_SESSION_TOKEN"])


def test_a_session_known_while_valid_still_expires() -> None:
    # A session's claims are worked out once per token; its expiry, on every use.
    now = [1_000.0]
    store = CredentialStore.ephemeral(account_id=ACCOUNT, session_seconds=10,
                                      clock=lambda: now[0])
    session = store.issue_role_session(ROLE, session_name="f")
    key, token = session["AWS_ACCESS_KEY_ID"], session["AWS_SESSION_TOKEN"]
    for _ in range(3):
        assert store.identify(key, token)[1] == session["AWS_SECRET_ACCESS_KEY"]
    now[0] = 1_010.0
    with pytest.raises(SessionExpired):
        store.identify(key, token)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert store.identify(key, forged) is None


# -- Lambda workers ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_workers_run_with_their_roles_temporary_credentials() -> None:
    store = CredentialStore.ephemeral(account_id=ACCOUNT)
    runtime = LambdaRuntime(Settings(port=45997), credentials=store)
    try:
        runtime.put_function(FunctionConfig(name="whoami", handler="app.environment",
                                            code_dir=BEHAVIOURS, role=ROLE))
        env = (await runtime.invoke("whoami", b"{}")).json()["environ"]
    finally:
        await runtime.shutdown()
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    identity, _ = store.identify(env["AWS_ACCESS_KEY_ID"], env["AWS_SESSION_TOKEN"])
    assert identity.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ConnectRole/whoami"
    assert "testing" not in (env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"])


@pytest.mark.asyncio
async def test_a_worker_whose_credentials_are_running_out_is_replaced() -> None:
    # Sessions of 59 minutes are within the hour's margin from the start: never reused.
    store = CredentialStore.ephemeral(account_id=ACCOUNT, session_seconds=59 * 60)
    runtime = LambdaRuntime(Settings(port=45997), credentials=store)
    try:
        runtime.put_function(FunctionConfig(name="whoami", handler="app.environment",
                                            code_dir=BEHAVIOURS, role=ROLE))
        first = (await runtime.invoke("whoami", b"{}")).json()["environ"]
        second = (await runtime.invoke("whoami", b"{}")).json()["environ"]
    finally:
        await runtime.shutdown()
    assert first["AWS_ACCESS_KEY_ID"] != second["AWS_ACCESS_KEY_ID"]


def test_a_function_role_that_is_not_a_role_arn_is_refused_as_lambda_does() -> None:
    runtime = LambdaRuntime(Settings(port=45997))
    with pytest.raises(ValidationError, match="at 'role' failed to satisfy constraint"):
        runtime.put_function(FunctionConfig(name="f", handler="app.echo", code_dir=BEHAVIOURS,
                                            role="ConnectRole"))

