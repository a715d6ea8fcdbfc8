"""What the Lambda API's control-plane calls mean, as plain values in and out.

Request documents of ``CreateFunction``, ``UpdateFunctionConfiguration`` and
``AddPermission`` are checked here the way Lambda checks them (the same error codes and
words), and turned into the runtime's :class:`FunctionConfig` or policy statement; the
function's resource policy is written back as Lambda writes it for ``GetPolicy``.
The HTTP side is :mod:`.lambda_api`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .iam_policy import action_matches
from .lambda_runtime import (
    FunctionConfig,
    InvalidParameterValue,
    LambdaError,
    ValidationError,
    check_reserved_variables,
)

__all__ = [
    "PreconditionFailed",
    "check_revision",
    "configured",
    "ignored_settings",
    "new_function",
    "permission_statement",
    "policy_document",
    "role_assumable_by_lambda",
    "statement_of",
]

_LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
_ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
_ENVIRONMENT_LIMIT = 4096  # bytes: "Environment variables: 4 KB, for all variables"
_TIMEOUT_RANGE = (1, 900)
_MEMORY_RANGE = (128, 10240)
_ACTION = re.compile(r"(lambda:[*]|lambda:[a-zA-Z]+|[*])")
_STATEMENT_ID = re.compile(r"[a-zA-Z0-9-_]{1,100}")
_ACCOUNT = re.compile(r"\d{12}")
_VARIABLE_NAME = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
# Parts of a function's configuration that the local cloud accepts but has no use for.
_IGNORED = ("VpcConfig", "DeadLetterConfig", "KMSKeyArn", "TracingConfig", "FileSystemConfigs",
            "EphemeralStorage", "SnapStart", "LoggingConfig", "Architectures",
            "CodeSigningConfigArn", "Publish", "PublishTo")


class PreconditionFailed(LambdaError):
    code, status, message_key = "PreconditionFailedException", 412, "message"


def _string(document: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = document.get(name)
    if value is None:
        if required:
            raise InvalidParameterValue(f"{name} is a required parameter")
        return None
    if not isinstance(value, str):
        raise InvalidParameterValue(f"{name} must be a string, not {type(value).__name__}")
    return value


def _bounded(document: Mapping[str, Any], name: str, member: str, bounds: tuple[int, int]
             ) -> int | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidParameterValue(f"{name} must be a whole number")
    low, high = bounds
    if not low <= value <= high:
        side, limit = ("greater", low) if value < low else ("less", high)
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {side} than or equal to {limit}")
    return value


def _environment(document: Mapping[str, Any]) -> dict[str, str] | None:
    environment = document.get("Environment")
    if environment is None:
        return None
    variables = (environment or {}).get("Variables") or {}
    if not isinstance(variables, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in variables.items()):
        raise InvalidParameterValue("Environment.Variables must map names to strings")
    for name in variables:
        if not _VARIABLE_NAME.fullmatch(name):
            raise ValidationError(
                f"1 validation error detected: Value at 'environment.variables' failed to "
                f"satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                f"regular expression pattern: {_VARIABLE_NAME.pattern}] (key {name!r})")
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > _ENVIRONMENT_LIMIT:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. "
            f"String measured: {measured}")
    check_reserved_variables(variables)
    return dict(variables)


def _layers(document: Mapping[str, Any], layer_dir: Any) -> tuple[Path, ...] | None:
    layers = document.get("Layers")
    if layers is None:
        return None
    if not isinstance(layers, list) or not all(isinstance(arn, str) for arn in layers):
        raise InvalidParameterValue("Layers must be a list of layer version ARNs")
    folders = []
    for arn in layers:
        try:
            folders.append(layer_dir(arn))
        except LambdaError:
            raise InvalidParameterValue(f"Layer version {arn} does not exist.") from None
    return tuple(folders)


def role_assumable_by_lambda(role_arn: str, *, account: str) -> bool:
    """Whether ``role_arn`` exists in the local IAM and trusts Lambda to assume it."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import PARTITION_NAMES

    # moto keeps one IAM per partition, the one the role's ARN names (aws, aws-cn…).
    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else None
    if partition not in PARTITION_NAMES:
        return False
    backend = iam_backends[account][partition]
    role = next((r for r in list(backend.roles.values()) if r.arn == role_arn), None)
    if role is None:
        return False
    try:
        trust = json.loads(role.assume_role_policy_document or "{}")
    except ValueError:
        return False
    statements = trust.get("Statement") or []
    return any(_trusts_lambda(s) for s in (statements if isinstance(statements, list)
                                           else [statements]))


