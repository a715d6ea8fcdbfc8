"""The architecture as a Mermaid flowchart, generated from ``template.yaml``.

Nothing here is drawn by hand: every box is a resource of the template and every arrow
a reference between resources (``Ref``, ``GetAtt``, ``Sub``), so the picture changes when
the template does. Plumbing that a reader does not need to see (stages, integrations,
permissions, roles) is left out, and arrows through it are joined up: a route points
straight at the function its integration invokes.

Each resource says which lab introduces it (``Metadata.Workshop.Lab``), so a lab can
draw the backend as it stands after that lab, with its own new resources highlighted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..emulator.intrinsics import references
from ..emulator.template import load_template
from ..lab import TEMPLATE, lab_of

__all__ = ["CLIENTS", "architecture", "lab_map"]

CLIENTS = "players"

# type -> (label prefix, Mermaid shape as (opening, closing)); other types are not drawn.
_SHAPES: dict[str, tuple[str, tuple[str, str]]] = {
    "AWS::Serverless::Function": ("λ ", ("[", "]")),
    "AWS::Lambda::Function": ("λ ", ("[", "]")),
    "AWS::DynamoDB::Table": ("", ("[(", ")]")),
    "AWS::Serverless::SimpleTable": ("", ("[(", ")]")),
    "AWS::Serverless::StateMachine": ("⚙ ", ("{{", "}}")),
    "AWS::StepFunctions::StateMachine": ("⚙ ", ("{{", "}}")),
    "AWS::SNS::Topic": ("📣 ", (">", "]")),
    "AWS::SQS::Queue": ("", ("[/", "/]")),
    "AWS::S3::Bucket": ("", ("[(", ")]")),
}
_API = "AWS::ApiGatewayV2::Api"
_ROUTE = "AWS::ApiGatewayV2::Route"
_AUTHORIZER = "AWS::ApiGatewayV2::Authorizer"
_SUBSCRIPTION = "AWS::SNS::Subscription"
# Resources that only connect others: arrows run through them.
_PASS_THROUGH = {"AWS::ApiGatewayV2::Integration", _AUTHORIZER}
_NEW_STYLE = "fill:#fff3cd,stroke:#d39e00,stroke-width:2px"


def _refs(spec: Mapping[str, Any], names: set[str]) -> list[str]:
    """The resources ``spec`` points at, in a stable order (its DependsOn excluded)."""
    found = {name for name, _ in references(spec.get("Properties") or {}) if name in names}
    return sorted(found)


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def _node(logical_id: str, kind: str) -> str:
    prefix, (opening, closing) = _SHAPES[kind]
    return f"{logical_id}{opening}{_label(prefix + logical_id)}{closing}"


def _targets(name: str, resources: Mapping[str, Any], drawn: set[str],
             seen: frozenset[str] = frozenset()) -> list[str]:
    """What ``name`` points at among drawn resources, looking through pass-through ones."""
    found: list[str] = []
    for target in _refs(resources[name], set(resources)):
        if target in seen:
            continue
        if target in drawn:
            found.append(target)
        elif resources[target].get("Type") in _PASS_THROUGH:
            found += _targets(target, resources, drawn, seen | {name})
    return sorted(set(found))


def _subscriptions(resources: Mapping[str, Any], drawn: set[str]) -> list[str]:
    """A subscription is an arrow from its topic to its endpoint, not a box."""
    lines = []
    for spec in resources.values():
        if spec.get("Type") != _SUBSCRIPTION:
            continue
        properties = spec.get("Properties") or {}
        topic = _refs({"Properties": properties.get("TopicArn")}, drawn)
        endpoint = _refs({"Properties": properties.get("Endpoint")}, drawn)
        lines += [f"  {t} --> {e}" for t in topic for e in endpoint]
    return lines


def _schedules(resources: Mapping[str, Any], boxes: list[str]) -> list[str]:
    """A function's ``Schedule`` events, as a clock pointing at the function."""
    lines = []
    for name in boxes:
        events = (resources[name].get("Properties") or {}).get("Events") or {}
        for event_name, event in sorted(events.items()):
            if isinstance(event, Mapping) and event.get("Type") == "Schedule":
                when = str((event.get("Properties") or {}).get("Schedule", "schedule"))
                node = f"{name}{event_name}"
                lines += [f"  {node}([{_label('⏰ ' + when)}])", f"  {node} --> {name}"]
    return lines


def architecture(*, lab: int | None = None, highlight: bool = True,
                 template: Path | str = TEMPLATE, direction: str = "LR") -> str:
    """Mermaid source of the backend after ``lab`` (all of it when None).

    With ``highlight``, the resources that ``lab`` itself introduces are drawn in a
    colour of their own.
    """
    body = load_template(template).body
    resources: dict[str, Any] = {
        name: spec for name, spec in (body.get("Resources") or {}).items()
        if lab is None or (lab_of(spec) or 0) <= lab}
    kinds = {name: spec.get("Type", "") for name, spec in resources.items()}
    apis = [name for name, kind in kinds.items() if kind == _API]
    routes = {name: spec for name, spec in resources.items() if kinds[name] == _ROUTE}
    boxes = [name for name, kind in kinds.items() if kind in _SHAPES]
    drawn = set(apis) | set(routes) | set(boxes)

    lines = [f"flowchart {direction}", f'  {CLIENTS}(["🎮 players"])']
    for api in apis:
        lines.append(f"  subgraph {api}[{_label(api + ' · WebSocket API')}]")
        for name, spec in routes.items():
            if api in _refs(spec, {api}):
                key = str((spec.get("Properties") or {}).get("RouteKey", name))
                lines.append(f"    {name}[{_label(key)}]")
        lines.append("  end")
        lines.append(f"  {CLIENTS} <-->|WebSocket| {api}")
    lines += [f"  {_node(name, kinds[name])}" for name in boxes]

    for name in [*routes, *boxes]:
        for target in _targets(name, resources, drawn):
            if kinds[target] == _ROUTE:
                continue
            if kinds[target] == _API:
                if name in boxes:       # a function that answers through @connections
                    lines.append(f"  {name} -.->|{_label('@connections')}| {CLIENTS}")
                continue
            lines.append(f"  {name} --> {target}")
    lines += _subscriptions(resources, drawn)
    lines += _schedules(resources, boxes)

    if highlight and lab is not None:
        new = [name for name in drawn if lab_of(resources[name]) == lab]
        if new:
            lines.append(f"  classDef new {_NEW_STYLE}")
            lines.append(f"  class {','.join(sorted(new))} new")
    return "\n".join(lines)


def lab_map(*, template: Path | str = TEMPLATE,
            notebooks: Path | str | None = None) -> pd.DataFrame:
    """Which lab introduces which resources, with the notebook that teaches it."""
    template = Path(template)
    folder = Path(notebooks) if notebooks else template.parent / "notebooks"
    body = load_template(template).body
    introduced: dict[int, list[str]] = defaultdict(list)
    for name, spec in (body.get("Resources") or {}).items():
        lab = lab_of(spec)
        if lab is not None:
            introduced[lab].append(name)
    rows = []
    for lab, names in sorted(introduced.items()):
        found = sorted(folder.glob(f"{lab:02d}_*.ipynb"))
        rows.append({"lab": lab, "notebook": found[0].name if found else "",
                     "new resources": ", ".join(names)})
    return pd.DataFrame(rows, columns=["lab", "notebook", "new resources"])
