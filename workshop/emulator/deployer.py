"""``workshop deploy``: a SAM / CloudFormation template applied to the local cloud.

Like chalice's deployer, a deploy is a plan and then its execution. ``plan`` (the
planner in deployment_plan.py) checks everything and changes nothing, so a broken
template leaves the running cloud and its data as they were; the Plan it returns is
plain data, which the CloudFormation API keeps as a change set and shows
(``Plan.describe``). ``execute`` (deployment_executor.py) then creates, updates and
replaces resources in dependency order, announcing each as a CloudFormation stack event,
rolls a failed run back, and deletes what the template no longer has, dependents first.
This module keeps the stacks: their resources, outputs and exports.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .deployment_executor import EventSink, Execution, ResourceEvent
from .deployment_plan import Change, Plan, Planner
from .ids import RANDOM_IDS, IdSource
from .intrinsics import stack_id
from .providers import ProviderContext, Record
from .providers.cloudformation import NestedStackFailed
from .settings import Settings
from .template import DeployError, ProvisionError, TemplateError, load_template

__all__ = [
    "Change",
    "DeployError",
    "DeployReport",
    "Deployer",
    "NestedRun",
    "NestedStack",
    "NestedStackFailed",
    "NestedStackObserver",
    "Plan",
    "ProvisionError",
    "ResourceEvent",
    "TemplateError",
]

_STACK_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,127}$")


def _warner(warnings: list[str]) -> Callable[[str], None]:
    """Adds a warning to ``warnings`` once."""
    def warn(message: str) -> None:
        if message not in warnings:
            warnings.append(message)
    return warn


# -- public values ----------------------------------------------------------------------


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
class _Stack:
    name: str
    records: dict[str, Record]
    outputs: dict[str, str]
    exports: dict[str, str]
    template: str
    version: int


# -- nested stacks ----------------------------------------------------------------------


@dataclass(frozen=True)
class NestedStack:
    """A child stack as its parent's resource sees it: Ref and ``Outputs.<Key>``."""

    stack_id: str
    outputs: dict[str, str]


class NestedRun(Protocol):
    """One operation on a child stack, as CloudFormation's API records it."""

    stack_id: str

    def on_event(self, event: ResourceEvent) -> None: ...

    def succeeded(self) -> None: ...

    def failed(self, error: DeployError) -> None: ...


class NestedStackObserver(Protocol):
    """What hears about child stacks (the CloudFormation API: statuses, events, ParentId)."""

    def starting(self, *, parent: str, child: str, creating: bool, template: str,
                 parameters: Mapping[str, str]) -> NestedRun: ...

    def deleting(self, *, child: str) -> NestedRun: ...


@dataclass
class _UnobservedRun:
    """A child stack operation nobody records (a deployer without CloudFormation's API)."""

    stack_id: str

    def on_event(self, event: ResourceEvent) -> None:
        return None

    def succeeded(self) -> None:
        return None

    def failed(self, error: DeployError) -> None:
        return None


# -- the deployer -----------------------------------------------------------------------


