"""The deploy plan, as data, and the planner that makes it.

Like chalice's planner, ``Planner`` reads the template, expands SAM, resolves every
intrinsic function, checks code folders, handlers and state machine definitions, assigns
physical ids and compares each resource with what the stack already has; it changes
nothing, so a broken template leaves the running cloud and its data as they were. What it
returns, a :class:`Plan`, is inert: frozen steps (one action per resource, with its
resolved and prepared properties and the resources whose values it still waits for) and
plain values, with no provider, resolver or client in it, so a change set can keep it,
show it (``Plan.describe``) and hand it to the executor (deployment_executor.py) later.

A resource is unchanged when the fingerprint of its prepared properties is (for a
function this includes a hash of its code), so redeploying an unchanged template calls
nothing, and editing one handler redeploys that function only.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import sam
from .intrinsics import Resolver, pseudo_parameters, references, resolve_parameters
from .providers import PROVIDERS, Provider, ProviderContext, Record, Skip
from .providers.base import generated_name
from .template import Template, TemplateError

__all__ = [
    "NOT_EMULATED",
    "Change",
    "Plan",
    "Planner",
    "PropertyChange",
    "Step",
    "delete_order",
    "fingerprint",
    "topological",
]

NOT_EMULATED = "NOT_EMULATED"
_SECTIONS = {"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
             "Mappings", "Conditions", "Transform", "Resources", "Outputs", "Globals"}
_RESOURCE_KEYS = {"Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy",
                  "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy", "Version"}
# CloudFormation's change set words for the plan's actions.
_CHANGE_SET_ACTIONS = {"create": "Add", "update": "Modify", "replace": "Modify",
                       "delete": "Remove"}


# -- helpers shared with the executor -----------------------------------------------------


def fingerprint(kind: str, properties: Any) -> str:
    """What identifies a resource's prepared properties: equal means unchanged."""
    text = json.dumps([kind, properties], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def topological(nodes: Iterable[str], depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes with every dependency first, in their given order otherwise; cycles raise."""
    remaining = {node: {d for d in depends_on.get(node, ()) if d != node} for node in nodes}
    for node in remaining:
        remaining[node] &= remaining.keys()
    ordered: list[str] = []
    while remaining:
        ready = [node for node, deps in remaining.items() if not deps]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise TemplateError(f"circular dependency between resources: {cycle}",
                                resource=min(remaining))
        for node in ready:
            del remaining[node]
            ordered.append(node)
        for deps in remaining.values():
            deps.difference_update(ready)
    return ordered


def delete_order(doomed: Iterable[Record]) -> list[Record]:
    """Dependents before what they depend on (a record's logical id may occur twice:
    the old copy of a replaced resource)."""
    keys = {str(index): record for index, record in enumerate(doomed)}
    by_logical_id: dict[str, list[str]] = {}
    for key, record in keys.items():
        by_logical_id.setdefault(record.logical_id, []).append(key)
    depends_on = {key: [other for name in record.depends_on
                        for other in by_logical_id.get(name, [])]
                  for key, record in keys.items()}
    return [keys[key] for key in reversed(topological(keys, depends_on))]


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What the plan does to one resource: create, update, replace, delete, unchanged, skip."""

    logical_id: str
    type: str
    action: str
    reason: str = ""


@dataclass(frozen=True)
class PropertyChange:
    """One top-level property that differs from the deployed resource."""

    name: str
    requires_recreation: str   # CloudFormation's "Always" / "Never"


@dataclass(frozen=True)
class Step:
    """The plan for one resource of the new template."""

    logical_id: str
    type: str
    action: str                     # create, update, replace, unchanged, skip
    physical_id: str
    generation: int
    depends_on: tuple[str, ...]
    deletion_policy: str
    # Resources whose Ref / GetAtt values the properties use: if a value turns out other
    # than planned (a new queue's URL…), the executor resolves the properties again.
    references: tuple[str, ...] = ()
    resolved: Any = None            # properties after intrinsics, before prepare
    prepared: Mapping[str, Any] = field(default_factory=dict)
    old: Record | None = None
    forced: bool = False            # redone because a resource it depends on was replaced
    changed: tuple[PropertyChange, ...] = ()

    @property
    def reason(self) -> str:
        return "a resource it depends on was replaced" if self.forced else ""


@dataclass(frozen=True)
class Plan:
    """A checked plan for one stack, as plain data; ``Deployer.execute`` applies it.

    ``values`` holds each resource's Ref / GetAtt values as far as known when planning;
    ``template`` is the expanded template (for what must be resolved again when a value
    turns out other than planned, and for the Outputs); ``parameters`` the template
    parameters' values; ``base_version`` the stack version the plan was made against.
    """

    stack_name: str
    template_path: Path | None
    changes: list[Change]
    warnings: list[str]
    seconds: float
    steps: tuple[Step, ...] = ()
    deletes: tuple[Record, ...] = ()
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    template: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    imports: Mapping[str, str] = field(default_factory=dict)
    template_dir: Path | None = None
    skipped: frozenset[str] = frozenset()
    local_code: bool = True
    base_version: int = 0

    @classmethod
    def deleting(cls, stack_name: str, records: Iterable[Record], *, base_version: int) -> Plan:
        """The plan that deletes every resource of a stack."""
        doomed = tuple(records)
        return cls(stack_name, None, [Change(r.logical_id, r.type, "delete") for r in doomed],
                   [], 0.0, deletes=doomed, base_version=base_version)

    def describe(self) -> list[dict[str, Any]]:
        """The plan as CloudFormation's change set shows it (DescribeChangeSet ``Changes``):
        Add / Modify / Remove, Replacement, Scope and the properties that differ."""
        removed = {record.logical_id: record for record in self.deletes}
        changes = []
        for step in self.steps:
            gone = removed.pop(step.logical_id, None)
            change = _resource_change(step, step.old or gone)
            if change is not None:
                changes.append(change)
        changes += [_entry("Remove", record.logical_id, record.type, record)
                    for record in removed.values()]
        return [{"Type": "Resource", "ResourceChange": change} for change in changes]

    def to_json(self) -> dict[str, Any]:
        """Everything in the plan as JSON-able data, with its change set view."""
        data = asdict(self)
        data["skipped"] = sorted(self.skipped)
        data["change_set"] = self.describe()
        return json.loads(json.dumps(data, default=str))


def _entry(action: str, logical_id: str, kind: str, old: Record | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"Action": action, "LogicalResourceId": logical_id,
                             "ResourceType": kind, "Scope": [], "Details": []}
    if old is not None:
        entry["PhysicalResourceId"] = str(old.attributes.get("Ref", old.physical_id))
    return entry


def _resource_change(step: Step, old: Record | None) -> dict[str, Any] | None:
    """One step as a change set's ResourceChange; None for what does not change."""
    was_emulated = old is not None and old.status != NOT_EMULATED
    if step.action == "unchanged" or (step.action == "skip" and old is not None
                                      and not was_emulated):
        return None
    if old is None:
        return _entry("Add", step.logical_id, step.type, None)
    entry = _entry("Modify", step.logical_id, step.type, old)
    entry["Replacement"] = "False" if step.action == "update" else "True"
    entry["Scope"] = ["Properties"]
    entry["Details"] = [
        {"Target": {"Attribute": "Properties", "Name": change.name,
                    "RequiresRecreation": change.requires_recreation},
         "Evaluation": "Static", "ChangeSource": "DirectModification"}
        for change in step.changed]
    if step.forced:
        entry["Details"].append({"Target": {"Attribute": "Properties",
                                            "RequiresRecreation": "Always"},
                                 "Evaluation": "Dynamic", "ChangeSource": "ResourceReference"})
    return entry


# -- planning -----------------------------------------------------------------------------


@dataclass
class _Draft:
    """A step while the planner works it out; frozen into a Step at the end."""

    logical_id: str
    type: str
    action: str
    physical_id: str
    generation: int
    depends_on: list[str]
    deletion_policy: str
    references: list[str]
    resolved: Any = None
    prepared: dict[str, Any] = field(default_factory=dict)
    old: Record | None = None
    forced: bool = False
    changed: tuple[PropertyChange, ...] = ()

    def freeze(self) -> Step:
        return Step(self.logical_id, self.type, self.action, self.physical_id, self.generation,
                    tuple(self.depends_on), self.deletion_policy, tuple(self.references),
                    self.resolved, self.prepared, self.old, self.forced, self.changed)


ContextFactory = Callable[[Callable[[str], None]], ProviderContext]


class Planner:
    """Builds one Plan: every check and every resolved value, no side effects.

    ``records`` are the stack's resources now (none for a new stack), ``imports`` the other
    stacks' exports, and ``context(warn)`` makes the providers' context for this stack.
    """

    def __init__(self, template: Template, *, stack_name: str, parameters: Mapping[str, Any],
                 records: Mapping[str, Record], base_version: int,
                 imports: Mapping[str, str], context: ContextFactory,
                 local_code: bool = True) -> None:
        self.template = template
        self.stack_name = stack_name
        self.parameters = parameters
        self.old: dict[str, Record] = dict(records)
        self.base_version = base_version
        self.imports = imports
        self.local_code = local_code
        self.warnings: list[str] = []
        self.values: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, _Draft] = {}
        self.deletes: list[Record] = []
        self.replaced_in_place: set[str] = set()
        self.providers: dict[str, Provider] = {}
        self.context = context(self.warn)
        self.settings = self.context.settings

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def run(self) -> Plan:
        started = time.perf_counter()
        try:
            self.body = sam.expand(self.template, region=self.settings.region,
                                   parameters=self.parameters, local_code=self.local_code)
            self.resources: dict[str, Any] = self.body["Resources"]
            self._check_structure()
            self.resolver = self._resolver()
            self._check_references()
            active = self._active_resources()
            for logical_id in topological(active, self._dependencies(active)):
                self._plan_resource(logical_id)
            self._plan_deletes()
            self._check_outputs()
        except TemplateError as error:
            raise self._located(error) from None
        return self._plan(time.perf_counter() - started)

    def _plan(self, seconds: float) -> Plan:
        steps = tuple(draft.freeze() for draft in self.steps.values())
        changes = [Change(s.logical_id, s.type, s.action, s.reason) for s in steps]
        changes += [Change(r.logical_id, r.type, "delete") for r in self.deletes
                    if r.logical_id not in self.steps]
        return Plan(self.stack_name, self.template.path, changes, self.warnings, seconds,
                    steps, tuple(self.deletes), self.values, self.body, self.parameter_values,
                    dict(self.imports), self.template.directory,
                    frozenset(self.context.skipped), self.local_code, self.base_version)

    def _located(self, error: TemplateError) -> TemplateError:
        line = None
        if error.line is None and error.resource:
            # "GameFunction", "Outputs.WebSocketURL", "Parameters.Stage"…
            section, _, name = error.resource.rpartition(".")
            line = self.template.line_of(section or "Resources", name)
        return error.located(file=self.template.path, line=line)

    # structure and references

    def _check_structure(self) -> None:
        unknown = sorted(set(self.body) - _SECTIONS)
        if unknown:
            raise TemplateError(f"unknown top-level section(s) {', '.join(unknown)}")
        for logical_id, spec in self.resources.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
                raise TemplateError("a resource needs a Type", resource=logical_id)
            extra = sorted(set(spec) - _RESOURCE_KEYS)
            if extra:
                raise TemplateError(f"unknown resource attribute(s) {', '.join(extra)} (Type, "
                                    "Properties, DependsOn, Condition… are allowed)",
                                    resource=logical_id)
            if not isinstance(spec.get("Properties", {}), dict):
                raise TemplateError("Properties must be a mapping", resource=logical_id)
        outputs = self.body.get("Outputs") or {}
        for name, spec in outputs.items():
            if not isinstance(spec, dict) or "Value" not in spec:
                raise TemplateError("an output needs a Value", resource=f"Outputs.{name}")

    def _resolver(self) -> Resolver:
        values = resolve_parameters(self.body.get("Parameters") or {}, self.parameters)
        self.parameter_values = dict(values)  # the plan's; pseudo parameters are the cloud's
        values.update(pseudo_parameters(region=self.settings.region,
                                        account_id=self.settings.account_id,
                                        stack_name=self.stack_name))
        return Resolver(parameters=values, resources=frozenset(self.resources), ref=self._ref,
                        get_att=self._get_att, region=self.settings.region,
                        mappings=self.body.get("Mappings"), conditions=self.body.get("Conditions"),
                        imports=self.imports)

    def _check_references(self) -> None:
        known = set(self.resources) | self.resolver.parameter_names
        places = [(logical_id, spec.get("Properties", {}))
                  for logical_id, spec in self.resources.items()]
        places += [(f"Outputs.{name}", spec) for name, spec in
                   (self.body.get("Outputs") or {}).items()]
        for where, value in places:
            for name, attribute in sorted(references(value), key=str):
                if attribute is None and name not in known:
                    raise TemplateError(f"Ref to {name!r}, which is not a resource, parameter "
                                        "or pseudo parameter of this template", resource=where)
                if attribute is not None and name not in self.resources:
                    raise TemplateError(f"Fn::GetAtt to {name}.{attribute}, but there is no "
                                        f"resource {name!r} in this template", resource=where)
        for logical_id, spec in self.resources.items():
            for target in self._depends_on(spec):
                if target not in self.resources:
                    raise TemplateError(f"DependsOn {target!r}, which is not a resource of "
                                        "this template", resource=logical_id)
        for name in self.body.get("Conditions") or {}:
            self.resolver.condition(name, where=f"Conditions.{name}")

    @staticmethod
    def _depends_on(spec: Mapping[str, Any]) -> list[str]:
        value = spec.get("DependsOn") or []
        return [value] if isinstance(value, str) else list(value)

    def _active_resources(self) -> list[str]:
        active = []
        for logical_id, spec in self.resources.items():
            condition = spec.get("Condition")
            if condition is None or self.resolver.condition(condition, where=logical_id):
                active.append(logical_id)
        self.active = set(active)
        return active

    def _dependencies(self, active: list[str]) -> dict[str, list[str]]:
        return {logical_id: sorted(set(self._references(logical_id))
                                   | set(self._depends_on(self.resources[logical_id])))
                for logical_id in active}

    def _references(self, logical_id: str) -> list[str]:
        """The created resources whose values ``logical_id``'s properties use."""
        properties = self.resources[logical_id].get("Properties", {})
        return sorted({name for name, _ in references(properties)} & self.active)

    # values of resources, for the resolver

    def _values_of(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.active:
            raise TemplateError(f"{logical_id} is not created (its Condition is false), so "
                                "nothing can refer to it here")
        return self.values[logical_id]

    def _ref(self, logical_id: str) -> Any:
        return self._values_of(logical_id)["Ref"]

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        values = self._values_of(logical_id)
        kind = self.resources[logical_id]["Type"]
        provider = PROVIDERS.get(kind)
        if provider is not None and not provider.has_attribute(attribute):
            known = ", ".join(sorted(provider.attribute_names)) or "none"
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: {kind} has no attribute "
                                f"{attribute!r} (it has: {known})")
        if attribute in values:
            return values[attribute]
        if self.steps[logical_id].action == "skip":
            return f"<{logical_id}.{attribute}: not emulated>"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: {logical_id} has no "
                            f"{attribute} as configured")

    # one resource

    def provider(self, kind: str) -> Provider | None:
        if kind not in self.providers and kind in PROVIDERS:
            self.providers[kind] = PROVIDERS[kind](self.context)
        return self.providers.get(kind)

    def _plan_resource(self, logical_id: str) -> None:
        spec = self.resources[logical_id]
        kind = spec["Type"]
        old = self.old.get(logical_id)
        if old is not None and old.type != kind:
            self.deletes.append(old)  # a new type is a new resource
            old = None
        step = _Draft(logical_id, kind, "create", "", old.generation if old else 0,
                      self._dependencies([logical_id])[logical_id],
                      str(spec.get("DeletionPolicy", "Delete")), self._references(logical_id),
                      old=old)
        self.steps[logical_id] = step
        step.resolved = self.resolver.resolve(spec.get("Properties") or {}, where=logical_id)
        provider = self.provider(kind)
        if provider is None:
            self._skip(step, None, "not emulated by the local cloud")
            return
        try:
            step.prepared = provider.prepare(logical_id, copy.deepcopy(step.resolved))
        except Skip as skip:
            self._skip(step, provider, str(skip))
            return
        self._decide(step, provider)

    def _decide(self, step: _Draft, provider: Provider) -> None:
        """Create, update, replace or leave alone; and the values others will see."""
        old, logical_id = step.old, step.logical_id
        if old is not None and old.status == NOT_EMULATED:
            step.old = old = None  # emulated now: nothing to update
        # Deleted and made again under the same name: what points at it is redone too.
        step.forced = old is not None and bool(self.replaced_in_place & set(step.depends_on))
        if old is None:
            step.action = "create"
            step.physical_id = provider.physical_id(logical_id, step.prepared,
                                                    generation=step.generation)
        elif old.fingerprint == fingerprint(step.type, step.prepared) and not step.forced:
            step.action, step.physical_id = "unchanged", old.physical_id
            self.values[logical_id] = old.attributes
            return
        elif provider.needs_replacement(old.properties, step.prepared):
            step.action, step.generation = "replace", old.generation + 1
            step.physical_id = provider.physical_id(logical_id, step.prepared,
                                                    generation=step.generation)
            if step.physical_id == old.physical_id:
                self.replaced_in_place.add(logical_id)
            warning = provider.replacement_warning(logical_id, old.physical_id)
            if warning:
                self.warn(warning)
        else:
            step.action, step.physical_id = "update", old.physical_id
        if old is not None:
            step.changed = tuple(PropertyChange(name, recreation) for name, recreation
                                 in provider.property_changes(old.properties, step.prepared))
        self.values[logical_id] = provider.attributes(logical_id, step.physical_id,
                                                      step.prepared)

    def _skip(self, step: _Draft, provider: Provider | None, reason: str) -> None:
        self.warn(f"{step.logical_id} ({step.type}): {reason}; skipped")
        old = step.old
        if old is not None and old.status != NOT_EMULATED:
            self.deletes.append(old)
        step.action = "skip"
        if old is not None:
            step.physical_id = old.physical_id
        elif provider is not None:
            step.physical_id = provider.physical_id(step.logical_id, step.resolved,
                                                    generation=0)
        else:
            step.physical_id = generated_name(self.stack_name, step.logical_id)
        values = (provider.attributes(step.logical_id, step.physical_id, step.resolved)
                  if provider is not None else {"Ref": step.physical_id})
        self.values[step.logical_id] = values
        self.context.skipped.update({step.physical_id, str(values["Ref"])})

    def _plan_deletes(self) -> None:
        for logical_id, record in self.old.items():
            if logical_id not in self.steps:
                self.deletes.append(record)

    def _check_outputs(self) -> None:
        for name, spec in (self.body.get("Outputs") or {}).items():
            where = f"Outputs.{name}"
            if "Condition" in spec and not self.resolver.condition(spec["Condition"],
                                                                   where=where):
                continue
            self.resolver.resolve(spec["Value"], where=where)
            export = (spec.get("Export") or {}).get("Name")
            if export is not None:
                export_name = self.resolver.resolve(export, where=where)
                if export_name in self.imports:
                    raise TemplateError(f"export {export_name!r} is already exported by "
                                        "another stack", resource=where)
