"""AWS::IAM::Role, Policy and ManagedPolicy in moto's IAM.

The local cloud enforces these policies as AWS does (:mod:`..iam_enforcement`): a
function or state machine may call only what its role allows. AWS-managed policies
(``arn:<partition>:iam::aws:policy/…``) are attached too: moto's IAM makes the ones a role names
from AWS's documents (:mod:`..aws_managed_policies`); a name AWS does not have fails the
deploy with ``NoSuchEntity``, as CloudFormation would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .base import Provider, Record, Resource, pending, tag_list

__all__ = ["ManagedPolicyProvider", "PolicyProvider", "RoleProvider"]


def _document(value: Any) -> str:
    if isinstance(value, dict) and "Version" not in value:
        # AWS reads a policy without Version as 2008-10-17 (SAM's policy templates have
        # none), where ${...} is literal text rather than a policy variable; moto refuses
        # a document without Version. The two read alike unless a statement holds "${".
        value = {"Version": "2012-10-17", **value}
    return value if isinstance(value, str) else json.dumps(value)


def _path(properties: Mapping[str, Any]) -> str:
    return str(properties.get("Path") or "/")


class _IamProvider(Provider):
    """IAM calls shared by the three types: missing entities are not errors on delete."""

    @property
    def iam(self) -> Any:
        return self.context.clients("iam")

    def quietly(self, operation: str, **kwargs: Any) -> None:
        self.tolerate("iam", "NoSuchEntityException", operation, **kwargs)

    def attach(self, logical_id: str, role: str, before: list[str], after: list[str]) -> None:
        for arn in [a for a in before if a not in after]:
            self.quietly("detach_role_policy", RoleName=role, PolicyArn=arn)
        for arn in [a for a in after if a not in before]:
            self.call(logical_id, self.iam.attach_role_policy, RoleName=role, PolicyArn=arn)


class RoleProvider(_IamProvider):
    """Roles with inline policies and attached managed policies."""

    types = ("AWS::IAM::Role",)
    name_property = "RoleName"
    replace_on = frozenset({"Path"})
    attribute_names = frozenset({"Arn", "RoleId"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        if not properties.get("AssumeRolePolicyDocument"):
            raise self.fail(logical_id, "a role needs an AssumeRolePolicyDocument")
        return properties

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        arn = self.settings.arn("iam", f"role{_path(properties)}{physical_id}", in_region=False)
        return {"Ref": physical_id, "Arn": arn, "RoleId": pending(logical_id, "RoleId")}

    def create(self, resource: Resource) -> dict[str, Any]:
        props, name = resource.properties, resource.physical_id
        request: dict[str, Any] = {
            "RoleName": name, "Path": _path(props),
            "AssumeRolePolicyDocument": _document(props["AssumeRolePolicyDocument"])}
        if props.get("Description"):
            request["Description"] = str(props["Description"])
        if props.get("MaxSessionDuration"):
            request["MaxSessionDuration"] = int(props["MaxSessionDuration"])
        if props.get("Tags"):
            request["Tags"] = tag_list(props["Tags"])
        role = self.call(resource.logical_id, self.iam.create_role, **request)["Role"]
        self._sync_policies(resource, {})
        self.attach(resource.logical_id, name, [], props.get("ManagedPolicyArns", []))
        values = self.attributes(resource.logical_id, name, props)
        values["RoleId"] = role["RoleId"]
        return values

    def _sync_policies(self, resource: Resource, before: Mapping[str, Any]) -> None:
        wanted = {p["PolicyName"]: p["PolicyDocument"]
                  for p in resource.properties.get("Policies", [])}
        current = {p["PolicyName"]: p["PolicyDocument"] for p in before.get("Policies", [])}
        for name in current.keys() - wanted.keys():
            self.quietly("delete_role_policy", RoleName=resource.physical_id,
                         PolicyName=name)
        for name, document in wanted.items():
            if current.get(name) != document:
                self.call(resource.logical_id, self.iam.put_role_policy,
                          RoleName=resource.physical_id, PolicyName=name,
                          PolicyDocument=_document(document))

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        props, before, name = resource.properties, old.properties, resource.physical_id
        if props["AssumeRolePolicyDocument"] != before["AssumeRolePolicyDocument"]:
            self.call(resource.logical_id, self.iam.update_assume_role_policy, RoleName=name,
                      PolicyDocument=_document(props["AssumeRolePolicyDocument"]))
        if props.get("Description") != before.get("Description"):
            self.call(resource.logical_id, self.iam.update_role, RoleName=name,
                      Description=str(props.get("Description") or ""))
        self._sync_policies(resource, before)
        self.attach(resource.logical_id, name, before.get("ManagedPolicyArns", []),
                    props.get("ManagedPolicyArns", []))
        return dict(old.attributes)

    def delete(self, record: Record) -> None:
        name = record.physical_id
        try:
            for policy in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                self.quietly("delete_role_policy", RoleName=name, PolicyName=policy)
            attached = self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        except self.iam.exceptions.NoSuchEntityException:
            return
        for policy in attached:
            self.quietly("detach_role_policy", RoleName=name,
                         PolicyArn=policy["PolicyArn"])
        self.quietly("delete_role", RoleName=name)


class PolicyProvider(_IamProvider):
    """An inline policy put on each of its ``Roles`` (users and groups are not emulated)."""

    types = ("AWS::IAM::Policy",)

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        for required in ("PolicyName", "PolicyDocument"):
            if not properties.get(required):
                raise self.fail(logical_id, f"a policy needs {required}")
        if properties.get("Users") or properties.get("Groups"):
            self.context.warn(f"{logical_id}: IAM users and groups are not emulated; the "
                              "policy is put on its Roles only")
        return properties

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        for role in props.get("Roles", []):
            self.call(resource.logical_id, self.iam.put_role_policy, RoleName=role,
                      PolicyName=props["PolicyName"],
                      PolicyDocument=_document(props["PolicyDocument"]))
        return {"Ref": resource.physical_id}

    def delete(self, record: Record) -> None:
        for role in record.properties.get("Roles", []):
            self.quietly("delete_role_policy", RoleName=role,
                         PolicyName=record.properties["PolicyName"])


class ManagedPolicyProvider(_IamProvider):
    """A customer-managed policy, attached to its ``Roles``; Ref is its ARN."""

    types = ("AWS::IAM::ManagedPolicy",)
    name_property = "ManagedPolicyName"
    replace_on = frozenset({"Path"})
    attribute_names = frozenset({"PolicyArn", "PolicyId"})

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        arn = self.settings.arn("iam", f"policy{_path(properties)}{physical_id}",
                                in_region=False)
        return {"Ref": arn, "PolicyArn": arn, "PolicyId": pending(logical_id, "PolicyId")}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        request: dict[str, Any] = {"PolicyName": resource.physical_id, "Path": _path(props),
                                   "PolicyDocument": _document(props["PolicyDocument"])}
        if props.get("Description"):
            request["Description"] = str(props["Description"])
        policy = self.call(resource.logical_id, self.iam.create_policy, **request)["Policy"]
        for role in props.get("Roles", []):
            self.call(resource.logical_id, self.iam.attach_role_policy, RoleName=role,
                      PolicyArn=policy["Arn"])
        return {"Ref": policy["Arn"], "PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"]}

    def delete(self, record: Record) -> None:
        arn = record.attributes["PolicyArn"]
        for role in record.properties.get("Roles", []):
            self.quietly("detach_role_policy", RoleName=role, PolicyArn=arn)
        self.quietly("delete_policy", PolicyArn=arn)