class Deployer:
    """Deploys templates as stacks into the local cloud; thread-safe, one deploy at a time.

    ``runtime`` is the Lambda runtime, ``apis`` the WebSocket APIs, ``scheduler`` the
    EventBridge scheduler, ``clients(service)`` a boto3 client for the local cloud and
    ``read_object(bucket, key)`` an object of the local S3 (a nested stack's TemplateURL).
    ``nested_observer``, when set, records child stacks (the CloudFormation API sets it).
    """

    def __init__(self, settings: Settings, *, runtime: Any, apis: Any, scheduler: Any,
                 clients: Callable[[str], Any], ids: IdSource = RANDOM_IDS,
                 read_object: Callable[[str, str], bytes] | None = None) -> None:
        self.settings = settings
        self.runtime = runtime
        self.apis = apis
        self.scheduler = scheduler
        self.clients = clients
        self.ids = ids
        self.read_object = read_object
        self.nested_observer: NestedStackObserver | None = None
        self._stacks: dict[str, _Stack] = {}
        self._deploy_lock = threading.Lock()  # one plan/execute at a time, as CloudFormation
        self._state_lock = threading.Lock()   # short: readers never wait for a deploy

    # -- deploying ----------------------------------------------------------------------

    def deploy(self, template_path: Path, *, stack_name: str = "workshop",
               parameters: Mapping[str, str] | None = None,
               on_event: EventSink | None = None,
               local_code: bool = True) -> DeployReport:
        """Plan, then execute; a template that fails to plan changes nothing."""
        started = time.perf_counter()
        with self._deploy_lock:
            plan = self._plan(Path(template_path), stack_name, parameters or {}, local_code)
            report = self._execute(plan, on_event)
        report.seconds = time.perf_counter() - started
        return report

    def plan(self, template_path: Path, *, stack_name: str = "workshop",
             parameters: Mapping[str, str] | None = None,
             local_code: bool = True) -> Plan:
        """Everything a deploy would do, checked, without doing any of it.

        ``local_code=False`` for a template given as text (CloudFormation's API): it has no
        folder, so a local CodeUri / ContentUri / DefinitionUri is refused (it must have
        been packaged to S3 first, as ``sam deploy`` does).
        """
        with self._deploy_lock:
            return self._plan(Path(template_path), stack_name, parameters or {}, local_code)

    def execute(self, plan: Plan, *, on_event: EventSink | None = None) -> DeployReport:
        """Apply a plan made by ``plan``; refused if the stack changed in between.

        ``on_event`` hears each resource's CloudFormation status as it changes. A failure
        rolls this run back and raises ProvisionError saying if the rollback completed.
        """
        started = time.perf_counter()
        with self._deploy_lock:
            report = self._execute(plan, on_event)
        report.seconds = time.perf_counter() - started
        return report

    def delete(self, stack_name: str = "workshop", *,
               on_event: EventSink | None = None) -> DeployReport:
        """Delete every resource of a stack, dependents first, and forget the stack.

        A resource that cannot be deleted stops it (DELETE_FAILED): the stack keeps what
        is left and ProvisionError is raised, so deleting again carries on."""
        with self._deploy_lock:
            return self._delete(stack_name, on_event)

    def _delete(self, stack_name: str, on_event: EventSink | None) -> DeployReport:
        stack = self._stack(stack_name)
        plan = Plan.deleting(stack_name, stack.records.values(), base_version=stack.version)
        report = self._execute(plan, on_event, deleting=True)
        with self._state_lock:
            self._stacks.pop(stack_name, None)
        return report

    def _plan(self, template_path: Path, stack_name: str, parameters: Mapping[str, Any],
              local_code: bool = True) -> Plan:
        if not _STACK_NAME.match(stack_name):
            raise DeployError(f"stack name {stack_name!r} must start with a letter and contain "
                              "only letters, digits and hyphens (at most 128)")
        template = load_template(template_path)
        with self._state_lock:
            stack = self._stacks.get(stack_name)
            others = [s for s in self._stacks.values() if s.name != stack_name]
        imports = {name: value for s in others for name, value in s.exports.items()}
        planner = Planner(
            template, stack_name=stack_name, parameters=parameters,
            records=stack.records if stack else {}, base_version=stack.version if stack else 0,
            imports=imports, local_code=local_code,
            context=lambda warn: self._provider_context(
                stack_name, template.path, template.directory, warn=warn,
                local_code=local_code))
        return planner.run()

    # -- executing ----------------------------------------------------------------------

    def _execute(self, plan: Plan, on_event: EventSink | None = None, *,
                 deleting: bool = False) -> DeployReport:
        with self._state_lock:
            stack = self._stacks.get(plan.stack_name)
        if (stack.version if stack else 0) != plan.base_version:
            raise DeployError(f"stack {plan.stack_name!r} changed since this plan was made; "
                              "plan again")
        report = DeployReport(plan.stack_name, warnings=list(plan.warnings))
        context = self._provider_context(
            plan.stack_name, plan.template_path, plan.template_dir,
            warn=_warner(report.warnings), local_code=plan.local_code)
        context.skipped.update(plan.skipped)
        run = Execution(plan, dict(stack.records) if stack else {}, report, context,
                        on_event if on_event is not None else (lambda event: None))
        try:
            if deleting:
                run.delete_all(list(plan.deletes), replaced=set(), clean_up=False)
            else:
                run.run()
            outputs, exports = run.outputs()
        except ProvisionError as error:
            self._save_failed(plan, run.records, stack, rolled_back=error.rolled_back)
            raise
        self._save(plan, run.records, outputs, exports)
        report.outputs = dict(outputs)
        return report

    def _provider_context(self, stack_name: str, template_path: Path | None,
                          template_dir: Path | None, *, warn: Callable[[str], None],
                          local_code: bool) -> ProviderContext:
        """What providers may touch, for one stack (a stack being deleted has no template:
        its name stands in for the path in messages)."""
        path = template_path or Path(stack_name)
        return ProviderContext(
            settings=self.settings, stack_name=stack_name, template_path=path,
            template_dir=template_dir or path.parent, clients=self.clients,
            runtime=self.runtime, apis=self.apis, scheduler=self.scheduler, ids=self.ids,
            warn=warn, local_code=local_code, stacks=self, read_object=self.read_object)

    def _save_failed(self, plan: Plan, records: dict[str, Record], stack: _Stack | None, *,
                     rolled_back: bool) -> None:
        """After a failure: a complete rollback leaves the stack as it was (a new stack is
        not kept: nothing of it exists); otherwise the stack holds what is left."""
        if rolled_back:
            if stack is not None:
                with self._state_lock:
                    self._stacks[plan.stack_name] = replace(stack, version=stack.version + 1)
            return
        self._save(plan, records, stack.outputs if stack else {},
                   stack.exports if stack else {})

    def _save(self, plan: Plan, records: dict[str, Record], outputs: dict[str, str],
              exports: dict[str, str]) -> None:
        with self._state_lock:
            previous = self._stacks.get(plan.stack_name)
            self._stacks[plan.stack_name] = _Stack(
                plan.stack_name, records, outputs, exports,
                str(plan.template_path or (previous.template if previous else "")),
                (previous.version if previous else 0) + 1)

    # -- nested stacks ------------------------------------------------------------------
    # Called by the AWS::CloudFormation::Stack provider inside its parent's execution: this
    # thread already holds the deploy lock (not re-entrant), so the child is planned and
    # executed here directly, and the parent's rollback undoes it through the provider.

    def check_nested(self, *, name: str, template: str, parameters: Mapping[str, str]
                     ) -> None:
        """Plan the child stack ``name`` from template text, changing nothing: the
        parent's plan fails on a broken child template, before anything is deployed."""
        self._plan(self._nested_template(template), name, parameters, local_code=False)

    def deploy_nested(self, *, parent: str, name: str, template: str,
                      parameters: Mapping[str, str]) -> NestedStack:
        """Create or update the child stack ``name`` of ``parent`` from template text; a
        failure rolls the child back and raises NestedStackFailed."""
        with self._state_lock:
            current = self._stacks.get(name)
        creating = current is None
        plan = self._plan(self._nested_template(template), name, parameters, local_code=False)
        if current is not None and not plan.deletes and all(
                step.action == "unchanged" for step in plan.steps):
            # Nothing to do (a parent's rollback puts back what the child already has).
            return NestedStack(self._nested_id(name), dict(current.outputs))
        run = self._observer().starting(parent=parent, child=name, creating=creating,
                                        template=template, parameters=parameters)
        try:
            report = self._execute(plan, run.on_event)
        except DeployError as error:
            run.failed(error)
            verb = "create" if creating else "update"
            raise NestedStackFailed(_embedded(run.stack_id, verb, error)) from None
        run.succeeded()
        return NestedStack(run.stack_id, dict(report.outputs))

    def delete_nested(self, name: str) -> None:
        """Delete the child stack ``name``; one already gone (deleted directly, or rolled
        back) is deleted, as CloudFormation treats it."""
        run = self._observer().deleting(child=name)
        if name not in self.stacks():
            run.succeeded()
            return
        try:
            self._delete(name, run.on_event)
        except DeployError as error:
            run.failed(error)
            raise NestedStackFailed(_embedded(run.stack_id, "delete", error)) from None
        run.succeeded()

    def _observer(self) -> NestedStackObserver:
        return self.nested_observer or _Unobserved(self)

    def _nested_id(self, name: str) -> str:
        return stack_id(region=self.settings.region, account_id=self.settings.account_id,
                        stack_name=name)

    def _nested_template(self, template: str) -> Path:
        """A child template's text as a file (the planner reads files), by content."""
        digest = hashlib.sha256(template.encode()).hexdigest()[:16]
        suffix = ".json" if template.lstrip().startswith("{") else ".yaml"
        folder = self.settings.home / "nested-templates" / str(self.settings.port)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}{suffix}"
        if not path.exists():
            path.write_text(template, encoding="utf-8")
        return path

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


@dataclass
class _Unobserved:
    """Child stacks of a deployer that has no CloudFormation API: ids, nothing recorded."""

    deployer: Deployer

    def starting(self, *, parent: str, child: str, creating: bool, template: str,
                 parameters: Mapping[str, str]) -> NestedRun:
        return _UnobservedRun(self.deployer._nested_id(child))

    def deleting(self, *, child: str) -> NestedRun:
        return _UnobservedRun(self.deployer._nested_id(child))


def _embedded(child_id: str, verb: str, error: DeployError) -> str:
    """CloudFormation's reason on the parent's AWS::CloudFormation::Stack resource."""
    failed = getattr(error, "logical_id", None)
    detail = (f"The following resource(s) failed to {verb}: [{failed}]." if failed
              else " ".join(str(error).split()))
    return f"Embedded stack {child_id} was not successfully {verb}d: {detail}"
