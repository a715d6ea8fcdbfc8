"""A state machine's definition (Amazon States Language) drawn as a Mermaid flowchart.

Pure: it reads the ASL document and returns Mermaid text, nothing else. The shapes follow
the Step Functions console's habits closely enough for a learner to recognise them:

* Task ``["name"]`` (with what it calls), Pass ``["name"]``, Wait ``[/"name"/]``,
  Choice ``{"name"}`` (each rule on its arrow), Succeed and Fail ``(["name"])``;
* a Parallel (or Map) state is a fork node; each branch is a box of its own, and every
  branch ends in the join node that leads on to the state's ``Next``;
* ``Catch`` arrows are dotted and labelled with the errors they catch; a state with
  ``Retry`` says so with ↻.

Given the names of the states an execution entered (``path``), those states and the
arrows between consecutive ones are highlighted; ``failed`` marks where it failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

__all__ = ["AslError", "condition_text", "mermaid"]

_SHAPES = {"Choice": '{{"{}"}}', "Wait": '[/"{}"/]', "Succeed": '(["{}"])', "Fail": '(["{}"])',
           "Parallel": '[["{}"]]', "Map": '[["{}"]]'}
_BOX = '["{}"]'
_INTEGRATION = re.compile(r"^arn:[^:]+:states:::(?P<target>.+)$")
_OPERATORS = {"Equals": "==", "GreaterThan": ">", "GreaterThanEquals": ">=", "LessThan": "<",
              "LessThanEquals": "<="}
_TESTS = ("IsPresent", "IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
_STYLES = ["classDef taken fill:#dff3e4,stroke:#2e7d32,stroke-width:2px",
           "classDef failed fill:#fde2e0,stroke:#c62828,stroke-width:3px",
           "classDef failstate stroke:#c62828",
           "classDef terminal fill:#eeeeee,stroke:#9e9e9e"]
_LABEL_LIMIT = 48


class AslError(ValueError):
    """The document is not a state machine definition this can draw."""


def _quoted(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    if len(text) > _LABEL_LIMIT:
        text = text[:_LABEL_LIMIT - 1] + "…"
    return text.replace('"', "#quot;")


def _operand(rule: Mapping[str, Any], key: str) -> str:
    value = rule[key]
    return str(value) if key.endswith("Path") else json.dumps(value)


def condition_text(rule: Mapping[str, Any]) -> str:
    """A Choice rule as a short readable condition: ``$.score > 10``."""
    if "And" in rule or "Or" in rule:
        joiner = " and " if "And" in rule else " or "
        return joiner.join(f"({condition_text(part)})" for part in rule.get("And", rule.get("Or")))
    if "Not" in rule:
        return f"not ({condition_text(rule['Not'])})"
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"])
    variable = rule.get("Variable", "?")
    for key in rule:
        if key in _TESTS:
            return f"{variable} {key} {json.dumps(rule[key])}"
        base = key.removesuffix("Path")
        for kind in ("String", "Numeric", "Boolean", "Timestamp"):
            if base.startswith(kind) and base[len(kind):] in _OPERATORS:
                return f"{variable} {_OPERATORS[base[len(kind):]]} {_operand(rule, key)}"
            if base == f"{kind}Matches":
                return f"{variable} matches {_operand(rule, key)}"
    return "?"


def _task_target(resource: str) -> str:
    """What a Task calls, briefly: ``lambda``, ``sns:publish``, ``dynamodb:putItem``."""
    # Any partition (arn:aws:, arn:aws-cn:) or a template placeholder (arn:${Partition}:).
    integration = _INTEGRATION.match(resource)
    if integration:
        return integration["target"].split(".")[0]
    if ":lambda:" in resource or "Function" in resource:
        return "lambda"
    return "task"


@dataclass
class _Drawing:
    path: list[str]
    failed: str | None
    lines: list[str] = field(default_factory=list)
    ids: dict[tuple[int, str], str] = field(default_factory=dict)
    classes: dict[str, list[str]] = field(default_factory=dict)
    taken_links: list[int] = field(default_factory=list)
    joins: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # pending ends
    links: int = 0
    scopes: int = 0

    def node(self, scope: int, name: str) -> str:
        return self.ids.setdefault((scope, name), f"s{len(self.ids)}")

    def mark(self, node_id: str, css_class: str) -> None:
        self.classes.setdefault(css_class, []).append(node_id)

    def link(self, source: str, target: str, *, label: str = "", dotted: bool = False,
             taken: bool = False) -> None:
        arrow = "-.->" if dotted else "-->"
        text = f'|"{_quoted(label)}"|' if label else ""
        self.lines.append(f"    {source} {arrow}{text} {target}")
        if taken:
            self.taken_links.append(self.links)
        self.links += 1

    def followed(self, source: str, target: str) -> bool:
        return (source, target) in pairwise(self.path)


def _states_of(machine: Mapping[str, Any]) -> Mapping[str, Any]:
    states = machine.get("States")
    if not isinstance(states, Mapping) or machine.get("StartAt") not in states:
        raise AslError("a state machine needs States and a StartAt naming one of them")
    return states


def _draw_states(drawing: _Drawing, machine: Mapping[str, Any], exit_id: str) -> None:
    """Draw one States block (the machine or a branch); its ends lead to ``exit_id``."""
    states = _states_of(machine)
    scope = drawing.scopes
    drawing.scopes += 1
    for name in _in_flow_order(machine["StartAt"], states):
        _draw_state(drawing, scope, name, states[name], states, exit_id)


def _in_flow_order(first: str, states: Mapping[str, Any]) -> list[str]:
    """State names breadth first from StartAt (JSON key order is not kept by every API)."""
    order, queue = [first], [first]
    while queue:
        state = states[queue.pop(0)]
        for target, _, _ in _exits(state, state.get("Type", "Task")):
            if target in states and target not in order:
                order.append(target)
                queue.append(target)
    return order + [name for name in states if name not in order]


def _draw_state(drawing: _Drawing, scope: int, name: str, state: Mapping[str, Any],
                states: Mapping[str, Any], exit_id: str) -> None:
    kind = state.get("Type", "Task")
    node_id = drawing.node(scope, name)
    label = _quoted(name)
    if kind == "Task":
        label += f"<br/><small>{_task_target(str(state.get('Resource', '')))}</small>"
    if state.get("Retry"):
        label += " ↻"
    drawing.lines.append(f"    {node_id}{_SHAPES.get(kind, _BOX).format(label)}")
    if kind == "Fail":
        drawing.mark(node_id, "failstate")
    if name == drawing.failed:
        drawing.mark(node_id, "failed")
    elif name in drawing.path:
        drawing.mark(node_id, "taken")
    next_id = _draw_inner(drawing, name, node_id, state, kind) if kind in ("Parallel", "Map") \
        else node_id
    for target, label, dotted in _exits(state, kind):
        if target not in states:
            raise AslError(f"state {name!r} goes to {target!r}, which is not a state here")
        taken = drawing.followed(name, target)
        drawing.link(next_id if not dotted else node_id, drawing.node(scope, target),
                     label=label, dotted=dotted, taken=taken)
    if state.get("End") or kind == "Succeed":
        taken = name in drawing.path and name != drawing.failed
        if exit_id in drawing.joins:  # drawn after the branch's box, or Mermaid puts the
            drawing.joins[exit_id].append((next_id, taken))  # join inside the box
        else:
            drawing.link(next_id, exit_id, taken=taken)


def _exits(state: Mapping[str, Any], kind: str) -> Iterable[tuple[str, str, bool]]:
    """Where a state can go next: (target, label, dotted)."""
    if kind == "Choice":
        for rule in state.get("Choices", []):
            yield rule["Next"], condition_text(rule), False
        if "Default" in state:
            yield state["Default"], "otherwise", False
    elif "Next" in state:
        yield state["Next"], "", False
    for catcher in state.get("Catch", []):
        yield catcher["Next"], "catch " + ", ".join(catcher.get("ErrorEquals", [])), True


def _draw_inner(drawing: _Drawing, name: str, fork_id: str, state: Mapping[str, Any],
                kind: str) -> str:
    """Draw a Parallel's branches (or a Map's iterator); returns the join node's id."""
    join_id = f"{fork_id}_join"
    drawing.joins[join_id] = []
    branches = state.get("Branches", []) if kind == "Parallel" else \
        [state.get("ItemProcessor") or state.get("Iterator") or {}]
    for number, branch in enumerate(branches, 1):
        title = f"branch {number}" if kind == "Parallel" else "each item"
        drawing.lines.append(f'    subgraph {fork_id}_b{number} ["{_quoted(title)}"]')
        scope = drawing.scopes
        _draw_states(drawing, branch, join_id)
        drawing.lines.append("    end")
        start = drawing.node(scope, branch["StartAt"])
        entered = name in drawing.path and branch["StartAt"] in drawing.path
        drawing.link(fork_id, start, taken=entered)
    drawing.lines.append(f"    {join_id}((\" \"))")
    for source, taken in drawing.joins.pop(join_id):
        drawing.link(source, join_id, taken=taken)
    if name in drawing.path:
        drawing.mark(join_id, "taken")
    return join_id


def mermaid(definition: Mapping[str, Any] | str, *, path: Iterable[str] = (),
            failed: str | None = None) -> str:
    """The ASL ``definition`` (a dict or JSON text) as a Mermaid ``flowchart``.

    ``path`` lists the states an execution entered, in order; they are drawn highlighted.
    ``failed`` names the state where it failed, drawn in red.
    """
    machine = json.loads(definition) if isinstance(definition, str) else definition
    drawing = _Drawing(path=list(path), failed=failed)
    drawing.lines.append("flowchart TD")
    drawing.lines.append('    start(("start")):::terminal')
    drawing.lines.append('    finish(("end")):::terminal')
    _draw_states(drawing, machine, "finish")
    first = drawing.node(0, machine["StartAt"])
    drawing.link("start", first, taken=bool(drawing.path))
    drawing.lines.extend(f"    {style}" for style in _STYLES)
    for css_class, node_ids in drawing.classes.items():
        drawing.lines.append(f"    class {','.join(node_ids)} {css_class}")
    if drawing.taken_links:
        drawing.lines.append(f"    linkStyle {','.join(map(str, drawing.taken_links))} "
                             "stroke:#2e7d32,stroke-width:3px")
    return "\n".join(drawing.lines)
