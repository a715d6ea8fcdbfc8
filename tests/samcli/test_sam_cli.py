"""workshop.sam_cli without a cloud: finding `sam`, its environment, one-line failures."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workshop import sam_cli


def fake_sam(folder: Path, script: str) -> Path:
    """A `sam` that runs ``script`` (POSIX shell)."""
    path = folder / "sam"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture()
def no_sam(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing anywhere: no WORKSHOP_SAM, no tool environment, nothing on PATH."""
    monkeypatch.delenv(sam_cli.SAM_VARIABLE, raising=False)
    monkeypatch.setattr(sam_cli, "TOOL_DIR", tmp_path / "no-tools")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_a_missing_sam_says_how_to_install_it(no_sam: None) -> None:
    with pytest.raises(sam_cli.SamCliMissing, match=r"not installed: install it with "
                       r"`make sam`") as missing:
        sam_cli.run(["--version"])
    assert missing.value.reason == "missing" and "\n" not in str(missing.value)


def test_a_workshop_sam_that_is_not_executable_is_named(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(tmp_path / "nowhere" / "sam"))
    with pytest.raises(sam_cli.SamCliMissing, match=r"WORKSHOP_SAM=.*nowhere/sam is not an "
                       r"executable `sam`: fix or unset it"):
        sam_cli.find()


def test_sam_is_found_in_order_setting_then_tool_environment_then_path(
        no_sam: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "empty-bin").mkdir()
    on_path = fake_sam(tmp_path / "empty-bin", "")
    assert sam_cli.find() == on_path
    (tmp_path / "no-tools" / "bin").mkdir(parents=True)
    in_tools = fake_sam(tmp_path / "no-tools" / "bin", "")
    assert sam_cli.find() == in_tools
    (tmp_path / "mine").mkdir()
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(fake_sam(tmp_path / "mine", "")))
    assert sam_cli.find() == tmp_path / "mine" / "sam"


def test_sam_runs_with_telemetry_off_and_without_the_workshops_python_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(fake_sam(
        tmp_path, 'echo "telemetry=$SAM_CLI_TELEMETRY path=${PYTHONPATH:-none} '
                  'endpoint=$AWS_ENDPOINT_URL args=$*"\n')))
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    ran = sam_cli.run(["build", "--debug"], echo=False)
    assert ran.output == ("telemetry=0 path=none endpoint=http://127.0.0.1:9 "
                          "args=build --debug\n")


def test_a_silent_hung_sam_is_stopped_at_the_timeout(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(fake_sam(tmp_path, "exec sleep 30\n")))
    with pytest.raises(sam_cli.SamCliError, match=r"`sam deploy` took longer than 0.5 s"):
        sam_cli.run(["deploy"], echo=False, timeout=0.5)


# What the SAM CLI (1.170) and botocore print for each failure, and the line we say instead.
FAILURES = [
    ("Error: Unable to locate credentials", "credentials", "no AWS credentials were found"),
    ("Error: Failed to create changeset for the stack: workshop, An error occurred "
     "(ExpiredToken) when calling the CreateChangeSet operation: The security token "
     "included in the request is expired", "expired", "your AWS session has expired"),
    ("Error: An error occurred (InvalidClientTokenId) when calling the DescribeStacks "
     "operation: The security token included in the request is invalid.", "credentials",
     "AWS refused these credentials"),
    ("Error: Failed to create changeset for the stack: workshop, An error occurred "
     "(ValidationError) when calling the CreateChangeSet operation: Stack:arn:aws:"
     "cloudformation:us-east-1:123456789012:stack/workshop/x is in ROLLBACK_COMPLETE state "
     "and can not be updated.", "rollback",
     "stack workshop is in ROLLBACK_COMPLETE, so it cannot be updated: delete it with "
     "`python -m workshop delete --target aws` (or `sam delete --stack-name workshop`)"),
    ("Error: ... Stack:arn:x is in UPDATE_ROLLBACK_FAILED state and can not be updated.",
     "rollback", "is in UPDATE_ROLLBACK_FAILED, so it cannot be updated"),
    ("Error: The config profile (ada) could not be found", "profile",
     "the AWS profile ada is not configured: `aws configure --profile ada`"),
    ("Build Failed\nError: PythonPipBuilder:Validation - Binary validation failed for "
     "python, searched for python in following locations  : ['/usr/bin/python3'] which did "
     "not satisfy constraints for runtime: python3.12. Do you have python for runtime: "
     "python3.12 on your PATH?", "runtime", "`sam build` needs python3.12 on PATH"),
    ('Error: Could not connect to the endpoint URL: "https://cloudformation.us-east-7.'
     'amazonaws.com/"', "endpoint",
     "could not reach https://cloudformation.us-east-7.amazonaws.com/: check the region"),
    ("Error: Template file not found at /x/template.yaml", "failed",
     "`sam deploy` failed: Template file not found at /x/template.yaml"),
    ("Traceback (most recent call last):\n  ...\nKeyError: 'x'", "failed",
     "`sam deploy` failed: see its output above"),
]


@pytest.mark.parametrize(("printed", "reason", "said"), FAILURES,
                         ids=[reason + str(i) for i, (_, reason, _) in enumerate(FAILURES)])
def test_each_failure_becomes_one_line_with_the_next_step(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: str, reason: str,
        said: str) -> None:
    (tmp_path / "printed").write_text(printed + "\n")
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(fake_sam(
        tmp_path, f"cat {tmp_path / 'printed'}\nexit 1\n")))
    with pytest.raises(sam_cli.SamCliError) as failed:
        sam_cli.run(["deploy", "--stack-name", "workshop"], echo=False)
    assert failed.value.reason == reason
    assert said in str(failed.value) and "\n" not in str(failed.value)
    assert failed.value.output == printed + "\n"


def test_the_output_is_shown_as_it_comes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(sam_cli.SAM_VARIABLE, str(fake_sam(tmp_path, "echo Build Succeeded\n")))
    sam_cli.run(["build"])
    assert capsys.readouterr().out == "$ sam build\nBuild Succeeded\n"


def test_the_tool_environment_is_the_checkouts_own() -> None:
    # Where `make sam` installs it (the Makefile's SAM_DIR), so both agree.
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "SAM_DIR     := .tools/sam" in makefile
    assert sam_cli.TOOL_DIR == Path(__file__).resolve().parents[2] / ".tools" / "sam"
    assert os.path.basename(sam_cli.TOOL_DIR) == "sam"
