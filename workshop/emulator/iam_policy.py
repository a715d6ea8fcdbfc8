"""IAM policy evaluation: does this set of policies allow one action on one resource?

The one matcher of IAM statements in the local cloud: role policies (what a function or
state machine may call), Lambda authorizers' policies (``execute-api:Invoke``) and the
``ArnLike`` conditions of resource policies all come here. Pure: documents and plain
values in, a :class:`Decision` out.

What IAM does, and so what this does (IAM User Guide, "Policy evaluation logic" and
"IAM JSON policy elements"):

* an explicit ``Deny`` wins; otherwise an ``Allow`` allows; otherwise the request is
  implicitly denied;
* ``Action``/``NotAction`` match case-insensitively, with ``*`` and ``?`` wildcards;
* ``Resource``/``NotResource`` match ARNs case-sensitively; ``*`` and ``?`` stay within
  a colon-separated segment, except that a ``*`` ending a segment may run past the
  colons ("If the * wildcard is the last character of a resource ARN segment, it can
  expand to match beyond the colon boundaries"); ``[`` and friends are plain characters;
* policy variables (``${aws:username}``, ``${*}``…) in ``2012-10-17`` documents only; a
  variable the request does not have makes the element not match;
* ``Condition``: the string, ARN, numeric, date, Bool, Null, IP and binary operators, with
  ``IfExists`` and ``ForAnyValue:``/``ForAllValues:``. A key absent from the request makes
  a condition false, except for the negated operators and ``IfExists``, where it is true.
  An operator IAM does not have cannot allow anything: an Allow statement using one does
  not apply, a Deny statement using one does, and the decision says so in ``notes``.

moto's own evaluator (``moto/iam/access_control.py``) was read first and not reused: it
matches patterns as regular expressions (so ``.`` and ``+`` in a name are wildcards and
``?`` is not), ignores ``NotResource`` (a statement with one allows every resource),
matches actions case-sensitively, turns a false condition on an Allow into a Deny, and
evaluates conditions only against values taken from the request's form data.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

__all__ = [
    "Decision",
    "Effect",
    "PolicyContext",
    "action_matches",
    "arn_like",
    "evaluate",
    "resource_matches",
]

# A request's context: condition key (any case) -> value or list of values.
PolicyContext = Mapping[str, Any]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# ${*}, ${?} and ${$} stand for the characters themselves, never wildcards: they are
# carried through substitution as private-use characters that _glob reads literally.
_LITERAL_STAR, _LITERAL_QUESTION = "\ue000", "\ue001"
_ESCAPES = {"*": _LITERAL_STAR, "?": _LITERAL_QUESTION, "$": "$"}
_LITERALS = {_LITERAL_STAR: re.escape("*"), _LITERAL_QUESTION: re.escape("?")}

class Effect(enum.Enum):
    """The outcome of evaluating policies for one request."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Decision:
    """What the policies decided, and whether the answer may be reused.

    ``context_free`` is False when a condition was consulted: the same role, action and
    resource may be decided otherwise for another request. ``notes`` explains statements
    that could not be evaluated (an unknown condition operator, say).
    """

    effect: Effect
    context_free: bool = True
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


# -- matching ---------------------------------------------------------------------------


def _glob(pattern: str, *, star: str, single: str) -> str:
    out = []
    for char in pattern:
        if char in _LITERALS:
            out.append(_LITERALS[char])
        else:
            out.append(star if char == "*" else single if char == "?" else re.escape(char))
    return "".join(out)


@lru_cache(maxsize=4096)
def _action_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_glob(pattern, star=".*", single="."), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM's Action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return _action_regex(pattern).fullmatch(action) is not None


@lru_cache(maxsize=4096)
def _resource_regex(pattern: str) -> re.Pattern[str]:
    if pattern == "*":
        return re.compile(".*", re.DOTALL)
    segments = []
    for segment in pattern.split(":"):
        # A * ending a segment may run past colons; any other stays within the segment.
        body = _glob(segment[:-1], star="[^:]*", single="[^:]") + ".*" \
            if segment.endswith("*") else _glob(segment, star="[^:]*", single="[^:]")
        segments.append(body)
    return re.compile(":".join(segments), re.DOTALL)


