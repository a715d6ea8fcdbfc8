"""Deployment packages are unpacked safely and within Lambda's quotas; policies are
written back as Lambda writes them."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest

from workshop.emulator import lambda_packages as packages
from workshop.emulator.lambda_control import permission_statement, policy_document
from workshop.emulator.lambda_runtime import InvalidParameterValue, ValidationError


def a_zip(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize("entry", ["../up.py", "a/../../up.py", "/etc/cron.d/x", "C:/x.py",
                                   "..\\win.py"])
def test_entries_outside_the_package_refuse_the_whole_zip(entry: str, tmp_path: Path) -> None:
    data = a_zip({"app.py": b"x = 1\n", entry: b"evil\n"})
    with pytest.raises(InvalidParameterValue, match="points outside the package"):
        packages.unpack(data, into=tmp_path / "fn")
    assert not (tmp_path / "fn").exists() or not any((tmp_path / "fn").iterdir())
    assert not (tmp_path / "up.py").exists()


def test_links_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="symbolic link"):
        packages.unpack(a_zip({"app.py": b""}, links=("passwd",)), into=tmp_path / "fn")


def test_the_unzipped_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(InvalidParameterValue,
                       match="^Unzipped size must be smaller than 1000 bytes$"):
        packages.unpack(a_zip({"big.bin": b"\0" * 1001}), into=tmp_path / "fn")


def test_not_a_zip_and_not_base64(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="^Could not unzip uploaded file"):
        packages.unpack(b"PK but not really", into=tmp_path / "fn")
    with pytest.raises(InvalidParameterValue, match="^Could not unzip uploaded file"):
        packages.decode_zip_file("not base64 ***", operation="CreateFunction")


def test_a_direct_upload_over_50_mb_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "MAX_DIRECT_UPLOAD_BYTES", 10)
    with pytest.raises(packages.RequestTooLarge) as raised:
        packages.decode_zip_file(base64.b64encode(b"x" * 11).decode(),
                                 operation="UpdateFunctionCode")
    assert raised.value.status == 413
    assert raised.value.message == ("Request must be smaller than 69905067 bytes for the "
                                    "UpdateFunctionCode operation")


def test_unpacked_once_per_content_with_lambdas_hash_and_older_ones_retired(
        tmp_path: Path) -> None:
    versions = [a_zip({"app.py": f"V = {n}\n".encode()}) for n in range(4)]
    unpacked = [packages.unpack(data, into=tmp_path) for data in versions]
    assert unpacked[0].code_sha256 == base64.b64encode(
        hashlib.sha256(versions[0]).digest()).decode()
    assert unpacked[0].code_size == len(versions[0])
    assert (unpacked[3].folder / "app.py").read_text() == "V = 3\n"
    kept = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert kept == sorted([unpacked[2].folder.name, unpacked[3].folder.name])
    again = packages.unpack(versions[3], into=tmp_path)
    assert again == unpacked[3]


def test_zip_folder_leaves_out_caches(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"")
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / ".hidden").write_text("")
    names = zipfile.ZipFile(io.BytesIO(packages.zip_folder(tmp_path))).namelist()
    assert names == ["pkg/a.py"]


def test_policy_statements_as_lambda_writes_them() -> None:
    resource = "arn:aws:lambda:us-east-1:123456789012:function:f"
    account = permission_statement({"StatementId": "acct", "Action": "lambda:*",
                                    "Principal": "123456789012"})
    service = permission_statement({"StatementId": "sns", "Action": "lambda:InvokeFunction",
                                    "Principal": "sns.amazonaws.com",
                                    "SourceAccount": "123456789012",
                                    "SourceArn": "arn:aws:sns:us-east-1:123456789012:t"})
    stored = {s["statement_id"]: {"action": s["action"], "principal": s["principal"],
                                  "source_arn": s["source_arn"],
                                  "source_account": s["source_account"]}
              for s in (account, service)}
    policy = policy_document(stored, resource=resource)
    assert policy["Statement"] == [
        {"Sid": "acct", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "lambda:*",
         "Resource": resource},
        {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": resource,
         "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                       "ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"}}}]


@pytest.mark.parametrize("document, error", [
    ({"StatementId": "has space", "Action": "lambda:InvokeFunction", "Principal": "*"},
     ValidationError),
    ({"StatementId": "ok", "Action": "s3:GetObject", "Principal": "*"}, ValidationError),
    ({"StatementId": "ok", "Action": "lambda:InvokeFunction", "Principal": "*",
      "PrincipalOrgID": "o-abc"}, InvalidParameterValue),
    ({"Action": "lambda:InvokeFunction", "Principal": "*"}, InvalidParameterValue),
])
def test_add_permission_requests_are_checked(document: dict, error: type) -> None:
    with pytest.raises(error):
        permission_statement(document)
