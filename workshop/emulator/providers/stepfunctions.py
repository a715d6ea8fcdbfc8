"""AWS::StepFunctions::StateMachine in moto's Step Functions (the executing backend)."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from typing import Any

import yaml

from ..lambda_packages import read_s3_package
from ..lambda_runtime import LambdaError
from .base import NameStyle, Provider, Record, Resource, tag_list

__all__ = ["StateMachineProvider", "check_definition"]

_SUBSTITUTION = re.compile(r"\$\{([^}]+)\}")
_TERMINAL = {"Choice", "Succeed", "Fail"}


def check_definition(machine: Any, *, path: str = "") -> None:
    """Raise ValueError if states do not connect: the mistakes AWS rejects at creation."""
    where = f" in {path}" if path else ""
    if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict) \
            or not machine["States"]:
        raise ValueError(f"the definition{where} has no States")
    states = machine["States"]
    if machine.get("StartAt") not in states:
        raise ValueError(f"StartAt {machine.get('StartAt')!r}{where} is not one of the States")
    for name, state in states.items():
        if not isinstance(state, dict) or "Type" not in state:
            raise ValueError(f"state {name!r}{where} has no Type")
        targets = [state.get("Next"), state.get("Default"),
                   *(c.get("Next") for c in state.get("Choices", [])),
                   *(c.get("Next") for c in state.get("Catch", []))]
        for target in targets:
            if target is not None and target not in states:
                raise ValueError(f"state {name!r}{where} goes to {target!r}, "
                                 "which is not one of the States")
        if state["Type"] not in _TERMINAL and not state.get("Next") and not state.get("End"):
            raise ValueError(f"state {name!r}{where} has neither Next nor End")
        for index, branch in enumerate(state.get("Branches", [])):
            check_definition(branch, path=f"{name}.Branches[{index}]")
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                check_definition(state[key], path=f"{name}.{key}")


class StateMachineProvider(Provider):
    """State machines from ``Definition`` or ``DefinitionString`` with
    ``DefinitionSubstitutions`` applied, as CloudFormation does, before parsing."""

    types = ("AWS::StepFunctions::StateMachine",)
    name_property = "StateMachineName"
    # CloudFormation names these "{Logical}-{12 letters and digits}".
    name_style = NameStyle(max_length=80, with_stack=False,
                           suffix_alphabet=string.ascii_letters + string.digits)
    replace_on = frozenset({"StateMachineType"})
    attribute_names = frozenset({"Arn", "Name"})

    def prepare(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        if not properties.get("RoleArn"):
            raise self.fail(logical_id, "a state machine needs a RoleArn")
        text = self._definition_text(logical_id, properties)
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as error:
            raise self.fail(logical_id, f"the state machine definition is not valid JSON: "
                            f"{error.msg} (definition line {error.lineno}, column "
                            f"{error.colno})") from None
        try:
            check_definition(definition)
        except ValueError as error:
            raise self.fail(logical_id, f"invalid state machine definition: {error}") from None
        prepared = {k: v for k, v in properties.items()
                    if k not in ("Definition", "DefinitionString", "DefinitionSubstitutions",
                                 "DefinitionS3Location")}
        prepared["Definition"] = json.dumps(definition, sort_keys=True)
        return prepared

    def _definition_text(self, logical_id: str, properties: Mapping[str, Any]) -> str:
        if "Definition" in properties:
            text = json.dumps(properties["Definition"], indent=2)
        elif isinstance(properties.get("DefinitionString"), str):
            text = properties["DefinitionString"]
        elif isinstance(properties.get("DefinitionS3Location"), dict):
            text = self._s3_definition(logical_id, properties["DefinitionS3Location"])
        else:
            raise self.fail(logical_id, "a state machine needs Definition, DefinitionString "
                            "or DefinitionS3Location")
        substitutions = properties.get("DefinitionSubstitutions") or {}

        def substitute(match: re.Match[str]) -> str:
            value = substitutions.get(match.group(1), match.group(0))
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)

        return _SUBSTITUTION.sub(substitute, text)

    def _s3_definition(self, logical_id: str, location: Mapping[str, Any]) -> str:
        """The definition file ``sam deploy`` uploaded for a ``DefinitionUri``."""
        bucket, key = location.get("Bucket"), location.get("Key")
        if not bucket or not key:
            raise self.fail(logical_id, "DefinitionS3Location needs Bucket and Key")
        version = location.get("Version")
        try:
            data = read_s3_package(str(bucket), str(key), str(version) if version else None,
                                   account=self.settings.account_id,
                                   partition=self.settings.partition)
        except LambdaError as error:
            raise self.fail(logical_id, f"DefinitionS3Location s3://{bucket}/{key}: "
                            f"{error.message}") from None
        try:
            text = data.decode("utf-8")
            if str(key).endswith((".yaml", ".yml")):  # Step Functions takes YAML files too
                return json.dumps(yaml.safe_load(text), indent=2)
            return text
        except (UnicodeDecodeError, yaml.YAMLError) as error:
            raise self.fail(logical_id, f"DefinitionS3Location s3://{bucket}/{key} cannot be "
                            f"read: {error}") from None

    def attributes(self, logical_id: str, physical_id: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
        arn = self.arn("states", f"stateMachine:{physical_id}")
        return {"Ref": arn, "Arn": arn, "Name": physical_id}

    def create(self, resource: Resource) -> dict[str, Any]:
        props = resource.properties
        request: dict[str, Any] = {
            "name": resource.physical_id, "definition": props["Definition"],
            "roleArn": props["RoleArn"], "type": props.get("StateMachineType", "STANDARD")}
        if props.get("Tags"):
            request["tags"] = [{"key": t["Key"], "value": t["Value"]}
                               for t in tag_list(props["Tags"])]
        reply = self.call(resource.logical_id,
                          self.context.clients("stepfunctions").create_state_machine, **request)
        values = self.attributes(resource.logical_id, resource.physical_id, props)
        values.update(Ref=reply["stateMachineArn"], Arn=reply["stateMachineArn"])
        return values

    def update(self, resource: Resource, old: Record) -> dict[str, Any]:
        self.call(resource.logical_id,
                  self.context.clients("stepfunctions").update_state_machine,
                  stateMachineArn=old.attributes["Arn"],
                  definition=resource.properties["Definition"],
                  roleArn=resource.properties["RoleArn"])
        return dict(old.attributes)

    def delete(self, record: Record) -> None:
        self.tolerate("stepfunctions", "StateMachineDoesNotExist", "delete_state_machine",
                      stateMachineArn=record.attributes["Arn"])
