"""HCL's binary operators: the grammar nests every operator to the right, so an expression is
flattened to operands and operators, then reduced with HCL's precedence (`expressions._binary`)."""

from __future__ import annotations

import math
from typing import Any, Callable

from scanner.inputs.terraform.hcl import Tree
from scanner.inputs.terraform.values import is_known, to_number
from scanner.rule import UNKNOWN


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: math.fmod(a, b),
    "&&": lambda a, b: a and b,
    "||": lambda a, b: a or b,
}


PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


def flatten_binary(node: Tree) -> list[Any]:
    left, term = node.children
    operator = str(term.children[0].children[0])
    left_items = flatten_binary(left) if getattr(left, "data", None) == "binary_op" else [left]
    if left_items and isinstance(left_items[-1], tuple):
        left_items = [left]  # a conditional inside the left operand stays whole
    return [*left_items, operator, *_right_items(term.children[-1])]


def _right_items(node: Any) -> list[Any]:
    kind = getattr(node, "data", None)
    if kind == "binary_op":
        return flatten_binary(node)
    if kind == "conditional":
        condition = _right_items(node.children[0])
        if isinstance(condition[-1], tuple):
            return [node]
        return [*condition, ("?", node.children[1], node.children[2])]
    return [node]


def reduce_operators(values: list[Any], operators: list[str]) -> None:
    right, left = values.pop(), values.pop()
    values.append(apply_operator(operators.pop(), left, right))


def apply_operator(operator: str, left: Any, right: Any) -> Any:
    if operator == "&&" and (left is False or right is False):
        return False
    if operator == "||" and (left is True or right is True):
        return True
    if not is_known(left) or not is_known(right):
        return UNKNOWN
    try:
        if operator in ("+", "-", "*", "/", "%", "<", ">", "<=", ">="):
            left, right = to_number(left), to_number(right)
        return _BINARY[operator](left, right)
    except (TypeError, ValueError, ArithmeticError):
        return UNKNOWN
