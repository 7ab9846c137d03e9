"""Duplicate mapping keys: find every one, and decode the template keeping either value.

cfn-lint's decoder refuses a template with duplicate keys (and names only the first mapping
that has them). CloudFormation refuses it too, but a parser that keeps the last value reads a
different template than a reader of the file sees, so the first value is where a violation
hides. We compose the YAML node graph (the nesting limit was checked before), list every
duplicate, and construct the document twice: first values kept, last values kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Duplicate:
    key: str
    line: int  # the later occurrence
    first_line: int


@dataclass(frozen=True)
class Variants:
    first: Any
    last: Any


def decode_variants(text: str) -> tuple[Variants, list[Duplicate]]:
    """Both readings of a template with duplicate keys; raises what the YAML loader raises."""
    from cfnlint.decode import cfn_yaml
    from yaml import MappingNode

    loader = cfn_yaml.CfnFullLoader(text, None)
    loader.add_multi_constructor("!", cfn_yaml.multi_constructor)
    root = loader.get_single_node()
    duplicates: list[Duplicate] = []
    choices: list[tuple[Any, list[Any], list[Any]]] = []  # (mapping node, first-wins, last-wins)
    stack = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first, last, found = _split(node.value)
            duplicates.extend(found)
            if found:
                choices.append((node, first, last))
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node.value, list):
            stack.extend(node.value)
    try:
        for node, first, _ in choices:
            node.value = first
        first_data = loader.construct_document(root)
        for node, _, last in choices:
            node.value = last
        last_data = loader.construct_document(root)
    finally:
        loader.dispose()
    return Variants(first_data, last_data), sorted(duplicates, key=lambda d: (d.line, d.key))


def _split(pairs: list[tuple[Any, Any]]) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]], list[Duplicate]]:
    """The pairs with first values kept, with last values kept, and the duplicates found."""
    first_at: dict[str, int] = {}
    last_index: dict[str, int] = {}
    found: list[Duplicate] = []
    for index, (key_node, _) in enumerate(pairs):
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node.value, str):
            continue
        key = key_node.value
        if key in first_at:
            found.append(Duplicate(key, key_node.start_mark.line + 1, pairs[first_at[key]][0].start_mark.line + 1))
        else:
            first_at[key] = index
        last_index[key] = index
    if not found:
        return pairs, pairs, []
    first = [pair for index, pair in enumerate(pairs) if not _keyed(pair) or first_at[pair[0].value] == index]
    last = [pair for index, pair in enumerate(pairs) if not _keyed(pair) or last_index[pair[0].value] == index]
    return first, last, found


def _keyed(pair: tuple[Any, Any]) -> bool:
    key_node = pair[0]
    return key_node.tag != "tag:yaml.org,2002:merge" and isinstance(key_node.value, str)