def resource_matches(pattern: str, arn: str) -> bool:
    """IAM's Resource matching of ``arn`` against ``pattern`` (case-sensitive)."""
    return _resource_regex(pattern).fullmatch(arn) is not None


@lru_cache(maxsize=4096)
def _like_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_glob(pattern, star=".*", single="."), flags)


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ``ArnLike``/``ArnEquals``: each of the six colon-separated parts is matched
    on its own, with ``*`` and ``?`` (the last part, the resource, may hold colons)."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(_like_regex(p).fullmatch(a) is not None
               for p, a in zip(pattern_parts, arn_parts, strict=True))


# -- policy variables ---------------------------------------------------------------------


def _lookup(context: PolicyContext, key: str) -> Any:
    """A context value by key, keys being case-insensitive as in IAM; None if absent."""
    if key in context:
        return context[key]
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return value
    return None


def _substitute(text: str, context: PolicyContext, *, variables: bool) -> str | None:
    """``text`` with its policy variables replaced; None if one has no value."""
    if not variables or "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1)
        if inner in _ESCAPES:
            return _ESCAPES[inner]
        name, _, default = inner.partition(",")
        value = _lookup(context, name.strip())
        if isinstance(value, str):
            return value
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        missing = True
        return ""

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


# -- conditions ---------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return ["true" if v is True else "false" if v is False else str(v)
            for v in items if v is not None]


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> float:
    try:
        return float(text)  # epoch seconds are dates too
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()


def _ip(value: str, network: str) -> bool:
    return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)


def _binary(value: str, expected: str) -> bool:
    return base64.b64decode(value) == base64.b64decode(expected)


def _ordered(convert: Any, compare: Any) -> Any:
    return lambda value, expected: compare(convert(value), convert(expected))


