"""Runs a deploy plan (deployment_plan.py): creates, updates, replaces and deletes, one
resource at a time, then resolves the Outputs with the values the resources really have.

Every change is announced as a :class:`ResourceEvent` with CloudFormation's statuses, so the
CloudFormation API can show ``DescribeStackEvents``. A failed create or update is rolled
back as CloudFormation does: what this run created is deleted, what it updated is set back
to its old properties, and the old copy of a replaced resource is kept; the
``ProvisionError`` raised then says whether the rollback completed (``rolled_back``).
Deleting what the template no longer has happens last (CloudFormation's clean-up phase):
a failure there is a warning, not a rollback, as on AWS.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .deployment_plan import NOT_EMULATED, Plan, Step, delete_order, fingerprint
from .execute_api_urls import local_url
from .intrinsics import Resolver, pseudo_parameters
from .providers import PROVIDERS, Provider, ProviderContext, Record, Resource
from .s3_website import website_url
from .template import DeployError, ProvisionError

if TYPE_CHECKING:
    from .deployer import DeployReport

__all__ = ["EventSink", "Execution", "ResourceEvent"]


@dataclass(frozen=True)
class ResourceEvent:
    """One resource's status change, as a CloudFormation stack event shows it."""

    logical_id: str
    resource_type: str
    physical_id: str
    status: str        # CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED, UPDATE_…, DELETE_…
    reason: str = ""


EventSink = Callable[[ResourceEvent], None]

_REPLACING = ("Requested update requires the creation of a new physical resource; hence "
              "creating one.")


def _output_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(_output_text, value))
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ref(record: Record) -> str:
    return str(record.attributes.get("Ref", record.physical_id))


def _reason(error: BaseException) -> str:
    """The provider's refusal without the "file: resource:" prefix the message carries."""
    text = str(error.__cause__ or error)
    return text.splitlines()[0] if text else type(error).__name__


@dataclass
class _Applied:
    """A change made by this run, kept so that a failure can undo it."""

    action: str                 # create, update, replace
    old: Record | None
    new: Record
    new_exists: bool = True     # False: its creation failed (and was cleaned up)
    old_deleted: bool = False   # a replacement under the same name deleted the old first


