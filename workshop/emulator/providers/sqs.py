"""AWS::SQS::Queue in moto's SQS; AWS::SQS::QueuePolicy is accepted and recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    NameStyle,
    Provider,
    Record,
    RecordOnly,
    Resource,
    as_bool,
    attribute_map,
    changed_attributes,
    generated_name,
    tag_list,
)

__all__ = ["QueuePolicyProvider", "QueueProvider"]

# CloudFormation properties that are SQS queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
    "FifoThroughputLimit", "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId",
    "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled", "VisibilityTimeout",
)


class QueueProvider(Provider):
    """Standard and FIFO queues; attributes change in place (``SetQueueAttributes``)."""

    types = ("AWS::SQS::Queue",)
    name_property = "QueueName"
    name_style = NameStyle(max_length=80)
    replace_on = frozenset({"FifoQueue"})
    attribute_names = frozenset({"Arn", "QueueName", "QueueUrl"})

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        if properties.get("QueueName") or not as_bool(properties.get("FifoQueue")):
            return super().physical_id(logical_id, properties, generation=generation)
        # A FIFO queue's name must end in .fifo; CloudFormation makes room for it.
        return generated_name(self.context.stack_name, logical_id, generation=generation,
                              style=NameStyle(max_length=75)) + ".fifo"

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        # Predicted; the actual URL is the one SQS answers (same host as the endpoint).
        url = f"{self.settings.endpoint_url}/{self.settings.account_id}/{physical_id}"
        return {"Ref": url, "QueueUrl": url, "QueueName": physical_id,
                "Arn": self.arn("sqs", physical_id)}

    def create(self, resource: Resource) -> dict[str, Any]:
        request: dict[str, Any] = {"QueueName": resource.physical_id,
                                   "Attributes": attribute_map(resource.properties,
                                                             _QUEUE_ATTRIBUTES)}
        if resource.properties.get("Tags"):
            request["tags"] = {t["Key"]: t["Value"]
                               for t in tag_list(resource.properties["Tags"])}
        reply = self.call(resource.logical_id, self.context.clients("sqs").create_queue,
                          **request)
        values = self.attributes(resource.logical_id, resource.physical_id,
                                 resource.properties)
        values.update(Ref=reply["QueueUrl"], QueueUrl=reply["QueueUrl"])
        return values

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        # A queue attribute removed from the template keeps its value, as before.
        changed = changed_attributes(attribute_map(old.properties, _QUEUE_ATTRIBUTES),
                                     attribute_map(resource.properties, _QUEUE_ATTRIBUTES))
        if changed:
            self.call(resource.logical_id, self.context.clients("sqs").set_queue_attributes,
                      QueueUrl=old.attributes["QueueUrl"], Attributes=changed)
        return dict(old.attributes)

    def delete(self, record: Record) -> None:
        self.tolerate("sqs", "QueueDoesNotExist", "delete_queue",
                      QueueUrl=record.attributes["QueueUrl"])


class QueuePolicyProvider(RecordOnly):
    """Queue policies are recorded; the local cloud does not enforce access policies."""

    types = ("AWS::SQS::QueuePolicy",)