def _trusts_lambda(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action") or []
    if not any(action_matches(a, "sts:AssumeRole")
               for a in ([actions] if isinstance(actions, str) else actions)):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return _LAMBDA_PRINCIPAL in ([services] if isinstance(services, str) else services)


def _checked_role(document: Mapping[str, Any], *, account: str, required: bool) -> str | None:
    role = _string(document, "Role", required=required)
    if role is not None and not role_assumable_by_lambda(role, account=account):
        raise InvalidParameterValue(_ROLE_NOT_ASSUMABLE)
    return role


def _runtime_and_handler(document: Mapping[str, Any]) -> tuple[str | None, str | None]:
    runtime, handler = _string(document, "Runtime"), _string(document, "Handler")
    if handler is not None and (not handler or len(handler) > 128 or re.search(r"\s", handler)):
        raise ValidationError(
            f"1 validation error detected: Value '{handler}' at 'handler' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [^\\s]+")
    return runtime, handler


def new_function(document: Mapping[str, Any], *, account: str, layer_dir: Any
                 ) -> FunctionConfig:
    """The runtime's configuration of a ``CreateFunction`` request, checked before its
    code is unpacked: ``code_dir`` and ``package`` are left for the caller to set."""
    name = _string(document, "FunctionName", required=True) or ""
    runtime, handler = _runtime_and_handler(document)
    if not runtime or not handler:
        raise InvalidParameterValue("Runtime and Handler are mandatory parameters for "
                                    "functions created with deployment packages.")
    role = _checked_role(document, account=account, required=True)
    tags = document.get("Tags") or {}
    if not isinstance(tags, dict):
        raise InvalidParameterValue("Tags must map keys to values")
    return FunctionConfig(
        name=name, handler=handler, code_dir=Path(), runtime=runtime,
        timeout=float(_bounded(document, "Timeout", "timeout", _TIMEOUT_RANGE) or 3),
        memory_size=_bounded(document, "MemorySize", "memorySize", _MEMORY_RANGE) or 128,
        environment=_environment(document) or {},
        description=_string(document, "Description") or "", role=role,
        layers=_layers(document, layer_dir) or (),
        tags={str(k): str(v) for k, v in tags.items()})


def configured(current: FunctionConfig, document: Mapping[str, Any], *, account: str,
               layer_dir: Any) -> FunctionConfig:
    """``current`` with an ``UpdateFunctionConfiguration`` request applied: what the
    request names replaces what was (Environment and Layers as a whole, as Lambda does)."""
    runtime, handler = _runtime_and_handler(document)
    timeout = _bounded(document, "Timeout", "timeout", _TIMEOUT_RANGE)
    memory = _bounded(document, "MemorySize", "memorySize", _MEMORY_RANGE)
    environment = _environment(document)
    layers = _layers(document, layer_dir)
    role = _checked_role(document, account=account, required=False)
    description = _string(document, "Description")
    changes: dict[str, Any] = {
        "runtime": runtime, "handler": handler, "role": role, "description": description,
        "timeout": None if timeout is None else float(timeout), "memory_size": memory,
        "environment": environment, "layers": layers}
    return replace(current, **{k: v for k, v in changes.items() if v is not None})


def ignored_settings(document: Mapping[str, Any]) -> list[str]:
    """The request's settings that the local cloud accepts and does not emulate."""
    return [name for name in _IGNORED if document.get(name) not in (None, [], {}, False)]


def check_revision(document_revision: str | None, configuration: Mapping[str, Any]) -> None:
    """PreconditionFailed if the caller names a revision that is not the latest."""
    if document_revision and document_revision != configuration.get("RevisionId"):
        raise PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id")


def permission_statement(document: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``LambdaRuntime.add_permission`` for an AddPermission
    request, checked as Lambda checks them."""
    statement_id = _string(document, "StatementId", required=True) or ""
    action = _string(document, "Action", required=True) or ""
    principal = _string(document, "Principal", required=True) or ""
    for value, member, pattern in ((statement_id, "statementId", _STATEMENT_ID),
                                   (action, "action", _ACTION)):
        if not pattern.fullmatch(value):
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}")
    if not principal or re.search(r"\s", principal):
        raise InvalidParameterValue(f"The provided principal was invalid: {principal!r}")
    for unsupported in ("PrincipalOrgID", "FunctionUrlAuthType", "EventSourceToken"):
        if document.get(unsupported):
            raise InvalidParameterValue(
                f"{unsupported} is not emulated by the local cloud; leave it out of the "
                "permission (a template can still carry it for your AWS account)")
    return {"statement_id": statement_id, "action": action, "principal": principal,
            "source_arn": _string(document, "SourceArn"),
            "source_account": _string(document, "SourceAccount")}


def _principal(principal: str, *, partition: str) -> Any:
    """A permission's ``Principal`` as Lambda writes it in the policy."""
    if principal == "*":
        return "*"
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:{partition}:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement_of(sid: str, stored: Mapping[str, Any], *, resource: str) -> dict[str, Any]:
    """One statement of the policy, as ``AddPermission`` answers it."""
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow",
                                 "Principal": _principal(stored["principal"],
                                                         partition=resource.split(":")[1]),
                                 "Action": stored["action"], "Resource": resource}
    condition: dict[str, Any] = {}
    if stored.get("source_account"):
        condition["StringEquals"] = {"AWS:SourceAccount": stored["source_account"]}
    if stored.get("source_arn"):
        condition["ArnLike"] = {"AWS:SourceArn": stored["source_arn"]}
    if condition:
        statement["Condition"] = condition
    return statement


def policy_document(statements: Mapping[str, Mapping[str, Any]], *, resource: str
                    ) -> dict[str, Any]:
    """The resource-based policy ``GetPolicy`` answers (as a JSON string)."""
    return {"Version": "2012-10-17", "Id": "default",
            "Statement": [statement_of(sid, s, resource=resource)
                          for sid, s in statements.items()]}