@dataclass
class Execution:
    """One run of a plan against the stack's ``records``, which it updates as it goes."""

    plan: Plan
    records: dict[str, Record]
    report: DeployReport
    context: ProviderContext
    emit: EventSink
    providers: dict[str, Provider] = field(default_factory=dict)
    applied: list[_Applied] = field(default_factory=list)
    cleanup: list[Record] = field(default_factory=list)
    # Ref / GetAtt values: the plan's, then each resource's real ones once made.
    values: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values.update(self.plan.values)
        template, settings = self.plan.template, self.context.settings
        parameters = {**self.plan.parameters, **pseudo_parameters(
            region=settings.region, account_id=settings.account_id,
            stack_name=self.plan.stack_name)}
        self.resolver = Resolver(
            parameters=parameters, resources=frozenset(template.get("Resources", {})),
            ref=lambda name: self.values[name]["Ref"], get_att=self._get_att,
            region=self.context.settings.region, mappings=template.get("Mappings"),
            conditions=template.get("Conditions"), imports=self.plan.imports)

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        # The planner checked every GetAtt; what is missing belongs to a skipped resource.
        return self.values[logical_id].get(attribute, f"<{logical_id}.{attribute}: not "
                                                      "emulated>")

    def provider(self, kind: str) -> Provider:
        if kind not in self.providers:
            self.providers[kind] = PROVIDERS[kind](self.context)
        return self.providers[kind]

    def where(self, logical_id: str) -> str:
        return f"{self.plan.template_path or self.plan.stack_name}: {logical_id}"

    def run(self) -> None:
        """Apply each step, then delete what is gone; a failed step undoes this run."""
        for step in self.plan.steps:
            try:
                self.apply(step)
            except DeployError as error:
                rolled_back = self.roll_back()
                raise ProvisionError(str(error), rolled_back=rolled_back,
                                     logical_id=step.logical_id) from error
        self.delete_all([*self.plan.deletes, *self.cleanup],
                        replaced={r.logical_id for r in self.cleanup}, clean_up=True)

    def apply(self, step: Step) -> None:
        """Carry out one step (unchanged and skipped ones call nothing)."""
        report = self.report
        if step.action == "unchanged":
            report.unchanged.append(step.logical_id)
            return
        if step.action == "skip":
            self._record_skipped(step)
            return
        prepared = self._prepared(step)
        digest = fingerprint(step.type, prepared)
        old = step.old
        if step.action == "update" and not step.forced and old and old.fingerprint == digest:
            report.unchanged.append(step.logical_id)
            self.values[step.logical_id] = old.attributes
            return
        resource = Resource(step.logical_id, step.type, prepared, step.physical_id)
        self.values[step.logical_id] = self.provision(step, resource, digest).attributes
        (report.created if step.action == "create" else report.updated).append(step.logical_id)

    def _prepared(self, step: Step) -> dict[str, Any]:
        """The step's prepared properties; prepared again if a value they use turned out
        other than planned (a new queue's URL…)."""
        planned = self.plan.values
        if all(self.values.get(name) == planned.get(name) for name in step.references):
            return copy.deepcopy(dict(step.prepared))
        spec = self.plan.template["Resources"][step.logical_id]
        resolved = self.resolver.resolve(spec.get("Properties") or {}, where=step.logical_id)
        if resolved == step.resolved:
            return copy.deepcopy(dict(step.prepared))
        return self.provider(step.type).prepare(step.logical_id, copy.deepcopy(resolved))

    def _record_skipped(self, step: Step) -> None:
        """A type the local cloud does not emulate is recorded, as if made."""
        old = self.records.get(step.logical_id)
        self.records[step.logical_id] = Record(
            step.logical_id, step.type, step.physical_id, {},
            dict(self.values[step.logical_id]), "", list(step.depends_on), step.generation,
            NOT_EMULATED, step.deletion_policy)
        if old is None or old.status != NOT_EMULATED:
            reason = "not emulated by the local cloud: recorded only"
            self.emit(ResourceEvent(step.logical_id, step.type, "", "CREATE_IN_PROGRESS"))
            self.emit(ResourceEvent(step.logical_id, step.type, step.physical_id,
                                    "CREATE_COMPLETE", reason))

    def outputs(self) -> tuple[dict[str, str], dict[str, str]]:
        """The stack's Outputs and Exports with the values the resources really have."""
        outputs: dict[str, str] = {}
        exports: dict[str, str] = {}
        endpoint = self.context.settings.endpoint_url
        for name, spec in (self.plan.template.get("Outputs") or {}).items():
            where = f"Outputs.{name}"
            if "Condition" in spec and not self.resolver.condition(spec["Condition"],
                                                                   where=where):
                continue
            text = _output_text(self.resolver.resolve(spec["Value"], where=where))
            export = (spec.get("Export") or {}).get("Name")
            if export is not None:
                exports[_output_text(self.resolver.resolve(export, where=where))] = text
            # The wss:// / https:// execute-api address and an S3 website endpoint become
            # the local cloud's own.
            outputs[name] = website_url(local_url(text, endpoint), endpoint)
        return outputs, exports

    # -- one resource of the new template ------------------------------------------------

    def provision(self, step: Step, resource: Resource, digest: str) -> Record:
        """Create, update or replace one resource, with its events; its new record."""
        verb = "CREATE" if step.action == "create" else "UPDATE"
        started = "" if step.old is None or step.action == "create" else _ref(step.old)
        self.emit(ResourceEvent(step.logical_id, step.type, started, f"{verb}_IN_PROGRESS",
                                _REPLACING if step.action == "replace" else ""))
        try:
            attributes = self._provision(step, resource)
        except DeployError as error:
            self.emit(ResourceEvent(step.logical_id, step.type, started, f"{verb}_FAILED",
                                    _reason(error)))
            self._failed(step, resource)
            raise
        record = Record(step.logical_id, step.type, step.physical_id, resource.properties,
                        attributes, digest, list(step.depends_on), step.generation,
                        f"{verb}_COMPLETE", step.deletion_policy)
        # A replacement that gave back the very resource it replaced (a layer version
        # numbered by its content, published again) has nothing of its own to undo.
        reused = step.action == "replace" and step.old is not None and (
            _ref(step.old) == _ref(record)) and not self._in_place(step)
        self.applied.append(_Applied(step.action, step.old, record, new_exists=not reused,
                                     old_deleted=self._in_place(step)))
        self.records[step.logical_id] = record
        self.emit(ResourceEvent(step.logical_id, step.type, _ref(record), f"{verb}_COMPLETE"))
        return record

    @staticmethod
    def _in_place(step: Step) -> bool:
        return (step.action == "replace" and step.old is not None
                and step.old.physical_id == step.physical_id)

    def _provision(self, step: Step, resource: Resource) -> dict[str, Any]:
        provider, old = self.provider(step.type), step.old
        try:
            if step.action == "create":
                return provider.create(resource)
            assert old is not None
            if step.action == "update":
                return provider.update(resource, old)
            if self._in_place(step):
                # Same name: the old one must go first (AWS would refuse; locally we allow it).
                provider.delete(old)
                self.records.pop(step.logical_id, None)
                return provider.create(resource)
            created = provider.create(resource)
            if str(created.get("Ref", step.physical_id)) != _ref(old):
                self.cleanup.append(old)  # deleted after everything moved to the new one
            # else the "new" one is the old one (a layer version numbered by its content,
            # published again): deleting the old copy would delete it.
            return created
        except DeployError:
            raise
        except Exception as error:  # a provider bug or a refusal: name the resource
            raise ProvisionError(f"{self.where(step.logical_id)}: could not {step.action} "
                                 f"{step.type}: {error}") from error

    def _failed(self, step: Step, resource: Resource) -> None:
        """Note what a rollback must undo for the step that failed: an update is set back;
        a create may have left something half made (a bucket without its policy), which
        goes now; the old copy of a resource replaced under its own name is made again."""
        record = Record(step.logical_id, step.type, step.physical_id, resource.properties,
                        {"Ref": step.physical_id}, "", list(step.depends_on), step.generation)
        if step.action == "update" and step.old is not None:
            self.applied.append(_Applied("update", step.old, record))
            return
        try:
            self.provider(step.type).delete(record)
        except Exception:  # noqa: BLE001 - most often nothing was made
            pass
        if self._in_place(step):
            self.applied.append(_Applied("replace", step.old, record, new_exists=False,
                                         old_deleted=True))

    # -- rollback -----------------------------------------------------------------------

    def roll_back(self) -> bool:
        """Undo this run's changes, newest first; False if any undo failed."""
        complete = True
        for change in reversed(self.applied):
            try:
                self._undo(change)
            except Exception as error:  # noqa: BLE001 - report it and undo the rest
                complete = False
                self.report.warnings.append(f"{change.new.logical_id}: rollback failed: "
                                            f"{_reason(error)}")
        self.applied.clear()
        self.cleanup.clear()  # the old copies of replaced resources stay
        return complete

    def _undo(self, change: _Applied) -> None:
        new, old = change.new, change.old
        provider = self.provider(new.type)
        if change.action == "update" and old is not None:
            self.emit(ResourceEvent(new.logical_id, new.type, _ref(new), "UPDATE_IN_PROGRESS"))
            try:
                provider.update(Resource(old.logical_id, old.type, old.properties,
                                         old.physical_id), new)
            except Exception as error:
                self.emit(ResourceEvent(new.logical_id, new.type, _ref(new), "UPDATE_FAILED",
                                        _reason(error)))
                raise
            self.records[old.logical_id] = old
            self.emit(ResourceEvent(old.logical_id, old.type, _ref(old), "UPDATE_COMPLETE"))
            return
        if change.new_exists:
            self._delete(provider, new)
            self.records.pop(new.logical_id, None)
        if old is not None and change.old_deleted:
            self.emit(ResourceEvent(old.logical_id, old.type, "", "CREATE_IN_PROGRESS"))
            provider.create(Resource(old.logical_id, old.type, old.properties, old.physical_id))
            self.emit(ResourceEvent(old.logical_id, old.type, _ref(old), "CREATE_COMPLETE"))
        if old is not None:
            self.records[old.logical_id] = old

    # -- deleting -----------------------------------------------------------------------

    def delete_all(self, doomed: list[Record], *, replaced: set[str], clean_up: bool) -> None:
        """Delete records, dependents first. In an update's clean-up a failure is a
        warning and the resource leaves the stack, as on AWS; deleting a stack stops at
        the first failure (the stack keeps what is left, to delete again)."""
        for record in delete_order(doomed):
            try:
                self.delete_one(record)
            except ProvisionError as error:
                if not clean_up:
                    raise
                self.report.warnings.append(f"{record.logical_id}: could not be deleted, so "
                                            f"it was left in place: {_reason(error)}")
            if self.records.get(record.logical_id) is record:
                del self.records[record.logical_id]
            if record.logical_id not in replaced:
                self.report.deleted.append(record.logical_id)

    def delete_one(self, record: Record) -> None:
        if record.status == NOT_EMULATED:
            self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                    "DELETE_IN_PROGRESS"))
            self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                    "DELETE_COMPLETE"))
            return
        if record.deletion_policy == "Retain":
            self.report.warnings.append(f"{record.logical_id}: DeletionPolicy Retain, so "
                                        f"{record.physical_id} was kept")
            self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                    "DELETE_SKIPPED"))
            return
        self._delete(self.provider(record.type), record)

    def _delete(self, provider: Provider, record: Record) -> None:
        self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                "DELETE_IN_PROGRESS"))
        try:
            provider.delete(record)
        except Exception as error:
            self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                    "DELETE_FAILED", _reason(error)))
            if isinstance(error, DeployError):
                raise
            raise ProvisionError(f"{self.where(record.logical_id)}: could not delete "
                                 f"{record.type}: {error}") from error
        self.emit(ResourceEvent(record.logical_id, record.type, _ref(record),
                                "DELETE_COMPLETE"))
