"""Layer versions through the Lambda API: publish, list, get and delete.

``sam sync`` keeps a function's dependencies in a layer it publishes itself and points
the function at the new version; the runtime's layer registry (which the deployer's
``AWS::Lambda::LayerVersion`` also fills) is the one list of layers, so a version
published here is one a function's ``Layers`` may name, and a template's is listed here.
What only the API knows of a version (description, runtimes, its zip's hash) is kept
beside it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import lambda_packages as packages
from .lambda_runtime import InvalidParameterValue, LambdaRuntime, ResourceNotFound

__all__ = ["LayerVersions"]

_LAYER_NAME = re.compile(r"[a-zA-Z0-9-_]{1,140}")
_LAYER_ARN = re.compile(r"arn:[^:]+:lambda:[^:]+:\d{12}:layer:(?P<name>[a-zA-Z0-9-_]+)")


@dataclass(frozen=True)
class _Details:
    """What PublishLayerVersion was told and measured, for later reads."""

    description: str = ""
    created: str = ""
    code_sha256: str = ""
    code_size: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)  # runtimes, architectures, license


class LayerVersions:
    """The Lambda API's view of the runtime's layers."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime = runtime
        self._details: dict[str, _Details] = {}
        self._lock = threading.Lock()  # one publish at a time per cloud: version numbers

    def publish(self, layer: str, document: Mapping[str, Any], data: bytes) -> dict[str, Any]:
        """Unpack ``data`` as the layer's next version and make it usable by functions."""
        name = self._name(layer)
        settings = self._runtime.settings
        with self._lock:
            version = self._runtime.next_layer_version(self._layer_arn(name))
            arn = f"{self._layer_arn(name)}:{version}"
            # Each version has a folder of its own: functions on older versions still run.
            package = packages.unpack(
                data, into=settings.home / "lambda-layers" / name / str(version))
            self._runtime.publish_layer(arn, package.folder)
            extra = {key: document[key] for key in ("CompatibleRuntimes", "LicenseInfo",
                                                    "CompatibleArchitectures") if document.get(key)}
            self._details[arn] = _Details(str(document.get("Description") or ""),
                                          _timestamp(self._runtime.clock.now()),
                                          package.code_sha256, package.code_size, extra)
        return self.get(name, version)

    def list(self, layer: str) -> list[dict[str, Any]]:
        """The layer's versions, newest first (ListLayerVersions' order)."""
        name = self._name(layer)
        return [self._item(name, v) for v in sorted(self._versions(name), reverse=True)]

    def layers(self, *, runtime: str | None = None) -> list[dict[str, Any]]:
        """ListLayers' answer: each layer with its newest version (its newest version for
        ``runtime``, if given); a layer whose versions are all deleted is not listed."""
        prefix = self._layer_arn("")
        names = {arn[len(prefix):].rsplit(":", 1)[0] for arn in self._runtime.layer_arns()
                 if arn.startswith(prefix)}
        found = []
        for name in sorted(names):
            versions = [v for v in self.list(name)
                        if not runtime or runtime in v.get("CompatibleRuntimes", [])]
            if versions:
                found.append({"LayerName": name, "LayerArn": self._layer_arn(name),
                              "LatestMatchingVersion": versions[0]})
        return found

    def get(self, layer: str, version: int) -> dict[str, Any]:
        """GetLayerVersion's answer (Content.Location is left to the caller)."""
        name = self._name(layer)
        item = self._item(name, version)
        details = self._details.get(item["LayerVersionArn"], _Details())
        code_sha, code_size = details.code_sha256, details.code_size
        if not code_sha:  # a template's layer: measured from its folder
            code_sha, code_size = _folder_digest(self._runtime.layer_dir(item["LayerVersionArn"]))
        return {**item, "LayerArn": self._layer_arn(name),
                "Content": {"CodeSha256": code_sha, "CodeSize": code_size}}

    def delete(self, layer: str, version: int) -> None:
        """Forget a version; functions already using it keep running from its folder,
        as on Lambda (deleting a missing version is not an error there either)."""
        arn = f"{self._layer_arn(self._name(layer))}:{version}"
        with self._lock:
            self._details.pop(arn, None)
            self._runtime.delete_layer(arn)

    def folder(self, layer: str, version: int) -> Path:
        return self._runtime.layer_dir(f"{self._layer_arn(self._name(layer))}:{version}")

    # -- helpers ----------------------------------------------------------------------

    def _name(self, layer: str) -> str:
        match = _LAYER_ARN.fullmatch(layer)
        name = match["name"] if match else layer
        if not _LAYER_NAME.fullmatch(name):
            raise InvalidParameterValue(f"Invalid layer name: {layer}")
        return name

    def _layer_arn(self, name: str) -> str:
        return self._runtime.settings.arn("lambda", f"layer:{name}")

    def _versions(self, name: str) -> list[int]:
        prefix = self._layer_arn(name) + ":"
        return [int(arn[len(prefix):]) for arn in self._runtime.layer_arns()
                if arn.startswith(prefix) and arn[len(prefix):].isdigit()]

    def _item(self, name: str, version: int) -> dict[str, Any]:
        arn = f"{self._layer_arn(name)}:{version}"
        if version not in self._versions(name):
            raise ResourceNotFound("The resource you requested does not exist.")
        details = self._details.get(arn, _Details())
        item: dict[str, Any] = {"LayerVersionArn": arn, "Version": version,
                                "Description": details.description, **details.extra}
        if details.created:
            item["CreatedDate"] = details.created
        return item


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
        f".{int(now * 1000) % 1000:03d}+0000"


def _folder_digest(folder: Path) -> tuple[str, int]:
    data = packages.zip_folder(folder)
    return base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data)
