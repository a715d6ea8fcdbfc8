"""CloudFormation's intrinsic functions, parameters and conditions, resolved in memory.

Pure code: no I/O and no knowledge of resource types. What a ``Ref`` or ``Fn::GetAtt`` of a
resource returns is asked of the caller (the deployer knows the local resources), so the
same resolver serves planning (predicted values) and applying (actual values).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import partitions
from .template import TemplateError

__all__ = [
    "NO_VALUE",
    "Resolver",
    "is_intrinsic",
    "pseudo_parameters",
    "references",
    "resolve_parameters",
    "stack_id",
    "sub_references",
]


class _NoValue:
    """``AWS::NoValue``: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_UNSUPPORTED = {"Fn::Cidr", "Fn::Transform", "Fn::ToJsonString", "Fn::Length"}
_INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split",
               "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::FindInMap", "Fn::GetAZs",
               "Fn::Base64", "Fn::ImportValue", *_UNSUPPORTED}
_LIST_TYPES = ("CommaDelimitedList", "List<")

RefLookup = Callable[[str], Any]
GetAttLookup = Callable[[str, str], Any]


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping whose key is ``Ref`` or an ``Fn::`` function."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


def stack_id(*, region: str, account_id: str, stack_name: str) -> str:
    """A stack ARN that stays the same for the same stack (a uuid derived from its name)."""
    unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{account_id}/{region}/{stack_name}")
    return partitions.arn("cloudformation", f"stack/{stack_name}/{unique}", region=region,
                          account=account_id)


