"""AWS::Lambda::Function and Permission on the local Lambda runtime; Version and Alias.

Functions run from the local folder their ``CodeUri`` names (the SAM expansion maps its
stand-in S3 location back to that folder), so the plan checks the folder and the handler before
anything changes, and fingerprints the folder's files: editing handler code redeploys
the function, and only it. Code in the local S3 (``Code: {S3Bucket, S3Key}``, or the
``CodeUri: s3://…`` that ``sam deploy`` writes after uploading a zip) is unpacked, checked as
Lambda checks a package, into a folder of the cloud's home named by the zip's hash, and
runs from there; the hash is what the fingerprint sees.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..lambda_packages import read_s3_package, unpack
from ..lambda_runtime import RESERVED_VARIABLES, FunctionConfig, LambdaError, ResourceNotFound
from ..template import TemplateError
from .base import Provider, Record, RecordOnly, Resource, Skip, pending

__all__ = [
    "AliasProvider",
    "FunctionProvider",
    "HandlerError",
    "LayerVersionProvider",
    "PermissionProvider",
    "VersionProvider",
    "code_digest",
    "find_handler",
    "function_name",
    "s3_code",
]

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# Lambda's deprecated Python runtimes: they still run locally, but AWS will refuse them.
_DEPRECATED_RUNTIMES = frozenset({"python3.6", "python3.7", "python3.8", "python3.9"})
INLINE_HANDLER_MODULE = "index"  # where Lambda puts ZipFile code for Python


def function_name(value: str) -> str:
    """The bare name from a name, ARN, partial ARN or qualified name."""
    parts = str(value).split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


class HandlerError(ValueError):
    """The handler cannot be found; ``file`` / ``line`` point at the cause if known."""

    def __init__(self, problem: str, *, file: Path | None = None, line: int | None = None):
        super().__init__(problem)
        self.file, self.line = file, line


def _code_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        # Virtualenvs, git metadata and caches are not function code.
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(root, name)


@functools.lru_cache(maxsize=4096)
def _file_digest(path: str, size: int, mtime_ns: int) -> bytes:
    # Keyed by size and mtime: a warm redeploy reads no file it has hashed before.
    return hashlib.sha256(Path(path).read_bytes()).digest()


def code_digest(folder: Path) -> str:
    """A hash of every code file's path and content under ``folder``."""
    digest = hashlib.sha256()
    for path in _code_files(folder):
        stat = path.stat()
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(_file_digest(str(path), stat.st_size, stat.st_mtime_ns))
    return digest.hexdigest()


def _top_level(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside if/try/with blocks."""
    for statement in statements:
        yield statement
        if isinstance(statement, (ast.If, ast.Try, ast.With)):
            for block in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(statement, block, []))
            for handler in getattr(statement, "handlers", []):
                yield from _top_level(handler.body)


def _names_defined(node: ast.stmt) -> list[str]:
    """Module-level names a statement binds (``*`` for a star import)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, (ast.ImportFrom, ast.Import)):
        return [alias.asname or alias.name for alias in node.names]
    return []


def _defines(tree: ast.Module, name: str) -> bool:
    # `from x import *` may define it: give the benefit of the doubt.
    return any(bound in (name, "*") for node in _top_level(tree.body)
               for bound in _names_defined(node))


def _check_source(source: str | bytes, file: Path, function: str, handler: str) -> None:
    try:
        tree = ast.parse(source, filename=str(file))
    except SyntaxError as error:
        raise HandlerError(f"handler module {file.name} does not parse: {error.msg}",
                           file=file, line=error.lineno) from None
    if not _defines(tree, function):
        raise HandlerError(f"handler {handler!r}: {file} defines no function {function!r}")


def find_handler(code_dir: Path, handler: str) -> Path:
    """The module file of ``handler`` (``module.function``), checked to define it."""
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise HandlerError(f"Handler {handler!r} must look like module.function")
    base = code_dir / module.replace(".", "/")
    for file in (base.parent / f"{base.name}.py", base / "__init__.py"):
        if file.is_file():
            _check_source(file.read_bytes(), file, function, handler)
            return file
    raise HandlerError(f"handler {handler!r}: there is no {module.replace('.', '/')}.py "
                       f"in {code_dir}")


