"""AWS::Events::Rule with a ScheduleExpression, run by the local scheduler.

Only schedules are emulated (SAM ``Events`` of type ``Schedule`` become such rules);
rules with an ``EventPattern`` are skipped with a warning, and so are targets other than
Lambda functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..scheduler import ScheduleError, parse_schedule
from .awslambda import function_name
from .base import Provider, Record, Resource, Skip

__all__ = ["RuleProvider"]


class RuleProvider(Provider):
    """Scheduled rules with Lambda targets; ``State: DISABLED`` keeps the rule silent."""

    types = ("AWS::Events::Rule",)
    name_property = "Name"
    attribute_names = frozenset({"Arn"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        expression = properties.get("ScheduleExpression")
        if not expression:
            raise Skip("only scheduled rules are emulated, not rules with an EventPattern")
        if properties.get("EventBusName") not in (None, "default"):
            raise Skip("only the default event bus is emulated")
        try:
            parse_schedule(str(expression))
        except ScheduleError as error:
            raise self.fail(logical_id, f"ScheduleExpression {expression!r}: {error}") from None
        targets = [self._target(logical_id, target) for target in properties.get("Targets", [])]
        return {**properties, "LambdaTargets": [t for t in targets if t is not None]}

    def _target(self, logical_id: str, target: Mapping[str, Any]) -> list[Any] | None:
        arn = str(target.get("Arn", ""))
        if ":lambda:" not in arn or ":function:" not in arn:
            self.context.warn(f"{logical_id}: target {target.get('Id')} ({arn}) is not a "
                              "Lambda function; only Lambda targets are emulated")
            return None
        if "InputPath" in target or "InputTransformer" in target:
            self.context.warn(f"{logical_id}: target {target.get('Id')}: InputPath and "
                              "InputTransformer are not emulated; the whole event is sent")
        payload = target.get("Input")
        if payload is not None:
            try:
                json.loads(payload)
            except (TypeError, ValueError):
                raise self.fail(logical_id, f"target {target.get('Id')}: Input must be a "
                                f"JSON text, not {payload!r}") from None
        return [function_name(arn), payload]

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"Ref": physical_id, "Arn": self.arn("events", f"rule/{physical_id}")}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        self.call(resource.logical_id, lambda: self.context.scheduler.put_rule(
            resource.physical_id, schedule_expression=str(props["ScheduleExpression"]),
            targets=[(name, payload) for name, payload in props["LambdaTargets"]],
            enabled=str(props.get("State", "ENABLED")).upper() != "DISABLED"))
        return self.attributes(resource.logical_id, resource.physical_id, props)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        return self.create(resource)  # put_rule replaces the rule's schedule and targets

    def delete(self, record: Record) -> None:
        self.context.scheduler.delete_rule(record.physical_id)
