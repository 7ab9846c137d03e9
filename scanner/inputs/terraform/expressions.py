"""Static evaluation of HCL expressions, over the syntax tree of checkov's `hcl2` parser.

The parser (bc-python-hcl2, a Lark grammar) keeps positions on every tree node; its own
dict output flattens expressions back to text, so we evaluate the tree instead. What cannot
be known before apply (resource attributes, unknown variables, functions we do not model)
evaluates to `UNKNOWN`; containers keep their known parts. The grammar has no
operator precedence; `_binary` restores HCL's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from scanner.inputs.terraform.functions import FUNCTIONS, PARTIAL_FUNCTIONS
from scanner.inputs.terraform.hcl import Tree, name_of, parse_expression, segments, unwrap
from scanner.inputs.terraform.operators import PRECEDENCE, flatten_binary, reduce_operators
from scanner.inputs.terraform.values import as_text, is_known, step_into, to_number
from scanner.rule import UNKNOWN


@dataclass
class Scope:
    """What names mean while evaluating: `resolve(root, steps)` answers references.

    `refs` collects the addresses of resources and data sources an expression refers to
    (module-absolute, without instance keys), so rules can link resources by reference.
    """

    resolve_ref: Callable[[str, list[Any], "Scope"], Any]
    bindings: dict[str, Any] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)

    def child(self, **bindings: Any) -> Scope:
        return Scope(self.resolve_ref, {**self.bindings, **bindings}, self.refs)


def evaluate(node: Any, scope: Scope) -> Any:
    try:
        return _evaluate(node, scope)
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RecursionError):
        return UNKNOWN


def _evaluate(node: Any, scope: Scope) -> Any:
    if not hasattr(node, "data"):
        return _string(str(node), scope)
    handler = _HANDLERS.get(node.data)
    return handler(node, scope) if handler else UNKNOWN


def _expr_term(node: Tree, scope: Scope) -> Any:
    return _evaluate(node.children[0], scope) if node.children else UNKNOWN


def _number(node: Tree, _scope: Scope) -> Any:
    text = "".join(str(c) for c in node.children)
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _tuple(node: Tree, scope: Scope) -> Any:
    return [_evaluate(child, scope) for child in node.children]


def _object(node: Tree, scope: Scope) -> Any:
    result: dict[str, Any] = {}
    for element in node.children:
        key_node, value_node = element.children[0], element.children[-1]
        if getattr(key_node, "data", None) == "identifier":
            key: Any = name_of(key_node)
        else:
            key = _evaluate(key_node, scope)
        if key is UNKNOWN or isinstance(key, (list, dict)):
            return UNKNOWN
        result[str(key)] = _evaluate(value_node, scope)
    return result


def _identifier(node: Tree, scope: Scope) -> Any:
    name = name_of(node)
    if name in ("true", "false"):
        return name == "true"
    if name == "null":
        return None
    if name in scope.bindings:
        return scope.bindings[name]
    return scope.resolve_ref(name, [], scope)


def _traversal(node: Tree, scope: Scope) -> tuple[Tree, list[Any]]:
    """Split `a.b[0].c` into its root term and steps (attribute names and index values)."""
    steps: list[Any] = []
    while getattr(node, "data", None) in ("get_attr_expr_term", "index_expr_term", "expr_term"):
        if node.data == "expr_term":
            if len(node.children) != 1 or getattr(node.children[0], "data", None) not in ("get_attr_expr_term", "index_expr_term"):
                break
            node = node.children[0]
            continue
        inner, step = node.children
        if node.data == "get_attr_expr_term":
            steps.insert(0, name_of(step.children[0]))
        else:
            index = step.children[0]
            steps.insert(0, int("".join(map(str, step.children))) if not hasattr(index, "data") else _evaluate(index, scope))
        node = inner
    return node, steps


def _reference(node: Tree, scope: Scope) -> Any:
    root, steps = _traversal(node, scope)
    root_term = root.children[0] if getattr(root, "data", None) == "expr_term" and root.children else root
    if getattr(root_term, "data", None) == "identifier":
        name = name_of(root_term)
        if name in scope.bindings:
            return step_into(scope.bindings[name], steps)
        return scope.resolve_ref(name, steps, scope)
    return step_into(_evaluate(root, scope), steps)


def reference_text(node: Tree) -> str | None:
    """`aws.use1` for a plain traversal of names (a provider reference), else None."""
    node = unwrap(node)
    names: list[str] = []
    while getattr(node, "data", None) == "get_attr_expr_term":
        inner, step = node.children
        names.insert(0, name_of(step.children[0]))
        node = unwrap(inner)
    if getattr(node, "data", None) == "identifier":
        return ".".join([name_of(node), *names])
    if not hasattr(node, "data") and str(node).startswith('"') and not names:
        return str(node)[1:-1]
    return None


def _conditional(node: Tree, scope: Scope) -> Any:
    return _choose(_evaluate(node.children[0], scope), node.children[1], node.children[2], scope)


def _choose(condition: Any, when_true: Tree, when_false: Tree, scope: Scope) -> Any:
    if condition is UNKNOWN or not isinstance(condition, bool):
        first, second = _evaluate(when_true, scope), _evaluate(when_false, scope)
        return first if is_known(first) and first == second else UNKNOWN
    return _evaluate(when_true if condition else when_false, scope)


def _binary(node: Tree, scope: Scope) -> Any:
    """The grammar nests every operator to the right, a trailing `? :` included, so
    `a == "x" ? b : c` arrives as `a == ("x" ? b : c)`: flatten, then apply HCL precedence."""
    items = flatten_binary(node)
    tail = items.pop() if isinstance(items[-1], tuple) else None
    values: list[Any] = [_evaluate(items[0], scope)]
    operators: list[str] = []
    for index in range(1, len(items), 2):
        operator = str(items[index])
        while operators and PRECEDENCE[operators[-1]] >= PRECEDENCE[operator]:
            reduce_operators(values, operators)
        operators.append(operator)
        values.append(_evaluate(items[index + 1], scope))
    while operators:
        reduce_operators(values, operators)
    if tail is None:
        return values[0]
    return _choose(values[0], tail[1], tail[2], scope)


def _unary(node: Tree, scope: Scope) -> Any:
    operator = str(node.children[0])
    value = _evaluate(node.children[1], scope)
    if value is UNKNOWN:
        return UNKNOWN
    return (not value) if operator == "!" else -to_number(value)


def _function(node: Tree, scope: Scope) -> Any:
    name = name_of(node.children[0])
    arguments_node = node.children[1] if len(node.children) > 1 else None
    argument_nodes = list(arguments_node.children) if arguments_node is not None else []
    expand = any(str(c) == "..." for c in argument_nodes if not hasattr(c, "data"))
    argument_nodes = [c for c in argument_nodes if hasattr(c, "data")]
    if name in ("try", "can"):
        return _try(argument_nodes, scope) if name == "try" else _can(argument_nodes, scope)
    arguments = [_evaluate(c, scope) for c in argument_nodes]
    if expand and arguments:
        if not isinstance(arguments[-1], list):
            return UNKNOWN
        arguments = arguments[:-1] + arguments[-1]
    function = FUNCTIONS.get(name)
    if function is None:
        return UNKNOWN
    if name not in PARTIAL_FUNCTIONS and not all(is_known(a) for a in arguments):
        return UNKNOWN
    return function(*arguments)


def _try(arguments: Sequence[Tree], scope: Scope) -> Any:
    """The first argument that is known; an argument that is certainly an error (a missing
    attribute of a known value) falls through to the next; anything else unknown stays so."""
    for argument in arguments:
        value = evaluate(argument, scope)
        if value is not UNKNOWN:
            return value
        if not _fails(argument, scope):
            return UNKNOWN
    return UNKNOWN


def _can(arguments: Sequence[Tree], scope: Scope) -> Any:
    if len(arguments) != 1:
        return UNKNOWN
    if evaluate(arguments[0], scope) is not UNKNOWN:
        return True
    return False if _fails(arguments[0], scope) else UNKNOWN


def _fails(node: Tree, scope: Scope) -> bool:
    """A traversal of a variable, local or iteration value that is certainly an error in
    Terraform: a key the known object lacks, an index past a known list, an attribute of null.
    Resources' attributes are never judged (their computed ones are simply not known here)."""
    root, steps = _traversal(node, scope)
    term = root.children[0] if getattr(root, "data", None) == "expr_term" and root.children else root
    if getattr(term, "data", None) != "identifier" or not steps:
        return False
    name = name_of(term)
    if name in scope.bindings:
        value = scope.bindings[name]
    elif name in ("var", "local"):
        value, steps = scope.resolve_ref(name, steps[:1], scope), steps[1:]
    else:
        return False
    for step in steps:
        if value is None:
            return True
        if not is_known(value) or step is UNKNOWN:
            return False
        if isinstance(value, Mapping):
            if str(step) not in value:
                return True
            value = value[str(step)]
        elif isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            if not -len(value) <= step < len(value):
                return True
            value = value[step]
        else:
            return True
    return False