def s3_code(provider: Provider, logical_id: str, location: Mapping[str, Any], *,
            what: str) -> tuple[Path, str]:
    """The folder a zip in the local S3 unpacks to, and the zip's SHA-256 (base64)."""
    bucket, key = location.get("S3Bucket"), location.get("S3Key")
    if not bucket or not key:
        raise provider.fail(logical_id, f"{what} needs S3Bucket and S3Key, got {dict(location)!r}")
    version = location.get("S3ObjectVersion")
    uri = f"s3://{bucket}/{key}" + (f"?versionId={version}" if version else "")
    try:
        data = read_s3_package(str(bucket), str(key), str(version) if version else None,
                               account=provider.settings.account_id,
                               partition=provider.settings.partition)
        # One parent per content: nothing else is ever retired from it.
        parent = hashlib.sha256(data).hexdigest()[:16]
        package = unpack(data, into=provider.settings.home / "deploy-code" / parent)
    except LambdaError as error:
        raise provider.fail(logical_id, f"{what} {uri}: {error.message}") from None
    return package.folder, package.code_sha256


def _hex(digest: str) -> str:
    """A base64 SHA-256 as hex (a layer's version number is read from the hex)."""
    return base64.b64decode(digest).hex()


def _environment(properties: Mapping[str, Any]) -> dict[str, str]:
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    return {str(k): ("true" if v is True else "false" if v is False else str(v))
            for k, v in variables.items()}


