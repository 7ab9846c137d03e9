"""A variable's value conformed to its declared type: the defaults of `optional(type, default)`
attributes filled in, at any depth."""

from __future__ import annotations

from typing import Any, Mapping

from scanner.inputs.terraform.expressions import Scope, evaluate
from scanner.inputs.terraform.hcl import Tree, name_of, unwrap
from scanner.rule import UNKNOWN


def conform(type_node: Tree, value: Any, scope: Scope) -> Any:
    """A variable's value with the defaults of its type's `optional(type, default)` attributes
    filled in, at any depth (objects in lists, maps, tuples and objects). An attribute that is
    absent or null takes the default (null without one); an unknown one stays unknown."""
    call = _type_call(type_node)
    if call is None or value is UNKNOWN or value is None:
        return value
    name, arguments = call
    if name == "optional" and arguments:
        return conform(arguments[0], value, scope)
    if name == "object" and arguments and isinstance(value, Mapping):
        return _conform_object(_object_types(arguments[0]), value, scope)
    if name in ("list", "set") and arguments and isinstance(value, list):
        return [conform(arguments[0], item, scope) for item in value]
    if name == "map" and arguments and isinstance(value, Mapping):
        return {key: conform(arguments[0], item, scope) for key, item in value.items()}
    if name == "tuple" and arguments and isinstance(value, list):
        types = _tuple_types(arguments[0])
        return [conform(types[i], item, scope) if i < len(types) else item for i, item in enumerate(value)]
    return value


def _conform_object(types: Mapping[str, Tree], value: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    result = dict(value)
    for key, attribute_type in types.items():
        call = _type_call(attribute_type)
        if call is not None and call[0] == "optional" and result.get(key) is None:
            default = evaluate(call[1][1], scope) if len(call[1]) > 1 else None
            result[key] = conform(call[1][0], default, scope) if call[1] else default
        elif key in result:
            result[key] = conform(attribute_type, result[key], scope)
    return result


def _type_call(node: Tree) -> tuple[str, list[Tree]] | None:
    """(name, argument nodes) of a type expression: `object({...})`, `list(T)`, `string`."""
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    kind = getattr(node, "data", None)
    if kind == "identifier":
        return name_of(node), []
    if kind != "function_call":
        return None
    arguments = node.children[1].children if len(node.children) > 1 else []
    return name_of(node.children[0]), [c for c in arguments if hasattr(c, "data")]


def _object_types(node: Tree) -> dict[str, Tree]:
    spec = unwrap(node)
    if getattr(spec, "data", None) != "object":
        return {}
    types: dict[str, Tree] = {}
    for element in spec.children:
        key = unwrap(element.children[0])
        text = name_of(key) if getattr(key, "data", None) == "identifier" else str(key).strip('"') if not hasattr(key, "data") else None
        if text is not None:
            types[text] = element.children[-1]
    return types


def _tuple_types(node: Tree) -> list[Tree]:
    spec = unwrap(node)
    return list(spec.children) if getattr(spec, "data", None) == "tuple" else []
