"""One lab's slice of ``template.yaml``: what a notebook deploys and shows.

``template.yaml`` is the finished game backend. Each of its resources says which lab
introduces it (``Metadata: {Workshop: {Lab: N}}``). Lab N deploys the resources of labs
1…N plus anything they reference; ``catch_up(N)`` deploys labs before N, for a learner
who fell behind. A notebook can also leave resources out or override properties, which
is how lab 1 reproduces the 403 (no deployment) and the 500 (no invoke permission).

The slice is written as a template of its own, with local paths made absolute, so the
same file deploys to the local cloud or, with ``sam``, to AWS.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import aws_target, cloud, stack_reader
from .emulator.intrinsics import references
from .emulator.template import load_template
from .errors import WorkshopError
from .exercises import regions

__all__ = ["LabError", "TEMPLATE", "select", "write", "deploy", "catch_up", "resource_yaml",
           "handler_source", "lab_of", "policies_without"]

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
_PATH_PROPERTIES = ("CodeUri", "DefinitionUri", "ContentUri")


class LabError(WorkshopError, ValueError):
    """A lab number, resource name or override that the template cannot honour."""


def lab_of(resource: Mapping[str, Any]) -> int | None:
    """The lab that introduces a resource, from its ``Metadata.Workshop.Lab``."""
    lab = (resource.get("Metadata") or {}).get("Workshop", {}).get("Lab")
    return lab if isinstance(lab, int) else None


def _dependencies(resource: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    known = set(names)
    found = {name for name, _ in references(resource) if name in known}
    depends = resource.get("DependsOn") or []
    found.update([depends] if isinstance(depends, str) else depends)
    return found


def select(body: Mapping[str, Any], lab: int, *, without: Iterable[str] = (),
           override: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The template body for ``lab``: its resources and their dependencies, adjusted."""
    resources: dict[str, Any] = body.get("Resources") or {}
    unknown = sorted((set(without) | set(override or {})) - set(resources))
    if unknown:
        raise LabError(f"not resources of the template: {', '.join(unknown)}")
    wanted = [name for name, spec in resources.items() if (lab_of(spec) or 0) <= lab]
    chosen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name not in chosen:
            chosen.add(name)
            wanted.extend(_dependencies(resources[name], resources))
    left_out = set(without)
    needed = {name: sorted(_dependencies(resources[name], resources) & left_out)
              for name in chosen - left_out}
    blocked = {name: deps for name, deps in needed.items() if deps}
    if blocked:
        name, deps = next(iter(sorted(blocked.items())))
        raise LabError(f"{name} needs {', '.join(deps)}, so it cannot be left out")
    sliced = copy.deepcopy({k: v for k, v in body.items() if k != "Outputs"})
    sliced["Resources"] = {name: copy.deepcopy(spec) for name, spec in resources.items()
                           if name in chosen - left_out}
    for name, properties in (override or {}).items():
        if name in sliced["Resources"]:
            sliced["Resources"][name].setdefault("Properties", {}).update(properties)
    outputs = {name: spec for name, spec in (body.get("Outputs") or {}).items()
               if _dependencies(spec, resources) <= set(sliced["Resources"])}
    if outputs:
        sliced["Outputs"] = copy.deepcopy(outputs)
    return sliced


def _absolute_paths(body: dict[str, Any], directory: Path) -> None:
    """Relative CodeUri / DefinitionUri start at the template; the slice lives elsewhere."""
    sections = [spec.get("Properties") or {} for spec in body["Resources"].values()]
    sections += list((body.get("Globals") or {}).values())
    for properties in sections:
        for key in _PATH_PROPERTIES:
            value = properties.get(key)
            if isinstance(value, str) and "://" not in value and not os.path.isabs(value):
                properties[key] = str(directory / value)


def write(lab: int, *, without: Iterable[str] = (),
          override: Mapping[str, Mapping[str, Any]] | None = None,
          stack_name: str = "workshop", template: Path = TEMPLATE) -> Path:
    """Write lab ``lab``'s template to the build folder and return its path."""
    loaded = load_template(template)
    body = select(loaded.body, lab, without=without, override=override)
    _absolute_paths(body, loaded.directory)
    target = cloud.settings().home / "build" / stack_name / "template.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# Lab {lab} of {template.name}, written by workshop.lab\n"
                      + yaml.safe_dump(body, sort_keys=False, width=100))
    return target


