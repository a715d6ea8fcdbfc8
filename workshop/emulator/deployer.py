"""``workshop deploy``: a SAM / CloudFormation template applied to the local cloud.

Like chalice's deployer, a deploy is a plan and then its execution. ``plan`` reads the
template, expands SAM, resolves every intrinsic function, checks code folders, handlers
and state machine definitions, assigns physical ids and compares each resource with what
the stack already has; it changes nothing, so a broken template leaves the running cloud
and its data as they were. ``execute`` then creates, updates and replaces resources in
dependency order and deletes what the template no longer has, in reverse order.

A resource is unchanged when the fingerprint of its resolved properties is (for a
function this includes a hash of its code folder), so redeploying an unchanged template
calls nothing, and editing one handler redeploys that function only.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import sam
from .execute_api_urls import local_url
from .ids import RANDOM_IDS, IdSource
from .intrinsics import Resolver, pseudo_parameters, references, resolve_parameters, stack_id
from .providers import PROVIDERS, Provider, ProviderContext, Record, Resource, Skip
from .providers.base import generated_name
from .s3_website import website_url
from .settings import Settings
from .template import DeployError, ProvisionError, Template, TemplateError, load_template

__all__ = [
    "Change",
    "DeployError",
    "DeployReport",
    "Deployer",
    "Plan",
    "ProvisionError",
    "TemplateError",
]

NOT_EMULATED = "NOT_EMULATED"
_STACK_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,127}$")
_SECTIONS = {"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
             "Mappings", "Conditions", "Transform", "Resources", "Outputs", "Globals"}
_RESOURCE_KEYS = {"Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy",
                  "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy", "Version"}


# -- public values ----------------------------------------------------------------------


@dataclass
class Change:
    """What the plan does to one resource: create, update, replace, delete, unchanged, skip."""

    logical_id: str
    type: str
    action: str
    reason: str = ""


@dataclass
class DeployReport:
    """The outcome of a deploy, as ``workshop deploy`` prints it."""

    stack_name: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class _Step:
    """The plan for one resource in the new template."""

    logical_id: str
    type: str
    action: str
    physical_id: str
    generation: int
    depends_on: list[str]
    deletion_policy: str
    resolved: Any = None           # properties after intrinsics, before prepare
    prepared: dict[str, Any] = field(default_factory=dict)
    old: Record | None = None
    forced: bool = False


@dataclass
class Plan:
    """A checked plan for one stack; ``Deployer.execute`` applies it."""

    stack_name: str
    template_path: Path | None
    changes: list[Change]
    warnings: list[str]
    seconds: float
    _steps: list[_Step] = field(repr=False, default_factory=list)
    _deletes: list[Record] = field(repr=False, default_factory=list)
    _values: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)
    _resolver: Resolver | None = field(repr=False, default=None)
    _body: dict[str, Any] = field(repr=False, default_factory=dict)
    _providers: dict[str, Provider] = field(repr=False, default_factory=dict)
    _context: ProviderContext | None = field(repr=False, default=None)
    _base_version: int = field(repr=False, default=0)


@dataclass
class _Stack:
    name: str
    records: dict[str, Record]
    outputs: dict[str, str]
    exports: dict[str, str]
    template: str
    version: int


def _fingerprint(kind: str, properties: Any) -> str:
    text = json.dumps([kind, properties], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _topological(nodes: Iterable[str], depends_on: Mapping[str, Iterable[str]]) -> list[str]:
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


def _delete_order(doomed: list[Record]) -> list[Record]:
    """Dependents before what they depend on (a record's logical id may occur twice:
    the old copy of a replaced resource)."""
    keys = {str(index): record for index, record in enumerate(doomed)}
    by_logical_id: dict[str, list[str]] = {}
    for key, record in keys.items():
        by_logical_id.setdefault(record.logical_id, []).append(key)
    depends_on = {key: [other for name in record.depends_on
                        for other in by_logical_id.get(name, [])]
                  for key, record in keys.items()}
    return [keys[key] for key in reversed(_topological(keys, depends_on))]


def _output_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(_output_text, value))
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- planning ---------------------------------------------------------------------------


class _Planner:
    """Builds one Plan: every check and every resolved value, no side effects."""

    def __init__(self, deployer: Deployer, template: Template, stack_name: str,
                 parameters: Mapping[str, Any], stack: _Stack | None,
                 imports: Mapping[str, str], foreign_exports: set[str]) -> None:
        self.deployer = deployer
        self.settings = deployer.settings
        self.template = template
        self.stack_name = stack_name
        self.parameters = parameters
        self.old: dict[str, Record] = dict(stack.records) if stack else {}
        self.base_version = stack.version if stack else 0
        self.imports = imports
        self.foreign_exports = foreign_exports
        self.warnings: list[str] = []
        self.values: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, _Step] = {}
        self.deletes: list[Record] = []
        self.replaced_in_place: set[str] = set()
        self.providers: dict[str, Provider] = {}
        self.context = ProviderContext(
            settings=self.settings, stack_name=stack_name, template_path=template.path,
            template_dir=template.directory, clients=deployer.clients,
            runtime=deployer.runtime, apis=deployer.apis, scheduler=deployer.scheduler,
            ids=deployer.ids, warn=self.warn)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def run(self) -> Plan:
        started = time.perf_counter()
        try:
            self.body = sam.expand(self.template, region=self.settings.region,
                                   parameters=self.parameters)
            self.resources: dict[str, Any] = self.body["Resources"]
            self._check_structure()
            self.resolver = self._resolver()
            self._check_references()
            active = self._active_resources()
            for logical_id in _topological(active, self._dependencies(active)):
                self._plan_resource(logical_id)
            self._plan_deletes()
            self._check_outputs()
        except TemplateError as error:
            raise self._located(error) from None
        changes = [Change(s.logical_id, s.type, s.action, self._reason(s))
                   for s in self.steps.values()]
        changes += [Change(r.logical_id, r.type, "delete") for r in self.deletes
                    if r.logical_id not in self.steps]
        # The plan shares this planner's warnings list and context: providers may still
        # warn while the plan is executed (a bucket left in place…).
        return Plan(self.stack_name, self.template.path, changes, self.warnings,
                    time.perf_counter() - started, list(self.steps.values()), self.deletes,
                    self.values, self.resolver, self.body, self.providers, self.context,
                    self.base_version)

    def _located(self, error: TemplateError) -> TemplateError:
        line = None
        if error.line is None and error.resource:
            # "GameFunction", "Outputs.WebSocketURL", "Parameters.Stage"…
            section, _, name = error.resource.rpartition(".")
            line = self.template.line_of(section or "Resources", name)
        return error.located(file=self.template.path, line=line)

    @staticmethod
    def _reason(step: _Step) -> str:
        return "a resource it depends on was replaced" if step.forced else ""

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
        graph = {}
        for logical_id in active:
            spec = self.resources[logical_id]
            referenced = {name for name, _ in references(spec.get("Properties", {}))}
            graph[logical_id] = sorted((referenced & self.active)
                                       | set(self._depends_on(spec)))
        return graph

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
        if provider is not None and attribute not in provider.attribute_names:
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
        step = _Step(logical_id, kind, "create", "", old.generation if old else 0,
                     self._dependencies([logical_id])[logical_id],
                     str(spec.get("DeletionPolicy", "Delete")), old=old)
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

    def _decide(self, step: _Step, provider: Provider) -> None:
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
        elif old.fingerprint == _fingerprint(step.type, step.prepared) and not step.forced:
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
        self.values[logical_id] = provider.attributes(logical_id, step.physical_id,
                                                      step.prepared)

    def _skip(self, step: _Step, provider: Provider | None, reason: str) -> None:
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
                if export_name in self.foreign_exports:
                    raise TemplateError(f"export {export_name!r} is already exported by "
                                        "another stack", resource=where)


# -- the deployer -----------------------------------------------------------------------


class Deployer:
    """Deploys templates as stacks into the local cloud; thread-safe, one deploy at a time.

    ``runtime`` is the Lambda runtime, ``apis`` the WebSocket APIs, ``scheduler`` the
    EventBridge scheduler and ``clients(service)`` a boto3 client for the local cloud.
    """

    def __init__(self, settings: Settings, *, runtime: Any, apis: Any, scheduler: Any,
                 clients: Callable[[str], Any], ids: IdSource = RANDOM_IDS) -> None:
        self.settings = settings
        self.runtime = runtime
        self.apis = apis
        self.scheduler = scheduler
        self.clients = clients
        self.ids = ids
        self._stacks: dict[str, _Stack] = {}
        self._deploy_lock = threading.Lock()  # one plan/execute at a time, as CloudFormation
        self._state_lock = threading.Lock()   # short: readers never wait for a deploy

    # -- deploying ----------------------------------------------------------------------

    def deploy(self, template_path: Path, *, stack_name: str = "workshop",
               parameters: Mapping[str, str] | None = None) -> DeployReport:
        """Plan, then execute; a template that fails to plan changes nothing."""
        started = time.perf_counter()
        with self._deploy_lock:
            plan = self._plan(Path(template_path), stack_name, parameters or {})
            report = self._execute(plan)
        report.seconds = time.perf_counter() - started
        return report

    def plan(self, template_path: Path, *, stack_name: str = "workshop",
             parameters: Mapping[str, str] | None = None) -> Plan:
        """Everything a deploy would do, checked, without doing any of it."""
        with self._deploy_lock:
            return self._plan(Path(template_path), stack_name, parameters or {})

    def execute(self, plan: Plan) -> DeployReport:
        """Apply a plan made by ``plan``; refused if the stack changed in between."""
        started = time.perf_counter()
        with self._deploy_lock:
            report = self._execute(plan)
        report.seconds = time.perf_counter() - started
        return report

    def delete(self, stack_name: str = "workshop") -> DeployReport:
        """Delete every resource of a stack, dependents first, and forget the stack."""
        with self._deploy_lock:
            stack = self._stack(stack_name)
            plan = Plan(stack_name, None, [Change(r.logical_id, r.type, "delete")
                                           for r in stack.records.values()], [], 0.0,
                        _deletes=list(stack.records.values()), _base_version=stack.version)
            report = self._execute(plan)
            with self._state_lock:
                self._stacks.pop(stack_name, None)
        return report

    def _plan(self, template_path: Path, stack_name: str,
              parameters: Mapping[str, Any]) -> Plan:
        if not _STACK_NAME.match(stack_name):
            raise DeployError(f"stack name {stack_name!r} must start with a letter and contain "
                              "only letters, digits and hyphens (at most 128)")
        template = load_template(template_path)
        with self._state_lock:
            stack = self._stacks.get(stack_name)
            others = [s for s in self._stacks.values() if s.name != stack_name]
        imports = {name: value for s in others for name, value in s.exports.items()}
        planner = _Planner(self, template, stack_name, parameters, stack, imports, set(imports))
        return planner.run()

    # -- executing ----------------------------------------------------------------------

    def _execute(self, plan: Plan) -> DeployReport:
        with self._state_lock:
            stack = self._stacks.get(plan.stack_name)
        if (stack.version if stack else 0) != plan._base_version:
            raise DeployError(f"stack {plan.stack_name!r} changed since this plan was made; "
                              "plan again")
        records = dict(stack.records) if stack else {}
        report = DeployReport(plan.stack_name, warnings=plan.warnings)
        if plan._context is None:
            plan._context = self._context(plan, report)
        cleanup: list[Record] = []
        try:
            for step in plan._steps:
                self._apply(plan, step, records, report, cleanup)
            self._delete_all(plan, [*plan._deletes, *cleanup], records, report,
                             replaced={r.logical_id for r in cleanup})
            outputs, exports = self._outputs(plan)
        except DeployError:
            self._save(plan, records, stack.outputs if stack else {},
                       stack.exports if stack else {})
            raise
        self._save(plan, records, outputs, exports)
        report.outputs = dict(outputs)
        return report

    def _apply(self, plan: Plan, step: _Step, records: dict[str, Record],
               report: DeployReport, cleanup: list[Record]) -> None:
        if step.action == "unchanged":
            report.unchanged.append(step.logical_id)
            return
        if step.action == "skip":
            records[step.logical_id] = Record(
                step.logical_id, step.type, step.physical_id, {}, plan._values[step.logical_id],
                "", step.depends_on, step.generation, NOT_EMULATED, step.deletion_policy)
            return
        assert plan._resolver is not None
        spec = plan._body["Resources"][step.logical_id]
        resolved = plan._resolver.resolve(spec.get("Properties") or {}, where=step.logical_id)
        provider = plan._providers[step.type]
        # Values only known now (a new queue's URL…) may differ from the plan's guesses.
        prepared = step.prepared if resolved == step.resolved else provider.prepare(
            step.logical_id, copy.deepcopy(resolved))
        fingerprint = _fingerprint(step.type, prepared)
        old = step.old
        if step.action == "update" and not step.forced and old and old.fingerprint == fingerprint:
            report.unchanged.append(step.logical_id)
            plan._values[step.logical_id] = old.attributes
            return
        resource = Resource(step.logical_id, step.type, prepared, step.physical_id)
        attributes = self._provision(plan, provider, step, resource, records, cleanup)
        plan._values[step.logical_id] = attributes
        (report.created if step.action == "create" else report.updated).append(step.logical_id)
        records[step.logical_id] = Record(
            step.logical_id, step.type, step.physical_id, prepared, attributes, fingerprint,
            step.depends_on, step.generation,
            "CREATE_COMPLETE" if step.action == "create" else "UPDATE_COMPLETE",
            step.deletion_policy)

    def _provision(self, plan: Plan, provider: Provider, step: _Step, resource: Resource,
                   records: dict[str, Record], cleanup: list[Record]) -> dict[str, Any]:
        old = step.old
        try:
            if step.action == "create":
                return provider.create(resource)
            assert old is not None
            if step.action == "update":
                return provider.update(resource, old)
            if step.physical_id == old.physical_id:
                # Same name: the old one must go first (AWS would refuse; locally we allow it).
                provider.delete(old)
                records.pop(step.logical_id, None)
            else:
                cleanup.append(old)  # deleted after everything moved to the new one
            return provider.create(resource)
        except DeployError:
            raise
        except Exception as error:  # a provider bug or a refusal: name the resource
            raise ProvisionError(f"{plan.template_path}: {step.logical_id}: could not "
                                 f"{step.action} {step.type}: {error}") from error

    def _delete_all(self, plan: Plan, doomed: list[Record], records: dict[str, Record],
                    report: DeployReport, *, replaced: set[str]) -> None:
        for record in _delete_order(doomed):
            self._delete_one(plan, record, report)
            if records.get(record.logical_id) is record:
                del records[record.logical_id]
            if record.logical_id not in replaced:
                report.deleted.append(record.logical_id)

    def _delete_one(self, plan: Plan, record: Record, report: DeployReport) -> None:
        if record.status == NOT_EMULATED:
            return
        if record.deletion_policy == "Retain":
            report.warnings.append(f"{record.logical_id}: DeletionPolicy Retain, so "
                                   f"{record.physical_id} was kept")
            return
        assert plan._context is not None
        provider = plan._providers.get(record.type)
        if provider is None:
            provider = plan._providers[record.type] = PROVIDERS[record.type](plan._context)
        try:
            provider.delete(record)
        except DeployError:
            raise
        except Exception as error:
            raise ProvisionError(f"{plan.template_path or plan.stack_name}: {record.logical_id}: "
                                 f"could not delete {record.type}: {error}") from error

    def _context(self, plan: Plan, report: DeployReport) -> ProviderContext:
        """A provider context for a plan made without a template (deleting a stack)."""
        path = plan.template_path or Path(plan.stack_name)
        return ProviderContext(
            settings=self.settings, stack_name=plan.stack_name, template_path=path,
            template_dir=path.parent, clients=self.clients, runtime=self.runtime,
            apis=self.apis, scheduler=self.scheduler, ids=self.ids,
            warn=lambda message: report.warnings.append(message))

    def _outputs(self, plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
        outputs: dict[str, str] = {}
        exports: dict[str, str] = {}
        resolver = plan._resolver
        if resolver is None:
            return outputs, exports
        for name, spec in (plan._body.get("Outputs") or {}).items():
            where = f"Outputs.{name}"
            if "Condition" in spec and not resolver.condition(spec["Condition"], where=where):
                continue
            text = _output_text(resolver.resolve(spec["Value"], where=where))
            export = (spec.get("Export") or {}).get("Name")
            if export is not None:
                exports[_output_text(resolver.resolve(export, where=where))] = text
            # The wss:// / https:// execute-api address and an S3 website endpoint become
            # the local cloud's own.
            outputs[name] = website_url(local_url(text, self.settings.endpoint_url),
                                        self.settings.endpoint_url)
        return outputs, exports

    def _save(self, plan: Plan, records: dict[str, Record], outputs: dict[str, str],
              exports: dict[str, str]) -> None:
        with self._state_lock:
            previous = self._stacks.get(plan.stack_name)
            self._stacks[plan.stack_name] = _Stack(
                plan.stack_name, records, outputs, exports,
                str(plan.template_path or (previous.template if previous else "")),
                (previous.version if previous else 0) + 1)

    # -- reading ------------------------------------------------------------------------

    def _stack(self, stack_name: str) -> _Stack:
        with self._state_lock:
            stack = self._stacks.get(stack_name)
        if stack is None:
            raise DeployError(f"stack {stack_name!r} has not been deployed")
        return stack

    def outputs(self, stack_name: str = "workshop") -> dict[str, str]:
        """The stack's Outputs, resolved, with execute-api URLs made local."""
        return dict(self._stack(stack_name).outputs)

    def stacks(self) -> list[str]:
        with self._state_lock:
            return sorted(self._stacks)

    def describe(self, stack_name: str = "workshop") -> dict[str, Any]:
        """The stack's resources (logical id, type, physical id, status) and outputs."""
        stack = self._stack(stack_name)
        return {
            "stack_name": stack.name,
            "stack_id": stack_id(region=self.settings.region,
                                 account_id=self.settings.account_id, stack_name=stack.name),
            "template": stack.template,
            "resources": [{"logical_id": r.logical_id, "type": r.type,
                           "physical_id": str(r.attributes.get("Ref", r.physical_id)),
                           "status": r.status} for r in stack.records.values()],
            "outputs": dict(stack.outputs),
        }

    def reset(self) -> None:
        """Forget every stack (the local cloud's services are reset separately)."""
        with self._state_lock:
            self._stacks.clear()