class FunctionProvider(Provider):
    """Python functions, put on the local runtime (which replaces workers on update)."""

    types = ("AWS::Lambda::Function",)
    name_property = "FunctionName"
    attribute_names = frozenset({"Arn"})
    derived_from = {"CodeDigest": "Code", "InlineSource": "Code"}

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        if properties.get("PackageType") == "Image":
            raise Skip("container image functions are not emulated")
        runtime = str(properties.get("Runtime", ""))
        if not runtime.startswith("python3"):
            raise Skip(f"runtime {runtime or '(none)'} is not emulated; the local cloud runs "
                       "Python functions")
        if runtime in _DEPRECATED_RUNTIMES:
            self.context.warn(f"{logical_id}: runtime {runtime} is end-of-life on AWS Lambda, "
                              "which refuses new functions on it; use python3.12 or newer")
        prepared = {**properties, "Environment": self._checked_environment(logical_id,
                                                                           properties)}
        name = properties.get("FunctionName")
        if name is not None and not _FUNCTION_NAME.fullmatch(str(name)):
            raise self.fail(logical_id, f"FunctionName {name!r} must be 1 to 64 letters, "
                            "digits, hyphens or underscores")
        return {**prepared, **self._code(logical_id, properties)}

    def _code(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        """Where the code is, and what identifies its content (in the fingerprint)."""
        handler, code = str(properties.get("Handler", "")), properties.get("Code")
        if isinstance(code, str):
            code_dir = self._local_code(logical_id, code, handler)
            return {"Code": str(code_dir), "CodeDigest": code_digest(code_dir)}
        if isinstance(code, dict) and "ZipFile" in code:
            source = str(code["ZipFile"])
            code_dir = self._inline_code(logical_id, source, handler)
            return {"Code": str(code_dir), "InlineSource": source}
        if isinstance(code, dict) and ("S3Bucket" in code or "S3Key" in code):
            code_dir, digest = s3_code(self, logical_id, code, what="Code")
            self._check_handler(logical_id, code_dir, handler)
            return {"Code": str(code_dir), "CodeDigest": digest}
        raise self.fail(logical_id, f"Code {code!r} cannot run in the local cloud; give a "
                        "local folder (SAM CodeUri), a zip in S3 (S3Bucket, S3Key) or inline "
                        "ZipFile code")

    def _checked_environment(self, logical_id: str,
                             properties: Mapping[str, Any]) -> dict[str, str]:
        environment = _environment(properties)
        reserved = sorted(RESERVED_VARIABLES & set(environment))
        if reserved:
            raise self.fail(logical_id, f"environment variable(s) {', '.join(reserved)} are "
                            "reserved by Lambda and cannot be set")
        return environment

    def _local_code(self, logical_id: str, code: str, handler: str) -> Path:
        if not self.context.local_code:
            raise self.fail(logical_id, f"Code {code!r} is a local path: package it with sam "
                            "package/deploy first (it uploads the code to S3)")
        code_dir = (self.context.template_dir / code).resolve()
        if not code_dir.is_dir():
            raise self.fail(logical_id, f"CodeUri folder {code} does not exist "
                            f"(looked for {code_dir})")
        self._check_handler(logical_id, code_dir, handler)
        return code_dir

    def _check_handler(self, logical_id: str, code_dir: Path, handler: str) -> None:
        try:
            find_handler(code_dir, handler)
        except HandlerError as error:
            raise self._handler_error(logical_id, error) from None

    def _inline_code(self, logical_id: str, source: str, handler: str) -> Path:
        module, _, function = handler.rpartition(".")
        code_dir = (self.settings.home / "inline-code" / self.context.stack_name / logical_id)
        file = code_dir / f"{INLINE_HANDLER_MODULE}.py"
        if module != INLINE_HANDLER_MODULE:
            raise self.fail(logical_id, f"inline ZipFile code is saved as index.py, so the "
                            f"Handler must be index.<function>, not {handler!r}")
        try:
            _check_source(source, file, function, handler)
        except HandlerError as error:
            raise self._handler_error(logical_id, error) from None
        return code_dir

    def _handler_error(self, logical_id: str, error: HandlerError) -> TemplateError:
        # A syntax error points into the handler module; a missing handler at the template.
        return TemplateError(str(error), file=error.file or self.context.template_path,
                             resource=logical_id, line=error.line)

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"Ref": physical_id, "Arn": self.settings.function_arn(physical_id)}

    def create(self, resource: Resource) -> dict[str, Any]:
        return self._put(resource, self._layer_dirs(resource))

    def _put(self, resource: Resource, layers: tuple[Path, ...]) -> dict[str, Any]:
        props = resource.properties
        code_dir = Path(props["Code"])
        if "InlineSource" in props:
            code_dir.mkdir(parents=True, exist_ok=True)
            (code_dir / f"{INLINE_HANDLER_MODULE}.py").write_text(props["InlineSource"])
        concurrency = props.get("ReservedConcurrentExecutions")
        config = FunctionConfig(
            name=resource.physical_id, handler=props["Handler"], code_dir=code_dir,
            runtime=props["Runtime"], timeout=float(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)), environment=props["Environment"],
            description=str(props.get("Description", "")),
            reserved_concurrency=None if concurrency is None else int(concurrency),
            role=props.get("Role"), layers=layers)
        self.call(resource.logical_id, lambda: self.context.runtime.put_function(config))
        return self.attributes(resource.logical_id, resource.physical_id, props)

    def _layer_dirs(self, resource: Resource) -> tuple[Path, ...]:
        runtime = self.context.runtime
        return tuple(self.call(resource.logical_id, lambda arn=arn: runtime.layer_dir(arn))
                     for arn in resource.properties.get("Layers") or [])

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        """As CloudFormation: Layers are set only if the template changed them. A layer
        version deleted since (``sam sync --code`` publishes a new one and deletes the
        old) stays usable by the function that has it, as on Lambda."""
        layers = resource.properties.get("Layers") or []
        if not layers or layers != (old.properties.get("Layers") or []):
            return self.create(resource)
        try:
            current = self.context.runtime.get_function(resource.physical_id).layers
        except ResourceNotFound:
            return self.create(resource)  # deleted through the API: made again
        return self._put(resource, current)

    def delete(self, record: Record) -> None:
        try:
            self.context.runtime.delete_function(record.physical_id)
        except ResourceNotFound:
            pass  # deleted through the Lambda API already: CloudFormation counts it deleted


