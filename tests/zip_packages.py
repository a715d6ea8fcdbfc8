"""Deployment packages (zips) built in memory, shared by the test folders."""

from __future__ import annotations

import io
import zipfile

__all__ = ["zipped"]


def zipped(files: dict[str, str]) -> bytes:
    """A zip of ``files`` (path in the archive → text), as `sam deploy` would upload."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()