def pseudo_parameters(*, region: str, account_id: str, stack_name: str) -> dict[str, Any]:
    """The ``AWS::…`` pseudo parameters of a stack in the local cloud."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partitions.partition_of(region),
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id(region=region, account_id=account_id, stack_name=stack_name),
        "AWS::URLSuffix": partitions.url_suffix_of(region),
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


# -- parameters --------------------------------------------------------------------------


def resolve_parameters(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Template parameter values from the caller's values and the Defaults, checked."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"parameter(s) {', '.join(unknown)} are not declared in the "
                            "template's Parameters", resource="Parameters")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in given:
            raw = given[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError("no value given and no Default", resource=f"Parameters.{name}")
        values[name] = _parameter_value(name, spec, raw)
    return values


def _parameter_value(name: str, spec: dict[str, Any], raw: Any) -> Any:
    kind = str(spec.get("Type", "String"))
    where = f"Parameters.{name}"
    if kind.startswith("AWS::SSM::Parameter"):
        raise TemplateError(f"parameter type {kind} needs SSM, which the local cloud does not "
                            "emulate; use a String parameter", resource=where)
    if isinstance(raw, list):
        items = [_scalar_text(item) for item in raw]
    else:
        text = _scalar_text(raw)
        items = [item.strip() for item in text.split(",")] if kind.startswith(_LIST_TYPES) \
            else [text]
    for item in items:
        _check_constraints(item, spec, kind, where)
    return items if kind.startswith(_LIST_TYPES) else items[0]


def _check_constraints(value: str, spec: dict[str, Any], kind: str, where: str) -> None:
    def fail(problem: str) -> TemplateError:
        hint = spec.get("ConstraintDescription")
        return TemplateError(f"{problem}{f' ({hint})' if hint else ''}", resource=where)

    if kind == "Number" or kind == "List<Number>":
        try:
            number = float(value)
        except ValueError:
            raise fail(f"{value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise fail(f"{value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise fail(f"{value} is above MaxValue {spec['MaxValue']}")
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_scalar_text(a) for a in allowed]:
        raise fail(f"{value!r} is not one of the AllowedValues "
                   f"{[_scalar_text(a) for a in allowed]}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        raise fail(f"{value!r} does not match AllowedPattern {pattern!r}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise fail(f"{value!r} is shorter than MinLength {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise fail(f"{value!r} is longer than MaxLength {spec['MaxLength']}")


def _scalar_text(value: Any) -> str:
    # YAML reads `true` and `5` as bool and int; CloudFormation sees "true" and "5".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- static analysis ---------------------------------------------------------------------


def sub_references(template: str, variables: Mapping[str, Any] | None = None
                   ) -> Iterator[tuple[str, str | None]]:
    """(name, attribute) pairs a ``Fn::Sub`` string refers to, minus its own variables."""
    for match in _SUB_VARIABLE.finditer(template):
        name = match.group(1).strip()
        if name.startswith("!") or (variables and name in variables):
            continue
        if "." in name:
            resource, _, attribute = name.partition(".")
            yield resource, attribute
        else:
            yield name, None


def references(value: Any) -> set[tuple[str, str | None]]:
    """Every (name, attribute) that Ref / GetAtt / Sub in ``value`` points at."""
    found: set[tuple[str, str | None]] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[tuple[str, str | None]]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, dict):
        return
    if is_intrinsic(value):
        name, argument = next(iter(value.items()))
        if name == "Ref" and isinstance(argument, str):
            found.add((argument, None))
            return
        if name == "Fn::GetAtt":
            parts = _getatt_parts(argument)
            if parts and isinstance(parts[1], str):
                found.add((parts[0], parts[1]))
                return
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (
                (argument + [{}])[:2] if isinstance(argument, list) else (None, {}))
            if isinstance(text, str):
                found.update(sub_references(text, variables if isinstance(variables, dict)
                                            else {}))
            _collect(variables, found)
            return
    for item in value.values():
        _collect(item, found)


def _getatt_parts(argument: Any) -> tuple[str, Any] | None:
    if isinstance(argument, str) and "." in argument:
        resource, _, attribute = argument.partition(".")
        return resource, attribute
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        return argument[0], argument[1]
    return None


# -- the resolver ------------------------------------------------------------------------


class Resolver:
    """Evaluates intrinsic functions against parameters, conditions and resources.

    ``ref(logical_id)`` and ``get_att(logical_id, attribute)`` answer for resources; they
    may raise TemplateError. ``where`` (a logical id, ``Outputs.X``…) names the place in
    every error.
    """

    def __init__(self, *, parameters: Mapping[str, Any], resources: set[str] | frozenset[str],
                 ref: RefLookup, get_att: GetAttLookup, region: str,
                 mappings: Mapping[str, Any] | None = None,
                 conditions: Mapping[str, Any] | None = None,
                 imports: Mapping[str, str] | None = None) -> None:
        self._parameters = parameters
        self._resources = resources
        self._ref = ref
        self._get_att = get_att
        self._region = region
        self._mappings = mappings or {}
        self._conditions = conditions or {}
        self._imports = imports or {}
        self._condition_values: dict[str, bool] = {}
        self._evaluating: list[str] = []

    @property
    def parameter_names(self) -> set[str]:
        """Names a Ref may use besides resources: parameters and pseudo parameters."""
        return set(self._parameters)

    # conditions

    def condition(self, name: str, *, where: str) -> bool:
        """The value of a named condition (evaluated once, cycles reported)."""
        if not isinstance(name, str) or name not in self._conditions:
            raise TemplateError(f"condition {name!r} is not defined in Conditions",
                                resource=where)
        if name not in self._condition_values:
            if name in self._evaluating:
                cycle = " -> ".join([*self._evaluating, name])
                raise TemplateError(f"conditions refer to each other in a loop: {cycle}",
                                    resource=f"Conditions.{name}")
            self._evaluating.append(name)
            try:
                value = self._condition_expression(self._conditions[name],
                                                   where=f"Conditions.{name}")
            finally:
                self._evaluating.pop()
            self._condition_values[name] = value
        return self._condition_values[name]

    def _condition_expression(self, value: Any, *, where: str) -> bool:
        if isinstance(value, dict) and list(value) == ["Condition"]:
            return self.condition(value["Condition"], where=where)
        result = self.resolve(value, where=where)
        if isinstance(result, bool):
            return result
        if result in ("true", "false"):
            return result == "true"
        raise TemplateError(f"a condition must be Fn::Equals/And/Or/Not/Condition, "
                            f"not {value!r}", resource=where)

    # values

    def resolve(self, value: Any, *, where: str) -> Any:
        """``value`` with every intrinsic function replaced by its result."""
        if isinstance(value, list):
            items = (self.resolve(item, where=where) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if is_intrinsic(value):
            name, argument = next(iter(value.items()))
            return self._call(name, argument, where=where)
        resolved = {key: self.resolve(item, where=where) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _call(self, name: str, argument: Any, *, where: str) -> Any:
        if name in _UNSUPPORTED:
            raise TemplateError(f"{name} is not supported by the local deployer",
                                resource=where)
        handler = getattr(self, "_fn_" + name.replace("Fn::", "").lower())
        return handler(argument, where)

    def _fn_ref(self, name: Any, where: str) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, not {name!r}", resource=where)
        if name in self._parameters:
            return self._parameters[name]
        if name in self._resources:
            try:
                return self._ref(name)
            except TemplateError as error:
                raise error.located(resource=where) from None
        raise TemplateError(f"Ref to {name!r}, which is not a resource, parameter or "
                            "pseudo parameter of this template", resource=where)

    def _fn_getatt(self, argument: Any, where: str) -> Any:
        parts = _getatt_parts(argument)
        if parts is None:
            raise TemplateError(f"Fn::GetAtt takes [resource, attribute] or "
                                f"'resource.attribute', not {argument!r}", resource=where)
        resource, attribute = parts[0], self.resolve(parts[1], where=where)
        if resource not in self._resources:
            raise TemplateError(f"Fn::GetAtt to {resource}.{attribute}, but there is no "
                                f"resource {resource!r} in this template", resource=where)
        try:
            return self._get_att(resource, str(attribute))
        except TemplateError as error:
            raise error.located(resource=where) from None

    def _fn_sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif (isinstance(argument, list) and len(argument) == 2
              and isinstance(argument[0], str) and isinstance(argument[1], dict)):
            text = argument[0]
            variables = {k: self.resolve(v, where=where) for k, v in argument[1].items()}
        else:
            raise TemplateError(f"Fn::Sub takes a string or [string, {{variables}}], "
                                f"not {argument!r}", resource=where)

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name], where)
            if "." in name:
                return _text(self._fn_getatt(name, where), where)
            return _text(self._fn_ref(name, where), where)

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Join takes [delimiter, [values]], not {argument!r}",
                                resource=where)
        delimiter, items = argument[0], self.resolve(argument[1], where=where)
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join needs a list of values, not {items!r}",
                                resource=where)
        return str(delimiter).join(_text(item, where) for item in items)

    def _fn_if(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"Fn::If takes [condition, value if true, value if false], "
                                f"not {argument!r}", resource=where)
        chosen = argument[1] if self.condition(argument[0], where=where) else argument[2]
        return self.resolve(chosen, where=where)

    def _fn_select(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Select takes [index, [values]], not {argument!r}",
                                resource=where)
        index, items = self.resolve(argument[0], where=where), self.resolve(argument[1],
                                                                           where=where)
        try:
            return items[int(index)]
        except (ValueError, TypeError, IndexError):
            raise TemplateError(f"Fn::Select index {index!r} is not in {items!r}",
                                resource=where) from None

    def _fn_split(self, argument: Any, where: str) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Split takes [delimiter, string], not {argument!r}",
                                resource=where)
        return _text(self.resolve(argument[1], where=where), where).split(str(argument[0]))

    def _fn_equals(self, argument: Any, where: str) -> bool:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Equals takes two values, not {argument!r}",
                                resource=where)
        left, right = (self.resolve(side, where=where) for side in argument)
        return _comparable(left) == _comparable(right)

    def _fn_not(self, argument: Any, where: str) -> bool:
        if not (isinstance(argument, list) and len(argument) == 1):
            raise TemplateError(f"Fn::Not takes a list of one condition, not {argument!r}",
                                resource=where)
        return not self._condition_expression(argument[0], where=where)

    def _fn_and(self, argument: Any, where: str) -> bool:
        return all(self._conditions_of("Fn::And", argument, where))

    def _fn_or(self, argument: Any, where: str) -> bool:
        return any(self._conditions_of("Fn::Or", argument, where))

    def _conditions_of(self, name: str, argument: Any, where: str) -> list[bool]:
        if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
            raise TemplateError(f"{name} takes 2 to 10 conditions, not {argument!r}",
                                resource=where)
        return [self._condition_expression(item, where=where) for item in argument]

    def _fn_findinmap(self, argument: Any, where: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"Fn::FindInMap takes [map, key, key], not {argument!r}",
                                resource=where)
        keys = [_text(self.resolve(item, where=where), where) for item in argument]
        value: Any = self._mappings
        for depth, key in enumerate(keys):
            if not isinstance(value, dict) or key not in value:
                path = ".".join(keys[:depth + 1])
                raise TemplateError(f"Fn::FindInMap: Mappings has no {path}", resource=where)
            value = value[key]
        return value

    def _fn_getazs(self, argument: Any, where: str) -> list[str]:
        region = _text(self.resolve(argument, where=where), where) or self._region
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_base64(self, argument: Any, where: str) -> str:
        text = _text(self.resolve(argument, where=where), where)
        return base64.b64encode(text.encode()).decode()

    def _fn_importvalue(self, argument: Any, where: str) -> str:
        name = _text(self.resolve(argument, where=where), where)
        if name not in self._imports:
            raise TemplateError(f"Fn::ImportValue {name!r}: no stack in the local cloud "
                                "exports that name", resource=where)
        return self._imports[name]


def _text(value: Any, where: str) -> str:
    if isinstance(value, (str, int, float, bool)):
        return _scalar_text(value)
    raise TemplateError(f"expected a string here, got {value!r}", resource=where)


def _comparable(value: Any) -> Any:
    return _scalar_text(value) if isinstance(value, (str, int, float, bool)) else value
