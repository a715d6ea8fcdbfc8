"""Nested stacks (AWS::CloudFormation::Stack): a child stack deployed from a TemplateURL.

As CloudFormation does, the child gets its own stack, named ``<parent>-<LogicalId>-<13
uppercase letters and digits>``; ``Ref`` is the child's stack id and ``Fn::GetAtt
X.Outputs.<Key>`` its outputs (pending while planning: known once the child exists, so
what uses them is resolved again then). The child's template text is one of the prepared
properties, so a new template (or new Parameters) updates the child, and a rollback of
the parent deploys the old text again without reading S3. The child is deployed by the
deployer (``Deployer.deploy_nested``) inside the parent's execution.

The ``sam sync`` dependency layer is such a stack: SAM CLI puts the layers in
``AwsSamAutoDependencyLayerNestedStack`` and gives each function
``Layers: [!GetAtt AwsSamAutoDependencyLayerNestedStack.Outputs.<Fn>DepLayer]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..cloudformation_stacks import CloudFormationError
from ..cloudformation_templates import s3_location, template_body
from ..template import ProvisionError
from .base import NameStyle, Provider, Record, Resource, pending

__all__ = ["NestedStackFailed", "StackProvider"]

_OUTPUTS = "Outputs."
_PENDING = "{pending:"


def _parameter_text(value: Any) -> str:
    """A child stack parameter as CloudFormation passes it: text, lists comma-joined."""
    if isinstance(value, list):
        return ",".join(map(_parameter_text, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


class NestedStackFailed(ProvisionError):
    """A child stack could not be created, updated or deleted; the message is
    CloudFormation's "Embedded stack … was not successfully …" (Deployer.deploy_nested)."""


class StackProvider(Provider):
    """A nested stack: the child template deployed as its own stack."""

    types = ("AWS::CloudFormation::Stack",)
    name_style: ClassVar[NameStyle] = NameStyle(max_length=128, suffix_length=13)
    derived_from = {"TemplateBody": "TemplateURL"}

    @classmethod
    def has_attribute(cls, name: str) -> bool:
        return name.startswith(_OUTPUTS) and len(name) > len(_OUTPUTS)

    # -- planning -----------------------------------------------------------------------

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        url = properties.get("TemplateURL")
        if not isinstance(url, str) or not url:
            raise self.fail(logical_id, "a nested stack needs a TemplateURL (an S3 URL of "
                            "the child template)")
        parameters = properties.get("Parameters") or {}
        if not isinstance(parameters, dict):
            raise self.fail(logical_id, "Parameters must be a mapping of names to values")
        text = self._template_text(logical_id, url)
        values = {str(k): _parameter_text(v) for k, v in parameters.items()}
        if not any(_PENDING in value for value in values.values()):
            # The child is planned now, so a broken child template fails the parent's
            # plan (its change set), before anything is deployed.
            # A nested stack is never replaced (generation 0): its name is known now.
            name = self.physical_id(logical_id, properties, generation=0)
            self.context.stacks.check_nested(name=name, template=text, parameters=values)
        return {**properties, "Parameters": values, "TemplateBody": text}

    def _template_text(self, logical_id: str, url: str) -> str:
        reader = self.context.read_object
        if reader is None or self.context.stacks is None:
            raise self.fail(logical_id, "nested stacks need the local cloud's S3 (deploy "
                            "through the local cloud)")
        try:
            bucket, key = s3_location(url)
            text = reader(bucket, key).decode("utf-8")
            body = template_body(text)
        except CloudFormationError as error:
            raise self.fail(logical_id, f"TemplateURL {url}: {error}") from None
        except UnicodeDecodeError:
            raise self.fail(logical_id, f"TemplateURL {url}: the template is not UTF-8 "
                            "text") from None
        if not isinstance(body.get("Resources"), dict) or not body["Resources"]:
            raise self.fail(logical_id, f"TemplateURL {url}: Template format error: At "
                            "least one Resources member must be defined.")
        return text

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        """Before the child exists: its id and every output it declares, pending."""
        outputs = template_body(str(properties["TemplateBody"])).get("Outputs") or {}
        values: dict[str, Any] = {"Ref": pending(logical_id, "Ref")}
        values.update({f"{_OUTPUTS}{key}": pending(logical_id, f"{_OUTPUTS}{key}")
                       for key in outputs})
        return values

    # -- applying -----------------------------------------------------------------------

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        stacks = self.context.stacks
        child = self._embedded(resource.logical_id, lambda: stacks.deploy_nested(
            parent=self.context.stack_name, name=resource.physical_id,
            template=str(props["TemplateBody"]), parameters=props.get("Parameters") or {}))
        return {"Ref": child.stack_id,
                **{f"{_OUTPUTS}{key}": value for key, value in child.outputs.items()}}

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)  # the same child stack, updated to the new template

    def delete(self, record: Record) -> None:
        stacks = self.context.stacks
        self._embedded(record.logical_id, lambda: stacks.delete_nested(record.physical_id))

    def _embedded(self, logical_id: str, action: Callable[[], Any]) -> Any:
        """Run a child stack operation; its failure names this resource, and the stack
        event's reason is CloudFormation's "Embedded stack … was not successfully …"."""
        try:
            return action()
        except NestedStackFailed as error:
            raise ProvisionError(f"{self.context.template_path}: {logical_id}: "
                                 f"{error}") from error
