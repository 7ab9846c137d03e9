"""A fast path for decoding templates: PyYAML's C parser, without importing cfn-lint.

cfn-lint's decoder costs about a second to import (it loads cfn-lint's rule machinery), more
than a whole one-file pre-commit run may take. This module gives exactly what
`cfn.plain_with_lines(cfnlint.decode.decode_str(text))` gives -- the same data, the same line
map (the tests compare both on every template of the corpora) -- for the templates people
write. Whatever it does not reproduce exactly (merge keys, duplicate or non-string keys,
unusual tags, a syntax error) it leaves to cfn-lint's decoder by returning None, so errors
are still reported with cfn-lint's messages and lines.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scanner.model import PropertyPath

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML = "tag:yaml.org,2002:"
_PLAIN_SCALARS = {f"{_YAML}{name}" for name in ("int", "float", "bool", "null", "timestamp")}
_UNPREFIXED = ("Ref", "Condition")  # cfn-lint: every other short form becomes Fn::<name>

Lines = dict[PropertyPath, tuple[int, int]]


class _Unsupported(Exception):
    """Leave this template to cfn-lint's decoder."""


def decode(text: str) -> tuple[Any, Lines] | None:
    """(data, lines) as the cfn-lint path would give them, or None: use that path."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
        if node is None:
            return None
        lines: Lines = {}
        return _Walker(lines).value(node, ()), lines
    except (_Unsupported, yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None


def _span(node: Node) -> tuple[int, int]:
    start, end = node.start_mark, node.end_mark
    last = end.line if end.column == 0 and end.line > start.line else end.line + 1
    return start.line + 1, max(last, start.line + 1)


class _Walker:
    """Builds plain data; records a line span exactly where cfn-lint's nodes carry marks."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.scalars = SafeConstructor()

    def value(self, node: Node, path: PropertyPath) -> Any:
        tag = node.tag
        if tag.startswith("!"):
            return self._short_form(node, path)
        if isinstance(node, MappingNode) and tag == f"{_YAML}map":
            self.lines[path] = _span(node)
            return self._mapping(node, path)
        if isinstance(node, SequenceNode) and tag == f"{_YAML}seq":
            self.lines[path] = _span(node)
            return [self.value(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, ScalarNode) and tag == f"{_YAML}str":
            self.lines[path] = _span(node)
            return str(node.value)
        if isinstance(node, ScalarNode) and tag in _PLAIN_SCALARS:
            return self.scalars.construct_object(node, deep=True)  # int, float, bool, None, date: no marks
        raise _Unsupported(tag)

    def _mapping(self, node: MappingNode, path: PropertyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag == f"{_YAML}str"):
                raise _Unsupported("a key that is not a plain string (or a merge key)")
            key = str(key_node.value)
            if key in out:
                raise _Unsupported("duplicate key: cfn-lint reports it")
            child = (*path, key)
            out[key] = self.value(value_node, child)
            key_span, value_span = _span(key_node), self.lines.get(child)
            self.lines[child] = (key_span[0], max(key_span[1], value_span[1] if value_span else 0))
        return out

    def _short_form(self, node: Node, path: PropertyPath) -> dict[str, Any]:
        """`!Ref x` -> {"Ref": x}, `!GetAtt a.b` -> {"Fn::GetAtt": ["a", "b"]}, `!Sub` -> {"Fn::Sub": ...}."""
        name = node.tag[1:]
        if not name or name.startswith("!"):
            raise _Unsupported(node.tag)
        key = name if name in _UNPREFIXED else f"Fn::{name}"
        self.lines[path] = _span(node)
        inner = (*path, key)
        if key == "Fn::GetAtt":
            return {key: self._get_att(node, inner)}
        if isinstance(node, ScalarNode):
            return {key: str(node.value)}  # cfn-lint keeps the raw text: `!Ref 5` is "5"
        if isinstance(node, SequenceNode):
            return {key: [self.value(item, (*inner, index)) for index, item in enumerate(node.value)]}
        raise _Unsupported("a short-form function over a mapping")

    def _get_att(self, node: Node, path: PropertyPath) -> list[Any]:
        self.lines[path] = _span(node)
        if isinstance(node, ScalarNode):
            return str(node.value).split(".", 1)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, index)) for index, item in enumerate(node.value)]
        raise _Unsupported("!GetAtt over a mapping")