def _for_tuple(node: Tree, scope: Scope) -> Any:
    parts = [c for c in node.children if hasattr(c, "data")]
    intro, body = parts[0], parts[1]
    condition = parts[2] if len(parts) > 2 else None
    bounds = _kept(intro, condition, scope)
    if bounds is None:
        return UNKNOWN
    return [_evaluate(body, bound) for bound in bounds]


def _for_object(node: Tree, scope: Scope) -> Any:
    parts = [c for c in node.children if hasattr(c, "data")]
    intro, key_node, value_node = parts[0], parts[1], parts[2]
    condition = parts[3] if len(parts) > 3 else None
    grouped = any(str(c) == "..." for c in node.children if not hasattr(c, "data"))
    bounds = _kept(intro, condition, scope)
    if bounds is None:
        return UNKNOWN
    result: dict[str, Any] = {}
    for bound in bounds:
        key = _evaluate(key_node, bound)
        if not is_known(key):
            return UNKNOWN
        value = _evaluate(value_node, bound)
        if grouped:
            result.setdefault(str(key), []).append(value)
        else:
            result[str(key)] = value
    return result


def _kept(intro: Tree, condition: Tree | None, scope: Scope) -> list[Scope] | None:
    """The iterations a `for` expression keeps after its `if`; None when any is unknown."""
    kept: list[Scope] = []
    for bound in _iterations(intro, scope):
        if bound is None:
            return None
        if condition is not None:
            keep = _evaluate(condition.children[-1], bound)
            if keep is UNKNOWN:
                return None
            if not keep:
                continue
        kept.append(bound)
    return kept