# Each positive operator: (request value, policy value) -> match. The negated ones
# ("StringNotEquals"...) are "matches none of the policy's values" of their positive.
_COMPARISONS: dict[str, Any] = {
    "StringEquals": lambda v, p: v == p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringLike": lambda v, p: _like_regex(p).fullmatch(v) is not None,
    "ArnEquals": lambda v, p: arn_like(p, v),
    "ArnLike": lambda v, p: arn_like(p, v),
    "NumericEquals": _ordered(_number, lambda a, b: a == b),
    "NumericLessThan": _ordered(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _ordered(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _ordered(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _ordered(_number, lambda a, b: a >= b),
    "DateEquals": _ordered(_date, lambda a, b: a == b),
    "DateLessThan": _ordered(_date, lambda a, b: a < b),
    "DateLessThanEquals": _ordered(_date, lambda a, b: a <= b),
    "DateGreaterThan": _ordered(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _ordered(_date, lambda a, b: a >= b),
    "Bool": lambda v, p: v.lower() == p.lower(),
    "BinaryEquals": _binary,
    "IpAddress": _ip,
}
_POSITIVE_OF = {"StringNotEquals": "StringEquals",
                "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
                "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals",
                "ArnNotLike": "ArnLike", "NumericNotEquals": "NumericEquals",
                "DateNotEquals": "DateEquals", "NotIpAddress": "IpAddress",
                "BinaryNotEquals": "BinaryEquals"}


def _matches_any(base: str, value: str, expected: list[str]) -> bool:
    compare = _COMPARISONS[base]
    for candidate in expected:
        try:
            if compare(value, candidate):
                return True
        except (ValueError, TypeError):  # a value of the wrong kind never matches
            continue
    return False


def _condition_holds(operator: str, key: str, expected_raw: Any, context: PolicyContext,
                     *, variables: bool) -> bool | None:
    """Whether one condition holds; None for an operator IAM does not have."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    name = name.removesuffix("IfExists") if if_exists else name
    present = _lookup(context, key)
    if name == "Null" and not qualifier and not if_exists:
        wanted_absent = [v.lower() for v in _strings(expected_raw)]
        return ("true" if present is None else "false") in wanted_absent
    negated = name in _POSITIVE_OF
    base = _POSITIVE_OF.get(name, name)
    if base not in _COMPARISONS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    expected = [s for s in (_substitute(v, context, variables=variables)
                            for v in _strings(expected_raw)) if s is not None]
    if present is None:
        if qualifier == "ForAllValues":
            return True  # no values: all of them (none) match
        return if_exists or negated
    values = _strings(present)
    hits = [_matches_any(base, value, expected) != negated for value in values]
    if qualifier == "ForAllValues":
        return all(hits)
    return any(hits)


def _conditions_hold(conditions: Any, context: PolicyContext, *, variables: bool
                     ) -> tuple[bool | None, str | None]:
    if not isinstance(conditions, Mapping):
        return None, "a Condition that is not an object"
    for operator, tests in conditions.items():
        if not isinstance(tests, Mapping):
            return None, f"condition operator {operator} without keys"
        for key, expected in tests.items():
            holds = _condition_holds(str(operator), str(key), expected, context,
                                     variables=variables)
            if holds is None:
                return None, (f"condition operator {operator!r} is not one IAM has (or not "
                              "one the local cloud knows): the statement cannot allow")
            if not holds:
                return False, None
    return True, None


# -- statements and documents ---------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class _Match:
    applies: bool
    consulted: bool = False
    note: str | None = None


def _element_matches(statement: Mapping[str, Any], positive: str, negative: str,
                     matcher: Any, value: str, context: PolicyContext, *,
                     variables: bool) -> bool | None:
    """Whether ``value`` is covered by ``positive`` or not excluded by ``negative``;
    None when the statement has neither element."""
    if positive in statement:
        name, patterns = positive, statement[positive]
    elif negative in statement:
        name, patterns = negative, statement[negative]
    else:
        return None
    hit = False
    for pattern in _as_list(patterns):
        resolved = _substitute(str(pattern), context, variables=variables)
        if resolved is not None and matcher(resolved, value):
            hit = True
            break
    return hit if name == positive else not hit


def _statement_match(statement: Any, action: str, resource: str, context: PolicyContext,
                     *, variables: bool) -> _Match:
    if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
        return _Match(False, note="a statement without Effect Allow or Deny is ignored")
    action_hit = _element_matches(statement, "Action", "NotAction", action_matches, action,
                                  context, variables=False)
    if not action_hit:
        return _Match(False)
    resource_hit = _element_matches(statement, "Resource", "NotResource", resource_matches,
                                    resource, context, variables=variables)
    if not resource_hit:
        return _Match(False, note=None if resource_hit is False else
                      "a statement without Resource or NotResource is ignored")
    if "Condition" not in statement:
        return _Match(True)
    holds, note = _conditions_hold(statement["Condition"], context, variables=variables)
    if holds is None:  # cannot be evaluated: it must not allow, and may only deny
        return _Match(statement["Effect"] == "Deny", consulted=True, note=note)
    return _Match(holds, consulted=True)


def _document(document: Any) -> Mapping[str, Any] | None:
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    return document if isinstance(document, Mapping) else None


def evaluate(documents: Iterable[Any], *, action: str, resource: str,
             context: PolicyContext | None = None) -> Decision:
    """Evaluate identity-based ``documents`` (dicts or JSON text) for one request."""
    context = context or {}
    allowed, context_free, notes = False, True, []
    for raw in documents:
        document = _document(raw)
        if document is None:
            notes.append("a policy that is not a JSON object is ignored")
            continue
        # Policy variables exist from version 2012-10-17 on; before, ${...} is literal.
        variables = document.get("Version") == "2012-10-17"
        for statement in _as_list(document.get("Statement")):
            match = _statement_match(statement, action, resource, context,
                                     variables=variables)
            context_free = context_free and not match.consulted
            if match.note:
                notes.append(match.note)
            if match.applies and statement["Effect"] == "Deny":
                return Decision(Effect.EXPLICIT_DENY, context_free, tuple(notes))
            allowed = allowed or match.applies
    return Decision(Effect.ALLOW if allowed else Effect.IMPLICIT_DENY, context_free,
                    tuple(notes))