def deploy(lab: int, *, without: Iterable[str] = (),
           override: Mapping[str, Mapping[str, Any]] | None = None,
           stack_name: str = "workshop", template: Path = TEMPLATE,
           target: str | None = None) -> dict[str, Any]:
    """Deploy lab ``lab`` (and the labs before it); return the report, with ``outputs``.

    ``target`` is ``local`` or ``aws``; by default, the one notebook 00 chose.
    """
    path = write(lab, without=without, override=override, stack_name=stack_name,
                 template=template)
    if target is None:
        from .notebook.target import chosen

        target = chosen()
    if target == "aws":
        return aws_target.deploy(path, stack_name=stack_name)
    report = cloud.deploy(path, stack_name=stack_name)
    # The outputs as CloudFormation's DescribeStacks gives them, as on the aws target.
    return {**report, "outputs": stack_reader.outputs(stack_name, target="local")}


def catch_up(lab: int, *, stack_name: str = "workshop", template: Path = TEMPLATE,
             target: str | None = None) -> dict[str, Any] | None:
    """Deploy the reference solution of every lab before ``lab``; None before lab 2."""
    if lab < 1:
        raise LabError(f"labs are numbered from 1, not {lab}")
    if lab == 1:
        return None
    return deploy(lab - 1, stack_name=stack_name, template=template, target=target)


def resource_yaml(*logical_ids: str, template: Path = TEMPLATE) -> str:
    """The named resources exactly as ``template.yaml`` writes them, comments included."""
    text = regions.reference(template.read_text(), name=str(template))
    blocks = _resource_blocks(text)
    missing = [name for name in logical_ids if name not in blocks]
    if missing:
        raise LabError(f"not resources of {template.name}: {', '.join(missing)}")
    return "\n".join(blocks[name] for name in logical_ids)


def _resource_blocks(text: str) -> dict[str, str]:
    """Each resource's lines under ``Resources:``, with the comment lines just above it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "Resources:")
    blocks: dict[str, str] = {}
    current: list[str] = []
    pending: list[str] = []
    name = None
    for line in lines[start + 1:]:
        if line and not line[0].isspace():
            break                                    # the next top-level section
        header = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
        if header:
            if name:
                blocks[name] = "\n".join(current).rstrip()
            comments = [text for text in pending if text.strip()]
            name, current, pending = header.group(1), comments + [line], []
        elif re.match(r"^  #", line) or not line.strip():
            pending.append(line)
        else:
            current += pending + [line]
            pending = []
    if name:
        blocks[name] = "\n".join(current).rstrip()
    return blocks


def policies_without(logical_id: str, *dropped: str, template: Path = TEMPLATE) -> list[Any]:
    """A function's ``Policies`` minus the SAM policy templates named in ``dropped``
    (``"DynamoDBWritePolicy"``…): with ``override``, a deploy that takes a permission
    away to show what the function's role no longer allows. The template is only read."""
    spec = (load_template(template).body.get("Resources") or {}).get(logical_id)
    if spec is None:
        raise LabError(f"{logical_id} is not a resource of {template.name}")
    policies = (spec.get("Properties") or {}).get("Policies") or []
    kept = [policy for policy in policies
            if not (isinstance(policy, Mapping) and set(policy) & set(dropped))]
    if len(kept) == len(policies):
        raise LabError(f"{logical_id} has none of the policies {', '.join(dropped)}")
    return kept


def _default(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A ``!Ref`` to a template parameter stands for the parameter's default."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return (parameters[value["Ref"]] or {}).get("Default")
    return value


def handler_source(logical_id: str, *, template: Path = TEMPLATE) -> str:
    """The source of a function's handler module, to show in full."""
    loaded = load_template(template)
    spec = (loaded.body.get("Resources") or {}).get(logical_id)
    if spec is None:
        raise LabError(f"{logical_id} is not a resource of {template.name}")
    globals_ = (loaded.body.get("Globals") or {}).get("Function") or {}
    properties = {**globals_, **(spec.get("Properties") or {})}
    parameters = loaded.body.get("Parameters") or {}
    code_uri, handler = (_default(properties.get(key), parameters)
                         for key in ("CodeUri", "Handler"))
    if not (isinstance(code_uri, str) and isinstance(handler, str)):
        raise LabError(f"{logical_id} has no local CodeUri and Handler")
    module = handler.rsplit(".", 1)[0].replace(".", "/")
    path = loaded.directory / code_uri / f"{module}.py"
    return regions.reference(path.read_text(), name=str(path))
