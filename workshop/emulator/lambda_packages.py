"""Deployment packages of the Lambda API: zips in, code folders out, and back again.

``CreateFunction`` and ``UpdateFunctionCode`` carry a zip (base64 in the request, or an
object in the local S3). It is checked as Lambda checks it (50 MB zipped for a direct
upload, 250 MB unzipped), unpacked safely (no entry may land outside the package: no
absolute paths, no ``..``, no links) into a folder of the local cloud's home, one folder
per content, and the function runs from there. ``GetFunction``'s ``Code.Location`` is a
presigned URL of the local cloud that answers the function's code as a zip.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .lambda_runtime import InvalidParameterValue, LambdaError

__all__ = [
    "MAX_DIRECT_UPLOAD_BYTES",
    "MAX_UNZIPPED_BYTES",
    "Package",
    "RequestTooLarge",
    "check",
    "decode_zip_file",
    "read_s3_package",
    "unpack",
    "zip_folder",
]

# Lambda's quotas: "50 MB (zipped, when uploading through the Lambda API or SDKs)" and
# "250 MB (unzipped)" for a function's deployment package.
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
# The request limit Lambda names in its error: the base64 of the 50 MB, rounded up.
_MAX_REQUEST_BYTES = -(-MAX_DIRECT_UPLOAD_BYTES * 4 // 3)
_UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


class RequestTooLarge(LambdaError):
    code, status, message_key = "RequestEntityTooLargeException", 413, "message"

    def __init__(self, operation: str) -> None:
        super().__init__(f"Request must be smaller than {_MAX_REQUEST_BYTES} bytes for the "
                         f"{operation} operation")


@dataclass(frozen=True)
class Package:
    """An unpacked deployment package: where it is, and Lambda's CodeSha256/CodeSize."""

    folder: Path
    code_sha256: str
    code_size: int


def decode_zip_file(value: object, *, operation: str) -> bytes:
    """The bytes of a request's ``ZipFile`` (base64 in Lambda's JSON)."""
    if not isinstance(value, str):
        raise InvalidParameterValue("ZipFile must be the base64 text of a zip file")
    if len(value) > _MAX_REQUEST_BYTES:
        raise RequestTooLarge(operation)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue(_UNZIP_FAILED) from None
    if len(data) > MAX_DIRECT_UPLOAD_BYTES:
        raise RequestTooLarge(operation)
    return data


def read_s3_package(bucket: str, key: str, version: str | None, *, account: str,
                    partition: str) -> bytes:
    """A zip from the local S3 (moto's backend of ``partition``, in this process), with
    Lambda's words when it cannot be read."""
    from moto.s3.exceptions import MissingBucket, MissingKey, MissingVersion
    from moto.s3.models import s3_backends

    backend = s3_backends[account][partition]
    try:
        found = backend.get_object(bucket, key, version_id=version)
    except MissingBucket:
        raise _s3_error("NoSuchBucket", "The specified bucket does not exist") from None
    except (MissingKey, MissingVersion):
        found = None
    if found is None:
        raise _s3_error("NoSuchKey", "The specified key does not exist.")
    data: bytes = found.value
    return data


def _s3_error(code: str, message: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Error occurred while GetObject. S3 Error Code: {code}. "
                                 f"S3 Error Message: {message}")


def check(data: bytes) -> None:
    """Refuse what :func:`unpack` would refuse, unpacking nothing (a DryRun)."""
    with _opened(data) as archive:
        _checked_members(archive)


def _opened(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidParameterValue(_UNZIP_FAILED) from None


def unpack(data: bytes, *, into: Path) -> Package:
    """Unpack a zip into ``into/<digest>`` (kept if already there) and retire the
    packages of ``into`` older than the one in use before it."""
    digest = hashlib.sha256(data).digest()
    folder = into / digest.hex()[:32]
    with _opened(data) as archive:
        members = _checked_members(archive)
        if not folder.is_dir():
            _extract(archive, members, folder)
    _retire_older(into, keep=folder)
    return Package(folder, base64.b64encode(digest).decode(), len(data))


def _checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's entries, refused as a whole if any would escape the folder or the
    total would pass Lambda's unzipped quota."""
    total = 0
    for info in archive.infolist():
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in info.filename:
            raise InvalidParameterValue(
                f"{_UNZIP_FAILED} (entry {info.filename!r} points outside the package)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidParameterValue(
                f"{_UNZIP_FAILED} (entry {info.filename!r} is a symbolic link, which the "
                "local cloud does not unpack)")
        total += info.file_size
        if total > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValue(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
    return archive.infolist()


def _extract(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path) -> None:
    """Extract into a fresh folder beside ``folder`` and move it in place whole, so a
    worker never starts in a half-written package."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        for info in members:
            try:
                archive.extract(info, staging)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError):
                raise InvalidParameterValue(_UNZIP_FAILED) from None
        staging.rename(folder)
    except FileExistsError:  # another request unpacked the same content meanwhile
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _retire_older(into: Path, *, keep: Path) -> None:
    """Delete every package in ``into`` but ``keep`` and the one in use before it (which
    in-flight invocations may still run from); ``.current`` names the one in use."""
    marker = into / ".current"
    previous = marker.read_text().strip() if marker.is_file() else ""
    if previous != keep.name:
        marker.write_text(keep.name)
    for old in into.iterdir():
        if old.is_dir() and not old.name.startswith(".") and old.name not in (keep.name,
                                                                              previous):
            shutil.rmtree(old, ignore_errors=True)


def zip_folder(folder: Path) -> bytes:
    """A function's code folder as a zip (what ``Code.Location`` serves), leaving out
    caches and hidden files as a build would."""
    buffer = io.BytesIO()
    root = Path(folder)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in relative.parts):
                archive.write(path, relative.as_posix())
    return buffer.getvalue()