class LayerVersionProvider(Provider):
    """A layer version: a local folder whose ``python/`` the functions naming it can import.

    Layer versions are immutable, as on AWS: new content is a new version, with a new ARN,
    which in turn redeploys the functions that use it.
    """

    types = ("AWS::Lambda::LayerVersion",)
    name_property = "LayerName"
    attribute_names = frozenset({"LayerVersionArn"})
    derived_from = {"ContentDigest": "Content"}

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        content = properties.get("Content")
        if isinstance(content, dict):
            folder, digest = s3_code(self, logical_id, content, what="Content")
            return {**properties, "Content": str(folder), "ContentDigest": _hex(digest)}
        if not isinstance(content, str) or not self.context.local_code:
            raise self.fail(logical_id, f"Content {content!r} cannot be used here; give a "
                            "zip in S3 (S3Bucket, S3Key) or, in a template file, a local folder "
                            "(SAM ContentUri)")
        folder = (self.context.template_dir / content).resolve()
        if not folder.is_dir():
            raise self.fail(logical_id, f"ContentUri folder {content} does not exist "
                            f"(looked for {folder})")
        return {**properties, "Content": str(folder), "ContentDigest": code_digest(folder)}

    def requires_recreation(self, name: str) -> str:
        return "Always"  # every property is immutable

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        # Lambda numbers a layer's versions 1, 2, 3… when they are published: two stacks
        # (or `sam sync`) publishing the same layer name never share a version.
        arn = pending(logical_id, "LayerVersionArn")
        return {"Ref": arn, "LayerVersionArn": arn}

    def create(self, resource: Resource) -> dict[str, Any]:
        runtime = self.context.runtime
        name = resource.properties.get("LayerName") or resource.physical_id
        layer = self.arn("lambda", f"layer:{name}")
        arn = f"{layer}:{runtime.next_layer_version(layer)}"
        runtime.publish_layer(arn, Path(resource.properties["Content"]))
        return {"Ref": arn, "LayerVersionArn": arn}

    def delete(self, record: Record) -> None:
        self.context.runtime.delete_layer(record.attributes["Ref"])


class PermissionProvider(Provider):
    """A statement in a function's resource policy (the gateway checks it before invoking,
    as API Gateway does). Every property is immutable: a change replaces the statement."""

    types = ("AWS::Lambda::Permission",)

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for required in ("Action", "FunctionName", "Principal"):
            if not properties.get(required):
                raise self.fail(logical_id, f"a permission needs {required}")
        return {**properties, "Function": function_name(properties["FunctionName"])}

    def requires_recreation(self, name: str) -> str:
        return "Always"  # every property is immutable

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        self.call(resource.logical_id, lambda: self.context.runtime.add_permission(
            props["Function"], statement_id=resource.physical_id, action=props["Action"],
            principal=props["Principal"], source_arn=props.get("SourceArn"),
            source_account=props.get("SourceAccount")))
        return {"Ref": resource.physical_id}

    def delete(self, record: Record) -> None:
        try:
            self.context.runtime.remove_permission(record.properties["Function"],
                                                   record.physical_id)
        except ResourceNotFound:
            pass  # the function, and its policy with it, is already gone


class VersionProvider(RecordOnly):
    """Published versions are recorded; the local runtime serves the latest code for any
    qualifier, so SAM's AutoPublishAlias works without copies of the code."""

    types = ("AWS::Lambda::Version",)
    attribute_names = frozenset({"Version"})

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        name = function_name(properties.get("FunctionName", ""))
        return {"Ref": f"{self.settings.function_arn(name)}:1", "Version": "1"}


class AliasProvider(RecordOnly):
    """Aliases are recorded; invoking ``function:alias`` runs the latest code."""

    types = ("AWS::Lambda::Alias",)
    replace_on = frozenset({"Name", "FunctionName"})

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        name = function_name(properties.get("FunctionName", ""))
        return {"Ref": f"{self.settings.function_arn(name)}:{properties.get('Name', '')}"}
