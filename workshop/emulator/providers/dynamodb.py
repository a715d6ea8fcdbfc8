"""AWS::DynamoDB::Table (and SAM's SimpleTable, which arrives as one) in moto's DynamoDB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import NameStyle, Provider, Record, Resource, as_bool, pending, tag_list

__all__ = ["TableProvider"]


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {"ReadCapacityUnits": int(value["ReadCapacityUnits"]),
            "WriteCapacityUnits": int(value["WriteCapacityUnits"])}


class TableProvider(Provider):
    """Tables with GSIs, LSIs, streams and TTL.

    Billing, throughput, GSIs, streams and TTL change in place (``UpdateTable``); a new
    key schema or LSI replaces the table, and its items are lost, as on AWS.
    """

    types = ("AWS::DynamoDB::Table",)
    name_property = "TableName"
    name_style = NameStyle(max_length=255)
    replace_on = frozenset({"KeySchema", "LocalSecondaryIndexes"})
    attribute_names = frozenset({"Arn", "StreamArn"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for required in ("KeySchema", "AttributeDefinitions"):
            if not properties.get(required):
                raise self.fail(logical_id, f"a table needs {required}")
        billing = properties.setdefault("BillingMode", "PROVISIONED")
        if billing == "PROVISIONED" and "ProvisionedThroughput" not in properties:
            raise self.fail(logical_id, "BillingMode PROVISIONED (the default) needs "
                            "ProvisionedThroughput; or set BillingMode: PAY_PER_REQUEST")
        defined = {a["AttributeName"] for a in properties["AttributeDefinitions"]}
        used = {k["AttributeName"] for k in properties["KeySchema"]}
        for index in self._indexes(properties):
            used |= {k["AttributeName"] for k in index.get("KeySchema", [])}
        if defined != used:
            # DynamoDB refuses both: keys not defined, and definitions no key uses.
            raise self.fail(logical_id, "AttributeDefinitions must list exactly the key "
                            f"attributes of the table and its indexes: defined "
                            f"{sorted(defined)}, used as keys {sorted(used)}")
        return properties

    @staticmethod
    def _indexes(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [*properties.get("GlobalSecondaryIndexes", []),
                *properties.get("LocalSecondaryIndexes", [])]

    def replacement_warning(self, logical_id: str, physical_id: str) -> str:
        return (f"{logical_id}: the key schema changed, so table {physical_id} is replaced "
                "and its items are lost (AWS does the same)")

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        values = {"Ref": physical_id, "Arn": self.arn("dynamodb", f"table/{physical_id}")}
        if properties.get("StreamSpecification"):
            values["StreamArn"] = pending(logical_id, "StreamArn")
        return values

    def create(self, resource: Resource) -> dict[str, Any]:
        props, name = resource.properties, resource.physical_id
        provisioned = props["BillingMode"] == "PROVISIONED"
        request: dict[str, Any] = {
            "TableName": name, "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props["BillingMode"],
        }
        if provisioned:
            request["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [self._gsi(index, provisioned)
                                                 for index in props["GlobalSecondaryIndexes"]]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = [
                {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                for index in props["LocalSecondaryIndexes"]]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = self._stream(props["StreamSpecification"])
        if props.get("Tags"):
            request["Tags"] = tag_list(props["Tags"])
        client = self.context.clients("dynamodb")
        self.call(resource.logical_id, client.create_table, **request)
        self._set_ttl(resource, None)
        return self._actual_attributes(resource)

    @staticmethod
    def _gsi(index: Mapping[str, Any], provisioned: bool) -> dict[str, Any]:
        gsi = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
        if provisioned and "ProvisionedThroughput" in index:
            gsi["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
        return gsi

    @staticmethod
    def _stream(spec: Mapping[str, Any] | None) -> dict[str, Any]:
        if not spec:
            return {"StreamEnabled": False}
        return {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        new, before = resource.properties, old.properties
        client = self.context.clients("dynamodb")
        name, logical_id = resource.physical_id, resource.logical_id
        provisioned = new["BillingMode"] == "PROVISIONED"
        if (new["BillingMode"], new.get("ProvisionedThroughput")) != (
                before["BillingMode"], before.get("ProvisionedThroughput")):
            request: dict[str, Any] = {"TableName": name, "BillingMode": new["BillingMode"]}
            if provisioned:
                request["ProvisionedThroughput"] = _throughput(new["ProvisionedThroughput"])
            self.call(logical_id, client.update_table, **request)
        # DynamoDB takes one index change per UpdateTable call.
        for update in self._index_updates(before, new, provisioned):
            self.call(logical_id, client.update_table, TableName=name,
                      AttributeDefinitions=new["AttributeDefinitions"],
                      GlobalSecondaryIndexUpdates=[update])
        if new.get("StreamSpecification") != before.get("StreamSpecification"):
            if before.get("StreamSpecification"):
                self.call(logical_id, client.update_table, TableName=name,
                          StreamSpecification=self._stream(None))
            if new.get("StreamSpecification"):
                self.call(logical_id, client.update_table, TableName=name,
                          StreamSpecification=self._stream(new["StreamSpecification"]))
        self._set_ttl(resource, before.get("TimeToLiveSpecification"))
        return self._actual_attributes(resource)

    def _index_updates(self, before: Mapping[str, Any], new: Mapping[str, Any],
                       provisioned: bool) -> list[dict[str, Any]]:
        old_indexes = {i["IndexName"]: i for i in before.get("GlobalSecondaryIndexes", [])}
        new_indexes = {i["IndexName"]: i for i in new.get("GlobalSecondaryIndexes", [])}
        updates: list[dict[str, Any]] = []
        for name, index in old_indexes.items():
            changed = name in new_indexes and any(
                index.get(k) != new_indexes[name].get(k) for k in ("KeySchema", "Projection"))
            if name not in new_indexes or changed:
                updates.append({"Delete": {"IndexName": name}})
        for name, index in new_indexes.items():
            old_index = old_indexes.get(name)
            if old_index is None or {"Delete": {"IndexName": name}} in updates:
                updates.append({"Create": self._gsi(index, provisioned)})
            elif provisioned and index.get("ProvisionedThroughput") != old_index.get(
                    "ProvisionedThroughput"):
                updates.append({"Update": {"IndexName": name, "ProvisionedThroughput":
                                           _throughput(index["ProvisionedThroughput"])}})
        return updates

    def _set_ttl(self, resource: Resource, before: Mapping[str, Any] | None) -> None:
        spec = resource.properties.get("TimeToLiveSpecification")
        if spec == before or (not spec and not before):
            return
        target = spec if spec else {**before, "Enabled": False}  # type: ignore[dict-item]
        self.call(resource.logical_id, self.context.clients("dynamodb").update_time_to_live,
                  TableName=resource.physical_id,
                  TimeToLiveSpecification={"Enabled": as_bool(target.get("Enabled")),
                                           "AttributeName": target["AttributeName"]})

    def _actual_attributes(self, resource: Resource) -> dict[str, Any]:
        values = self.attributes(resource.logical_id, resource.physical_id,
                                 resource.properties)
        if "StreamArn" in values:
            table = self.call(resource.logical_id,
                              self.context.clients("dynamodb").describe_table,
                              TableName=resource.physical_id)["Table"]
            values["StreamArn"] = table["LatestStreamArn"]
        return values

    def delete(self, record: Record) -> None:
        self.tolerate("dynamodb", "ResourceNotFoundException", "delete_table",
                      TableName=record.physical_id)