def _iterations(intro: Tree, scope: Scope) -> list[Scope | None]:
    names = [name_of(c) for c in intro.children if getattr(c, "data", None) == "identifier"]
    collection_node = [c for c in intro.children if hasattr(c, "data") and c.data != "identifier"][-1]
    collection = _evaluate(collection_node, scope)
    if isinstance(collection, Mapping):
        pairs = list(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        return [None]
    if len(names) == 1:
        return [scope.child(**{names[0]: value}) for _, value in pairs]
    return [scope.child(**{names[0]: key, names[1]: value}) for key, value in pairs]


def _splat(node: Tree, scope: Scope) -> Any:
    value = _evaluate(node.children[0], scope)
    if not isinstance(value, list):
        return UNKNOWN if value is UNKNOWN else ([] if value is None else UNKNOWN)
    steps: list[Any] = []
    for step in node.children[1].children:
        if step.data == "get_attr":
            steps.append(name_of(step.children[0]))
        else:
            steps.append(_evaluate(step.children[0], scope))
    return [step_into(item, steps) for item in value]


def _heredoc(node: Tree, scope: Scope) -> Any:
    text = str(node.children[0])
    body = text.split("\n", 1)[1].rsplit("\n", 1)[0]
    if node.data == "heredoc_template_trim":
        lines = body.split("\n")
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        body = "\n".join(line[indent:] for line in lines)
    return _template(body + "\n", scope, _literal)  # heredocs take backslashes literally


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1).startswith("u") else _ESCAPES.get(m.group(1), m.group(0)), text)


def _literal(text: str) -> str:
    return text


def _string(token: str, scope: Scope) -> Any:
    if not token.startswith('"'):
        return token
    # Escapes are undone in the literal parts only: an interpolation keeps its own quoted
    # strings (`"${join(", ", formatlist("\"%s\"", x))}"`) for its own parse.
    return _template(token[1:-1], scope, _unescape)


def _template(text: str, scope: Scope, literal: Callable[[str], str]) -> Any:
    """A string with `${...}` interpolations; `%{...}` directives are not modelled."""
    if "%{" in text.replace("%%{", ""):
        return UNKNOWN
    parts = [evaluate(parse_expression(source), scope) if is_expression else literal(source).replace("$${", "${")
             for is_expression, source in segments(text)]
    if len(parts) == 3 and parts[0] == "" and parts[2] == "":
        return parts[1]  # "${x}" keeps the type of x
    if not all(is_known(p) for p in parts):
        return UNKNOWN
    return "".join(as_text(p) for p in parts)


_HANDLERS: dict[str, Callable[[Tree, Scope], Any]] = {
    "expr_term": _expr_term,
    "int_lit": _number,
    "float_lit": _number,
    "tuple": _tuple,
    "object": _object,
    "identifier": _identifier,
    "get_attr_expr_term": _reference,
    "index_expr_term": _reference,
    "conditional": _conditional,
    "binary_op": _binary,
    "unary_op": _unary,
    "function_call": _function,
    "for_tuple_expr": _for_tuple,
    "for_object_expr": _for_object,
    "attr_splat_expr_term": _splat,
    "full_splat_expr_term": _splat,
    "heredoc_template": _heredoc,
    "heredoc_template_trim": _heredoc,
}
