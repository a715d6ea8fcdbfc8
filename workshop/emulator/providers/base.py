"""What every resource provider shares: the context it works in, naming, and the contract.

A provider turns one family of CloudFormation types into calls on the local cloud. The
deployer plans with ``prepare`` / ``physical_id`` / ``attributes`` (no side effects) and
applies with ``create`` / ``update`` / ``delete``.
"""

from __future__ import annotations

import abc
import hashlib
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..ids import IdSource
from ..settings import Settings
from ..template import ProvisionError, TemplateError

__all__ = [
    "attribute_map",
    "changed_attributes",
    "NameStyle",
    "Provider",
    "ProviderContext",
    "Record",
    "RecordOnly",
    "Resource",
    "Skip",
    "as_bool",
    "client_error",
    "generated_name",
    "pending",
    "tag_list",
]

_PENDING_PREFIX = "{pending:"


def pending(logical_id: str, attribute: str) -> str:
    """A value only known once the resource exists (a DynamoDB stream label, a role id)."""
    return f"{_PENDING_PREFIX}{logical_id}.{attribute}}}"


def attribute_text(value: Any) -> str:
    """A property value as SNS and SQS attributes carry it: text, JSON for documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def attribute_map(properties: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The named properties that are set, as service attributes."""
    return {name: attribute_text(properties[name]) for name in names if name in properties}


def changed_attributes(before: Mapping[str, str], after: Mapping[str, str], *,
                       defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """What to set to go from ``before`` to ``after``: changed values, and removed ones
    that have a default to go back to."""
    changed = {name: value for name, value in after.items() if before.get(name) != value}
    for name in set(before) - set(after):
        if defaults is not None and name in defaults:
            changed[name] = defaults[name]
    return dict(sorted(changed.items()))


class Skip(Exception):
    """This resource (or this use of a type) is not emulated: warn and carry on."""


@dataclass
class ProviderContext:
    """Everything a provider may touch, handed over by the deployer."""

    settings: Settings
    stack_name: str
    template_path: Path
    template_dir: Path
    clients: Callable[[str], Any]
    runtime: Any
    apis: Any
    scheduler: Any
    ids: IdSource
    warn: Callable[[str], None]
    # Physical ids of resources skipped in this plan (an HTTP API's routes follow it).
    skipped: set[str] = field(default_factory=set)
    # False for a template that came as text: it has no folder for local code to be in.
    local_code: bool = True
    # The deployer, for nested stacks: their provider deploys a child stack inside the
    # parent's execution (deployer.Deployer.deploy_nested); None where there is none.
    stacks: Any = None
    # Reads an object of the local S3 (bucket, key) -> bytes: a nested stack's TemplateURL.
    read_object: Callable[[str, str], bytes] | None = None


@dataclass
class Resource:
    """A resource about to be created or updated: resolved and prepared properties."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_id: str


@dataclass
class Record:
    """A resource as it exists in the local cloud, kept in the stack's state."""

    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any]
    attributes: dict[str, Any]
    fingerprint: str
    depends_on: list[str]
    generation: int = 0
    status: str = "CREATE_COMPLETE"
    deletion_policy: str = "Delete"


@dataclass(frozen=True)
class NameStyle:
    """How CloudFormation names a resource that was given no name."""

    max_length: int = 64
    lowercase: bool = False
    with_stack: bool = True       # "{stack}-{Logical}-{SUFFIX}" or "{Logical}-{suffix}"
    suffix_alphabet: str = string.ascii_uppercase + string.digits
    suffix_length: int = 12       # 13 for a nested stack's name


