"""AWS::Logs::LogGroup in moto's CloudWatch Logs (where Lambda output goes too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import NameStyle, Provider, Record, Resource

__all__ = ["LogGroupProvider"]


class LogGroupProvider(Provider):
    """Log groups and their retention. A group the Lambda runtime already created (it
    writes ``/aws/lambda/<name>`` on first output) is adopted, not an error."""

    types = ("AWS::Logs::LogGroup",)
    name_property = "LogGroupName"
    name_style = NameStyle(max_length=512)
    attribute_names = frozenset({"Arn"})

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        return {"Ref": physical_id, "Arn": self.arn("logs", f"log-group:{physical_id}:*")}

    def create(self, resource: Resource) -> dict[str, Any]:
        self.tolerate("logs", "ResourceAlreadyExistsException", "create_log_group",
                      logGroupName=resource.physical_id)
        self._retention(resource, None)
        return self.attributes(resource.logical_id, resource.physical_id, resource.properties)

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        self._retention(resource, old.properties.get("RetentionInDays"))
        return dict(old.attributes)

    def _retention(self, resource: Resource, before: Any) -> None:
        days, client = resource.properties.get("RetentionInDays"), self.context.clients("logs")
        if days == before:
            return
        if days is None:
            self.call(resource.logical_id, client.delete_retention_policy,
                      logGroupName=resource.physical_id)
        else:
            self.call(resource.logical_id, client.put_retention_policy,
                      logGroupName=resource.physical_id, retentionInDays=int(days))

    def delete(self, record: Record) -> None:
        self.tolerate("logs", "ResourceNotFoundException", "delete_log_group",
                      logGroupName=record.physical_id)
