"""Expand a SAM template into plain CloudFormation, offline, with aws-sam-translator.

The translator is the same code AWS runs for ``Transform: AWS::Serverless-2016-10-31``, so
Globals, policy templates, Schedule events and AutoPublishAlias behave exactly as on AWS.
It only accepts S3 locations for code and state machine definitions, so local folders
(``CodeUri: src/``) are swapped for stand-in ``s3://`` URIs first and swapped back after,
and a local ``DefinitionUri`` file is read and inlined as ``Definition``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .template import Template, TemplateError, parse_yaml

__all__ = ["LOCAL_CODE_BUCKET", "SAM_TRANSFORM", "expand", "is_sam", "local_path_error",
           "refuse_local_paths"]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
LOCAL_CODE_BUCKET = "workshop-local-code"

# Properties that may name a local file or folder, per SAM type (the state machine's
# DefinitionUri is inlined instead). Function code and layer content are mapped back: the
# others are types the local cloud does not emulate, and the deployer warns about them.
_LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::Application": "Location",
}

# Where the translated CloudFormation resource carries the stand-in S3 location.
_TRANSLATED_CODE = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}

# The transform is a pure function of (body, parameters, region): redeploying an unchanged
# template reuses the last translations instead of paying ~40 ms for each.
_TRANSLATIONS: OrderedDict[str, dict[str, Any]] = OrderedDict()
_TRANSLATIONS_KEPT = 8


def _transforms(body: Mapping[str, Any]) -> list[str]:
    transform = body.get("Transform")
    if transform is None:
        return []
    return [transform] if isinstance(transform, str) else list(transform)


def is_sam(body: Mapping[str, Any]) -> bool:
    """Whether the template asks for the SAM transform."""
    return SAM_TRANSFORM in _transforms(body)


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not re.match(r"^(s3|https?)://", uri)


class _LocalPaths:
    """Local paths swapped out for stand-in ``s3://workshop-local-code/<n>`` URIs.

    The translator accepts only S3 code locations; ``restore`` maps each back to its
    folder, so nothing is uploaded and the deployer runs the local code.
    """

    def __init__(self) -> None:
        self.paths: list[str] = []

    def stand_in(self, path: str) -> str:
        self.paths.append(path)
        return f"s3://{LOCAL_CODE_BUCKET}/{len(self.paths) - 1}"

    def restore(self, code: Any) -> Any:
        """The local path for a translated ``Code`` that holds a stand-in location."""
        if isinstance(code, dict) and code.get("S3Bucket") == LOCAL_CODE_BUCKET:
            return self.paths[int(code["S3Key"])]
        return code


def expand(template: Template, *, region: str, parameters: Mapping[str, Any] | None = None,
           local_code: bool = True) -> dict[str, Any]:
    """Plain CloudFormation for ``template`` (its own body when it is not SAM).

    ``local_code=False`` is for a template that came as text (CloudFormation's API): it
    has no folder of its own, so a local CodeUri is refused, as CloudFormation does.
    """
    transforms = _transforms(template.body)
    other = [name for name in transforms if name != SAM_TRANSFORM]
    if other:
        raise TemplateError(f"Transform {', '.join(map(str, other))} is not supported by the "
                            "local deployer (only AWS::Serverless-2016-10-31)",
                            file=template.path)
    if not transforms:
        return template.body
    body = copy.deepcopy(template.body)
    local = _LocalPaths()
    if not local_code:
        refuse_local_paths(body, template)
    _swap_local_paths(body, template, local)
    translated = _cached_translate(body, template, region=region, parameters=parameters or {})
    for resource in translated.get("Resources", {}).values():
        key = _TRANSLATED_CODE.get(resource.get("Type"))
        if key:
            properties = resource.get("Properties", {})
            properties[key] = local.restore(properties.get(key))
    return translated


def local_path_error(template: Template, resource: str, prop: str, uri: str) -> TemplateError:
    """A local path in a template that has no folder (it came as text)."""
    section, _, name = resource.rpartition(".")
    return TemplateError(f"{prop} {uri!r} is a local path: package it with sam package/deploy "
                         "first (it uploads the code to S3 and writes its s3:// location)",
                         file=template.path, resource=resource,
                         line=template.line_of(section or "Resources", name))


def refuse_local_paths(body: Mapping[str, Any], template: Template) -> None:
    """Raise for the first CodeUri, ContentUri or DefinitionUri that names a local path."""
    globals_ = (body.get("Globals") or {}).get("Function") or {}
    if isinstance(globals_, dict) and _is_local(globals_.get("CodeUri")):
        raise local_path_error(template, "Globals.Function", "CodeUri", globals_["CodeUri"])
    for logical_id, resource in body["Resources"].items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        kind = str(resource.get("Type"))
        for prop in (_LOCAL_URI_PROPERTIES.get(kind), "DefinitionUri"):
            if prop and kind.startswith("AWS::Serverless::") and _is_local(properties.get(prop)):
                raise local_path_error(template, logical_id, prop, properties[prop])


def _swap_local_paths(body: dict[str, Any], template: Template, local: _LocalPaths) -> None:
    globals_ = body.get("Globals", {}).get("Function", {})
    if isinstance(globals_, dict) and _is_local(globals_.get("CodeUri")):
        globals_["CodeUri"] = local.stand_in(globals_["CodeUri"])
    for logical_id, resource in body["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        kind, properties = resource.get("Type"), resource["Properties"]
        prop = _LOCAL_URI_PROPERTIES.get(kind)
        if prop and _is_local(properties.get(prop)):
            properties[prop] = local.stand_in(properties[prop])
        if kind == "AWS::Serverless::StateMachine" and _is_local(properties.get("DefinitionUri")):
            uri = properties.pop("DefinitionUri")
            properties["Definition"] = read_definition(template.path.parent / uri,
                                                       resource=logical_id, template=template)


def read_definition(path: Path, *, resource: str, template: Template) -> Any:
    """An Amazon States Language file (JSON, or YAML for .yaml/.yml) as data."""
    where = f"{resource} (DefinitionUri in {template.path})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"DefinitionUri file {path} does not exist",
                            file=template.path, resource=resource,
                            line=template.line_of("Resources", resource)) from None
    if path.suffix in (".yaml", ".yml"):
        try:
            definition, _ = parse_yaml(text, file=path)
        except TemplateError as error:
            raise error.located(resource=where) from None
    else:
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(f"state machine definition is not valid JSON: {error.msg}",
                                file=path, resource=where, line=error.lineno,
                                column=error.colno) from None
    if not isinstance(definition, dict):
        raise TemplateError("a state machine definition must be a JSON object", file=path,
                            resource=where)
    return definition


def _cached_translate(body: dict[str, Any], template: Template, *, region: str,
                      parameters: Mapping[str, Any]) -> dict[str, Any]:
    key = json.dumps([body, dict(parameters), region], sort_keys=True, default=str)
    if key not in _TRANSLATIONS:
        _TRANSLATIONS[key] = _translate(body, template, region=region, parameters=parameters)
        while len(_TRANSLATIONS) > _TRANSLATIONS_KEPT:
            _TRANSLATIONS.popitem(last=False)
    _TRANSLATIONS.move_to_end(key)
    return copy.deepcopy(_TRANSLATIONS[key])


def _translate(body: dict[str, Any], template: Template, *, region: str,
               parameters: Mapping[str, Any]) -> dict[str, Any]:
    # Imported here: the translator costs about 0.4 s to import, and plain
    # CloudFormation templates never need it.
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # A session only carries the region; the transform makes no AWS calls.
    session = boto3.session.Session(region_name=region)
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    try:
        return translator.translate(body, parameter_values=dict(parameters))
    except InvalidDocumentException as error:
        raise _translation_error(error, template) from None
    except Exception as error:  # noqa: BLE001 - it fails with KeyError/TypeError on odd input
        raise TemplateError(f"the SAM translator failed: {type(error).__name__}: {error}",
                            file=template.path) from None
    finally:
        metrics.publish()  # to nowhere; unpublished metrics make it log a warning


def _translation_error(error: Any, template: Template) -> TemplateError:
    causes = list(error.causes) or [error]
    first = causes[0]
    resource = getattr(first, "_logical_id", None)
    if not isinstance(resource, str):
        found = re.search(r"\[(\w+)\]", first.message)
        resource = found.group(1) if found else None
    problems = "; ".join(cause.message for cause in causes)
    resource = _original_resource(resource, template)
    return TemplateError(f"SAM cannot translate this: {problems}", file=template.path,
                         resource=resource,
                         line=template.line_of("Resources", resource) if resource else None)


def _original_resource(logical_id: str | None, template: Template) -> str | None:
    """The template's own resource for an id SAM made up from it (``FnTick`` -> ``Fn``)."""
    resources = template.body.get("Resources", {})
    if logical_id is None or logical_id in resources:
        return logical_id
    owners = [name for name in resources if logical_id.startswith(name)]
    return max(owners, key=len) if owners else logical_id