def generated_name(stack_name: str, logical_id: str, *, generation: int = 0,
                   style: NameStyle = NameStyle()) -> str:
    """``{stack}-{Logical}-{SUFFIX}``, shortened to fit, the same every time it is asked.

    The suffix looks random, as on AWS, but is derived from the stack, the logical id and
    how often the resource was replaced: a learner's function keeps its name across
    restarts of the local cloud, and a replacement gets a new one, as on AWS.
    """
    digest = hashlib.sha256(f"{stack_name}/{logical_id}/{generation}".encode()).digest()
    alphabet = style.suffix_alphabet
    suffix = "".join(alphabet[byte % len(alphabet)] for byte in digest[:style.suffix_length])
    parts = [stack_name, logical_id] if style.with_stack else [logical_id]
    budget = style.max_length - len(suffix) - len(parts)
    if sum(map(len, parts)) > budget:
        # Shorten the longer part first, as CloudFormation does.
        if len(parts) == 2:
            stack_share = min(len(stack_name), max(budget // 2, budget - len(logical_id)))
            parts = [stack_name[:stack_share], logical_id[:budget - stack_share]]
        else:
            parts = [logical_id[:budget]]
    name = "-".join([*parts, suffix])
    return name.lower() if style.lowercase else name


def as_bool(value: Any, *, default: bool = False) -> bool:
    """CloudFormation booleans arrive as True or as "true" (from a parameter)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def tag_list(tags: Any) -> list[dict[str, str]]:
    """Tags as [{"Key", "Value"}], from a CloudFormation list or a SAM-style mapping."""
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in tags or []]


def client_error(error: Exception) -> str:
    """The AWS error code and message of a botocore ClientError, or the exception text."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        detail = response["Error"]
        return f"{detail.get('Code', '')}: {detail.get('Message', '')}".strip(": ")
    return f"{type(error).__name__}: {error}"


class Provider(abc.ABC):
    """Base of every provider: naming, replacement rules, and default behaviour.

    Subclasses set ``types`` and what they need of the class variables, implement
    ``create`` and ``delete``, and override ``attributes`` for what Ref and Fn::GetAtt
    return; ``update`` defaults to delete + create (for resources that hold no data).
    """

    types: ClassVar[tuple[str, ...]] = ()
    # The property that names the resource; absent means CloudFormation makes up a name.
    name_property: ClassVar[str | None] = None
    name_style: ClassVar[NameStyle] = NameStyle()
    # Properties whose change replaces the resource (the name property always does).
    replace_on: ClassVar[frozenset[str]] = frozenset()
    # Fn::GetAtt names; "Ref" is always available.
    attribute_names: ClassVar[frozenset[str]] = frozenset()
    # Prepared properties that stand for a template property (a code hash for Code…), so
    # a change set names the property the learner wrote.
    derived_from: ClassVar[Mapping[str, str]] = {}

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def settings(self) -> Settings:
        return self.context.settings

    def arn(self, service: str, resource: str) -> str:
        """An ARN of a regional service in the local cloud's region and account."""
        return self.settings.arn(service, resource)

    # -- planning (no side effects) ---------------------------------------------------

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise resolved properties; raise TemplateError or Skip."""
        return properties

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        """The name given in the template, or the one CloudFormation would make up."""
        if self.name_property and properties.get(self.name_property):
            return str(properties[self.name_property])
        return generated_name(self.context.stack_name, logical_id, generation=generation,
                              style=self.name_style)

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        """Ref and Fn::GetAtt values, as far as they can be known before creation."""
        return {"Ref": physical_id}

    @classmethod
    def has_attribute(cls, name: str) -> bool:
        """Whether Fn::GetAtt may name ``name`` (a nested stack has ``Outputs.<Key>``)."""
        return name in cls.attribute_names

    def replacement_warning(self, logical_id: str, physical_id: str) -> str | None:
        """What a learner loses when this resource is replaced, if anything."""
        return None

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        return any(old.get(name) != new.get(name) and self.requires_recreation(name) == "Always"
                   for name in set(old) | set(new))

    def requires_recreation(self, name: str) -> str:
        """CloudFormation's word for what changing property ``name`` does: "Always"
        (the resource is replaced) or "Never" (it is updated in place)."""
        return "Always" if name in self.replace_on or name == self.name_property else "Never"

    def property_changes(self, old: Mapping[str, Any],
                         new: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The template properties that differ, each with ``requires_recreation``."""
        names = {self.derived_from.get(name, name) for name in set(old) | set(new)
                 if old.get(name) != new.get(name)}
        return [(name, self.requires_recreation(name)) for name in sorted(names)]

    # -- applying -----------------------------------------------------------------------

    @abc.abstractmethod
    def create(self, resource: Resource) -> dict[str, Any]:
        """Make the resource; return its attributes (with values known only now)."""

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        """Change the resource in place; by default, delete it and make it again."""
        self.delete(old)
        return self.create(resource)

    @abc.abstractmethod
    def delete(self, record: Record) -> None:
        """Remove the resource; one that is already gone is not an error."""

    # -- helpers ------------------------------------------------------------------------

    def fail(self, logical_id: str, problem: str) -> TemplateError:
        return TemplateError(problem, file=self.context.template_path, resource=logical_id)

    def tolerate(self, service: str, missing: str, operation: str, /, **kwargs: Any) -> None:
        """Call a client ``operation``; the error ``missing`` means there is nothing to do
        (deleting what is already gone, creating what already exists)."""
        client = self.context.clients(service)
        try:
            getattr(client, operation)(**kwargs)
        except getattr(client.exceptions, missing):
            pass

    def call(self, logical_id: str, action: Callable[..., Any], /, **kwargs: Any) -> Any:
        """A boto3 call whose failure becomes a ProvisionError naming the resource."""
        try:
            return action(**kwargs)
        except Exception as error:  # botocore raises many types; all mean "refused"
            raise ProvisionError(f"{self.context.template_path}: {logical_id}: "
                                 f"{client_error(error)}") from error


class RecordOnly(Provider):
    """Types that are accepted and recorded but change nothing locally (policies…)."""

    def create(self, resource: Resource) -> dict[str, Any]:
        return self.attributes(resource.logical_id, resource.physical_id, resource.properties)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)

    def delete(self, record: Record) -> None:
        return None
