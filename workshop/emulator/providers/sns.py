"""AWS::SNS::Topic and AWS::SNS::Subscription in moto's SNS; TopicPolicy is recorded."""

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
    pending,
    tag_list,
)

__all__ = ["SubscriptionProvider", "TopicPolicyProvider", "TopicProvider"]

_TOPIC_ATTRIBUTES = ("DisplayName", "FifoTopic", "ContentBasedDeduplication",
                     "KmsMasterKeyId", "SignatureVersion", "TracingConfig")
_SUBSCRIPTION_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope",
                            "RedrivePolicy", "DeliveryPolicy")
# What a subscription attribute removed from the template goes back to.
_SUBSCRIPTION_DEFAULTS = {name: "false" if name == "RawMessageDelivery" else ""
                          for name in _SUBSCRIPTION_ATTRIBUTES}
_EMAIL_WARNING = ("SNS email subscriptions are recorded, but the local cloud sends no "
                  "email; subscribe an SQS queue to see the messages")


def _subscribe(provider: Provider, logical_id: str, topic_arn: str, protocol: str,
               endpoint: str, attributes: Mapping[str, str] | None = None) -> str:
    """Subscribe; shared by topics (inline ``Subscription``) and Subscription resources."""
    request: dict[str, Any] = {"TopicArn": topic_arn, "Protocol": protocol,
                               "Endpoint": endpoint, "ReturnSubscriptionArn": True}
    if attributes:
        request["Attributes"] = dict(attributes)
    reply = provider.call(logical_id, provider.context.clients("sns").subscribe, **request)
    return reply["SubscriptionArn"]


def _note_protocol(provider: Provider, protocol: str) -> None:
    if protocol in ("email", "email-json"):
        provider.context.warn(_EMAIL_WARNING)


class TopicProvider(Provider):
    """Topics, with their inline ``Subscription`` list kept in step on update."""

    types = ("AWS::SNS::Topic",)
    name_property = "TopicName"
    name_style = NameStyle(max_length=256)
    replace_on = frozenset({"FifoTopic"})
    attribute_names = frozenset({"TopicArn", "TopicName"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for subscription in properties.get("Subscription", []):
            _note_protocol(self, subscription.get("Protocol", ""))
        return properties

    def physical_id(self, logical_id: str, properties: Mapping[str, Any], *,
                    generation: int) -> str:
        if properties.get("TopicName") or not as_bool(properties.get("FifoTopic")):
            return super().physical_id(logical_id, properties, generation=generation)
        return generated_name(self.context.stack_name, logical_id, generation=generation,
                              style=NameStyle(max_length=251)) + ".fifo"

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        arn = self.arn("sns", physical_id)
        return {"Ref": arn, "TopicArn": arn, "TopicName": physical_id}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        request: dict[str, Any] = {"Name": resource.physical_id,
                                   "Attributes": attribute_map(props, _TOPIC_ATTRIBUTES)}
        if props.get("Tags"):
            request["Tags"] = tag_list(props["Tags"])
        arn = self.call(resource.logical_id, self.context.clients("sns").create_topic,
                        **request)["TopicArn"]
        values = self.attributes(resource.logical_id, resource.physical_id, props)
        values["_subscriptions"] = self._sync_subscriptions(resource.logical_id, arn, {},
                                                            props.get("Subscription", []))
        return values

    def _sync_subscriptions(self, logical_id: str, topic_arn: str, current: Mapping[str, str],
                            wanted: list[Mapping[str, Any]]) -> dict[str, str]:
        """Subscribe the new entries, unsubscribe the dropped ones: {key: arn}."""
        keys = {f"{s['Protocol']} {s['Endpoint']}": s for s in wanted}
        client = self.context.clients("sns")
        for key, arn in current.items():
            if key not in keys:
                self.call(logical_id, client.unsubscribe, SubscriptionArn=arn)
        return {key: current.get(key) or _subscribe(self, logical_id, topic_arn, s["Protocol"],
                                                      s["Endpoint"])
                for key, s in keys.items()}

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        arn, props = old.attributes["TopicArn"], resource.properties
        client = self.context.clients("sns")
        # A topic attribute removed from the template keeps its value, as before.
        for name, value in changed_attributes(attribute_map(old.properties, _TOPIC_ATTRIBUTES),
                                              attribute_map(props, _TOPIC_ATTRIBUTES)).items():
            self.call(resource.logical_id, client.set_topic_attributes, TopicArn=arn,
                      AttributeName=name, AttributeValue=value)
        values = dict(old.attributes)
        values["_subscriptions"] = self._sync_subscriptions(
            resource.logical_id, arn, old.attributes.get("_subscriptions", {}),
            props.get("Subscription", []))
        return values

    def delete(self, record: Record) -> None:
        # DeleteTopic also removes its subscriptions; deleting a missing topic succeeds.
        self.context.clients("sns").delete_topic(TopicArn=record.attributes["TopicArn"])


class SubscriptionProvider(Provider):
    """Subscriptions of any protocol; moto delivers to SQS, email is only recorded."""

    types = ("AWS::SNS::Subscription",)
    replace_on = frozenset({"TopicArn", "Protocol", "Endpoint", "Region"})
    attribute_names = frozenset({"Arn"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for required in ("TopicArn", "Protocol", "Endpoint"):
            if not properties.get(required):
                raise self.fail(logical_id, f"a subscription needs {required}")
        _note_protocol(self, properties["Protocol"])
        return properties

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        arn = pending(logical_id, "Arn")
        return {"Ref": arn, "Arn": arn}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        arn = _subscribe(self, resource.logical_id, props["TopicArn"], props["Protocol"],
                         props["Endpoint"], attribute_map(props, _SUBSCRIPTION_ATTRIBUTES))
        return {"Ref": arn, "Arn": arn}

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        client = self.context.clients("sns")
        changes = changed_attributes(
            attribute_map(old.properties, _SUBSCRIPTION_ATTRIBUTES),
            attribute_map(resource.properties, _SUBSCRIPTION_ATTRIBUTES),
            defaults=_SUBSCRIPTION_DEFAULTS)
        for name, value in changes.items():
            self.call(resource.logical_id, client.set_subscription_attributes,
                      SubscriptionArn=old.attributes["Arn"], AttributeName=name,
                      AttributeValue=value)
        return dict(old.attributes)

    def delete(self, record: Record) -> None:
        self.tolerate("sns", "NotFoundException", "unsubscribe",
                      SubscriptionArn=record.attributes["Arn"])


class TopicPolicyProvider(RecordOnly):
    """Topic policies are recorded; the local cloud does not enforce access policies."""

    types = ("AWS::SNS::TopicPolicy",)
