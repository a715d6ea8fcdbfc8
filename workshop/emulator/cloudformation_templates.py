"""What CloudFormation reads from a template before deploying it.

The capabilities it demands (``CAPABILITY_IAM`` for IAM resources, ``CAPABILITY_NAMED_IAM``
when they have custom names, ``CAPABILITY_AUTO_EXPAND`` for a transform outside a change
set), the parameters it declares (ValidateTemplate, GetTemplateSummary) and where a
``TemplateURL`` points in the local S3. Plain functions over a template's body, so each
rule is tested without a cloud.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .cloudformation_stacks import CloudFormationError, one_line
from .template import TemplateError, parse_yaml

__all__ = [
    "CapabilityNeeds",
    "capability_needs",
    "missing_capabilities",
    "parameter_declarations",
    "parameter_values",
    "resource_types",
    "s3_location",
    "stack_parameters",
    "template_body",
    "transforms",
]

# IAM resources need CAPABILITY_IAM, and CAPABILITY_NAMED_IAM with the name property set.
_IAM_NAMES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}
_S3_HOST = re.compile(r"^(?:(?P<bucket>.+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?"
                      r"\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class CapabilityNeeds:
    """The capabilities a template needs, and CloudFormation's reason for each."""

    capabilities: list[str]
    reason: str


def template_body(text: str) -> dict[str, Any]:
    """A template's body (JSON or YAML with short tags), or CloudFormation's "Template
    format error"."""
    try:
        body = json.loads(text) if text.lstrip().startswith("{") else parse_yaml(
            text, file="template")[0]
    except (json.JSONDecodeError, TemplateError) as error:
        raise CloudFormationError(f"Template format error: {one_line(error)}") from None
    if not isinstance(body, dict):
        raise CloudFormationError("Template format error: not a mapping")
    return body


def parameter_values(parameters: list[dict[str, str]]) -> dict[str, str]:
    """``[{ParameterKey, ParameterValue}]`` as a mapping."""
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in parameters}


def transforms(body: Mapping[str, Any]) -> list[str]:
    value = body.get("Transform")
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def capability_needs(body: Mapping[str, Any], *, transform_needs_expand: bool = False
                     ) -> CapabilityNeeds:
    """What ``body`` (processed: after its transform) needs acknowledged to deploy."""
    iam_types: list[str] = []
    named = False
    for spec in (body.get("Resources") or {}).values():
        kind = spec.get("Type") if isinstance(spec, dict) else None
        if kind in _IAM_NAMES:
            iam_types.append(kind)
            name_key = _IAM_NAMES[kind]
            named = named or bool(name_key and (spec.get("Properties") or {}).get(name_key))
    needed: list[str] = []
    reasons: list[str] = []
    if iam_types:
        needed.append("CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM")
        reasons.append("The following resource(s) require capabilities: "
                       f"[{', '.join(sorted(set(iam_types)))}]")
    declared = transforms(body)
    if transform_needs_expand and declared:
        needed.append("CAPABILITY_AUTO_EXPAND")
        reasons.append(f"The following transforms require capabilities: [{', '.join(declared)}]")
    return CapabilityNeeds(needed, "; ".join(reasons))


def missing_capabilities(needs: CapabilityNeeds, given: list[str]) -> list[str]:
    """What is needed and not given (CAPABILITY_NAMED_IAM covers CAPABILITY_IAM)."""
    missing = []
    for capability in needs.capabilities:
        if capability == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in given:
            continue
        if capability not in given:
            missing.append(capability)
    return missing


def resource_types(body: Mapping[str, Any]) -> list[str]:
    types = [spec.get("Type") for spec in (body.get("Resources") or {}).values()
             if isinstance(spec, dict)]
    return sorted({t for t in types if isinstance(t, str)})


def parameter_declarations(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GetTemplateSummary's ParameterDeclarations (ValidateTemplate uses a subset)."""
    declared = []
    for key, spec in (body.get("Parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        item: dict[str, Any] = {"ParameterKey": key,
                                "ParameterType": str(spec.get("Type", "String")),
                                "NoEcho": _true(spec.get("NoEcho")),
                                "Description": str(spec.get("Description", ""))}
        if "Default" in spec:
            item["DefaultValue"] = _text(spec["Default"])
        if isinstance(spec.get("AllowedValues"), list):
            item["ParameterConstraints"] = {
                "AllowedValues": [_text(v) for v in spec["AllowedValues"]]}
        declared.append(item)
    return declared


def stack_parameters(body: Mapping[str, Any], values: Mapping[str, str]
                     ) -> list[dict[str, str]]:
    """DescribeStacks' Parameters: every declared one, with its value or default
    (``****`` for NoEcho, as CloudFormation masks them)."""
    listed = []
    for item in parameter_declarations(body):
        key = item["ParameterKey"]
        value = values.get(key, item.get("DefaultValue"))
        if value is None:
            continue
        listed.append({"ParameterKey": key,
                       "ParameterValue": "****" if item["NoEcho"] else str(value)})
    return listed


def s3_location(url: str) -> tuple[str, str]:
    """(bucket, key) of a TemplateURL: path style on the local endpoint or on
    ``s3.<region>.amazonaws.com``, or virtual-hosted ``<bucket>.s3….amazonaws.com``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path).lstrip("/")
    if parts.scheme not in ("http", "https") or not host:
        raise CloudFormationError("TemplateURL must be a supported URL.")
    match = _S3_HOST.match(host)
    if match and match.group("bucket"):
        bucket, key = match.group("bucket"), path
    else:
        bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise CloudFormationError("TemplateURL must be a supported URL.")
    return bucket, key


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
