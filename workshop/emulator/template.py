"""Read a CloudFormation / SAM template file into plain Python data.

YAML templates use CloudFormation's short tags (``!Ref``, ``!GetAtt``, ``!Sub`` …); they
become the long forms (``{"Ref": …}``, ``{"Fn::GetAtt": […]}``) so that everything after
this module sees one representation, the JSON one. The errors of every deploy stage live
here too, because this is the first stage: each names the file, the resource and the
problem, since a learner fixes a template from that one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "SHORT_TAGS",
    "DeployError",
    "ProvisionError",
    "Template",
    "TemplateError",
    "load_template",
    "parse_yaml",
]


class DeployError(Exception):
    """A deploy did not happen (or stopped); the message says where and why."""


class TemplateError(DeployError):
    """The template (or a file it points at) is wrong; nothing was changed."""

    def __init__(self, problem: str, *, file: Path | str | None = None,
                 resource: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.resource = resource
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.file or "template"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.resource:
            return f"{where}: {self.resource}: {self.problem}"
        return f"{where}: {self.problem}"

    def located(self, *, file: Path | str | None = None, resource: str | None = None,
                line: int | None = None) -> TemplateError:
        """The same error with the gaps (file, resource, line) filled in."""
        return TemplateError(self.problem, file=self.file or file,
                             resource=self.resource or resource,
                             line=self.line if self.line is not None else line,
                             column=self.column)


class ProvisionError(DeployError):
    """The local cloud refused a change while a (valid) plan was being applied.

    ``rolled_back`` says whether the deploy's changes were undone (CloudFormation's
    ROLLBACK_COMPLETE / UPDATE_ROLLBACK_COMPLETE) or some remain (…_ROLLBACK_FAILED);
    ``logical_id`` names the resource that failed, when known.
    """

    def __init__(self, message: str, *, rolled_back: bool = False,
                 logical_id: str | None = None) -> None:
        super().__init__(message)
        self.rolled_back = rolled_back
        self.logical_id = logical_id


# Short tag -> long form. ``!GetAtt a.b`` and ``!Condition x`` need their own shapes.
SHORT_TAGS: dict[str, str] = {
    "Ref": "Ref", "Condition": "Condition",
    **{name: f"Fn::{name}" for name in (
        "GetAtt", "Sub", "Join", "If", "Select", "Split", "Equals", "Not", "And", "Or",
        "FindInMap", "GetAZs", "Base64", "ImportValue", "Cidr", "Transform", "ToJsonString",
        "Length")},
}


@dataclass(frozen=True)
class Template:
    """A loaded template: its body, where it came from, and where each entry starts."""

    path: Path
    body: dict[str, Any]
    # "Resources.MyTable" -> line number (1-based), for error messages.
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """Where relative paths in the template (CodeUri, DefinitionUri) start."""
        return self.path.resolve().parent

    def line_of(self, section: str, name: str) -> int | None:
        return self.lines.get(f"{section}.{name}")


# libyaml's parser when PyYAML has it: ten times faster, and redeploys parse every time.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with CloudFormation's tags, no timestamps and no duplicate keys."""


# CloudFormation reads ``Version: 2012-10-17`` as a string, not a date.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_short_tag(loader: _Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = SHORT_TAGS.get(tag_suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag !{tag_suffix} (not a CloudFormation intrinsic function)",
            node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r} (the later value would silently win)",
                key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_multi_constructor("!", _construct_short_tag)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _section_lines(root: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, value_node in root.value:
        if isinstance(value_node, yaml.MappingNode) and isinstance(key_node, yaml.ScalarNode):
            for entry_key, _ in value_node.value:
                if isinstance(entry_key, yaml.ScalarNode):
                    lines[f"{key_node.value}.{entry_key.value}"] = entry_key.start_mark.line + 1
    return lines


def _enclosing_resource(text: str, line: int) -> str | None:
    """The Resources entry that (1-based) ``line`` falls in, judged by indentation.

    A YAML error stops the parser, so the data cannot say; the text usually can.
    """
    lines = text.splitlines()
    start = next((i for i, raw in enumerate(lines) if re.match(r"^Resources\s*:", raw)), None)
    if start is None or line - 1 <= start:
        return None
    indent: int | None = None
    name: str | None = None
    for raw in lines[start + 1:line]:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        width = len(raw) - len(raw.lstrip())
        if width == 0:
            return None  # past the Resources section
        indent = width if indent is None else indent
        if width == indent:
            found = re.match(r"\s*([A-Za-z0-9]+)\s*:", raw)
            name = found.group(1) if found else None
    return name


def parse_yaml(text: str, *, file: Path | str) -> tuple[Any, dict[str, int]]:
    """Parse YAML with CloudFormation tags; returns the data and the section line numbers."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, {}
        return loader.construct_document(root), _section_lines(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(part for part in (error.context, error.problem) if part)
        line = mark.line + 1 if mark else None
        raise TemplateError(f"YAML error: {problem}", file=file, line=line,
                            resource=_enclosing_resource(text, line) if line else None,
                            column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise TemplateError(f"YAML error: {error}", file=file) from None
    finally:
        loader.dispose()


def load_template(path: Path | str) -> Template:
    """Read a YAML or JSON template; any problem is a TemplateError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"cannot read the template: {error}", file=path) from None
    if text.lstrip().startswith("{"):
        try:
            body: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(f"JSON error: {error.msg}", file=path, line=error.lineno,
                                column=error.colno) from None
        lines: dict[str, int] = {}
    else:
        body, lines = parse_yaml(text, file=path)
    if not isinstance(body, dict):
        raise TemplateError("a template must be a mapping with a Resources section", file=path)
    if not isinstance(body.get("Resources"), dict) or not body["Resources"]:
        raise TemplateError("the template has no Resources", file=path)
    return Template(path=path, body=body, lines=lines)
