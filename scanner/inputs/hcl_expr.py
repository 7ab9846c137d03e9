"""Static evaluation of HCL expressions, over the syntax tree of checkov's `hcl2` parser.

The parser (bc-python-hcl2, a Lark grammar) keeps positions on every tree node; its own
dict output flattens expressions back to text, so we evaluate the tree instead. What cannot
be known before apply (resource attributes, unknown variables, functions we do not model)
evaluates to `UNKNOWN`; containers keep their known parts. The grammar has no
operator precedence; `_binary` restores HCL's.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping, Sequence

from scanner.rule import UNKNOWN

Tree = Any  # lark.Tree; lark is imported lazily through hcl2


def is_known(value: Any) -> bool:
    """Fully known: no UNKNOWN anywhere inside."""
    if value is UNKNOWN:
        return False
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


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


# hcl2's string terminals nest quantifiers, `(?:x+)+` inside `(...)*`: on a string that never
# closes (`"a_${b" ...`) the regex engine backtracks exponentially, in C, where no timeout can
# interrupt it (49 bytes took hours). Each replacement matches the same language with one
# character per repetition, so a failing match is linear. `\n+\s*` in the heredoc closers is
# `\n\s*` (cubic on blank lines before a missing closer otherwise).
_LINEAR_TERMINALS = {
    r'/(?:(?!\${)([^"\\]|\\.))+/+': r'/(?!\${)(?:[^"\\]|\\.)/',
    r'/(?:(?!\${)([^}"]))+/': r'/(?!\${)[^}"]/',
    r"\n+\s*(?P=heredoc)": r"\n\s*(?P=heredoc)",
    r"\n+\s*(?P=heredoc_trim)": r"\n\s*(?P=heredoc_trim)",
}


def linear_grammar(grammar: str) -> str:
    """hcl2's grammar with its backtracking-prone terminals rewritten (see above)."""
    for slow, linear in _LINEAR_TERMINALS.items():
        grammar = grammar.replace(slow, linear)
    return grammar


@lru_cache(maxsize=1)
def _parser() -> Any:
    """hcl2's grammar in our own Lark instance, without position propagation (40% faster):
    tokens keep their lines, and `span` reads them only where a line is needed."""
    from importlib.resources import files

    from lark import Lark

    grammar = files("hcl2").joinpath("hcl2.lark").read_text(encoding="utf-8")
    return Lark(grammar=linear_grammar(grammar), parser="lalr", propagate_positions=False, cache=True)


def parse_hcl(text: str) -> Tree:
    """The Lark tree of a file; raises on a syntax error (the caller makes it a finding)."""
    return _parser().parse(text.replace("\r\n", "\n") + "\n")


def span(node: Tree) -> tuple[int, int]:
    """(first, last) line of a tree node, from its first and last tokens."""
    first = last = None
    stack = [node]
    while stack:  # leftmost token
        current = stack.pop()
        if not hasattr(current, "data"):
            first = current
            break
        stack.extend(reversed(current.children))
    stack = [node]
    while stack:  # rightmost token
        current = stack.pop()
        if not hasattr(current, "data"):
            last = current
            break
        stack.extend(current.children)
    start = getattr(first, "line", None) or 1
    end = getattr(last, "end_line", None) or start
    return start, max(start, end)


@lru_cache(maxsize=8192)
def _parse_expression(text: str) -> Tree:
    """The tree of an interpolation's text (cached: the file check and the evaluator both ask;
    trees are never modified)."""
    from lark.exceptions import LarkError

    try:
        tree = parse_hcl(f"__expr__ = {text}\n")
    except LarkError as exc:  # not an expression (`${:x}`): its value is unknown, like any other
        raise ValueError(f"not an HCL expression: {text!r}") from exc
    return tree.children[0].children[0].children[1]


def name_of(node: Tree) -> str:
    """Text of an identifier node or a string-literal label."""
    if hasattr(node, "data"):
        return str(node.children[0])
    text = str(node)
    return text[1:-1] if text.startswith('"') else text


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
    node = _unwrap(node)
    names: list[str] = []
    while getattr(node, "data", None) == "get_attr_expr_term":
        inner, step = node.children
        names.insert(0, name_of(step.children[0]))
        node = _unwrap(inner)
    if getattr(node, "data", None) == "identifier":
        return ".".join([name_of(node), *names])
    if not hasattr(node, "data") and str(node).startswith('"') and not names:
        return str(node)[1:-1]
    return None


def step_into(value: Any, steps: Sequence[Any]) -> Any:
    for step in steps:
        if value is UNKNOWN or step is UNKNOWN:
            return UNKNOWN
        if isinstance(value, Mapping):
            if str(step) not in value:
                return UNKNOWN
            value = value[str(step)]
        elif isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            value = value[step]
        else:
            return UNKNOWN
    return value


def _conditional(node: Tree, scope: Scope) -> Any:
    return _choose(_evaluate(node.children[0], scope), node.children[1], node.children[2], scope)


def _choose(condition: Any, when_true: Tree, when_false: Tree, scope: Scope) -> Any:
    if condition is UNKNOWN or not isinstance(condition, bool):
        first, second = _evaluate(when_true, scope), _evaluate(when_false, scope)
        return first if is_known(first) and first == second else UNKNOWN
    return _evaluate(when_true if condition else when_false, scope)


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


_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


def _binary(node: Tree, scope: Scope) -> Any:
    """The grammar nests every operator to the right, a trailing `? :` included, so
    `a == "x" ? b : c` arrives as `a == ("x" ? b : c)`: flatten, then apply HCL precedence."""
    items = _flatten_binary(node)
    tail = items.pop() if isinstance(items[-1], tuple) else None
    values: list[Any] = [_evaluate(items[0], scope)]
    operators: list[str] = []
    for index in range(1, len(items), 2):
        operator = str(items[index])
        while operators and _PRECEDENCE[operators[-1]] >= _PRECEDENCE[operator]:
            _reduce(values, operators)
        operators.append(operator)
        values.append(_evaluate(items[index + 1], scope))
    while operators:
        _reduce(values, operators)
    if tail is None:
        return values[0]
    return _choose(values[0], tail[1], tail[2], scope)


def _flatten_binary(node: Tree) -> list[Any]:
    left, term = node.children
    operator = str(term.children[0].children[0])
    left_items = _flatten_binary(left) if getattr(left, "data", None) == "binary_op" else [left]
    if left_items and isinstance(left_items[-1], tuple):
        left_items = [left]  # a conditional inside the left operand stays whole
    return [*left_items, operator, *_right_items(term.children[-1])]


def _right_items(node: Any) -> list[Any]:
    kind = getattr(node, "data", None)
    if kind == "binary_op":
        return _flatten_binary(node)
    if kind == "conditional":
        condition = _right_items(node.children[0])
        if isinstance(condition[-1], tuple):
            return [node]
        return [*condition, ("?", node.children[1], node.children[2])]
    return [node]


def _reduce(values: list[Any], operators: list[str]) -> None:
    right, left = values.pop(), values.pop()
    values.append(_apply(operators.pop(), left, right))


def _apply(operator: str, left: Any, right: Any) -> Any:
    if operator == "&&" and (left is False or right is False):
        return False
    if operator == "||" and (left is True or right is True):
        return True
    if not is_known(left) or not is_known(right):
        return UNKNOWN
    try:
        if operator in ("+", "-", "*", "/", "%", "<", ">", "<=", ">="):
            left, right = _to_number(left), _to_number(right)
        return _BINARY[operator](left, right)
    except (TypeError, ValueError, ArithmeticError):
        return UNKNOWN


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("not a number")
    number = float(value)
    return int(number) if number.is_integer() else number


def _unary(node: Tree, scope: Scope) -> Any:
    operator = str(node.children[0])
    value = _evaluate(node.children[1], scope)
    if value is UNKNOWN:
        return UNKNOWN
    return (not value) if operator == "!" else -_to_number(value)


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
    if name not in _PARTIAL_FUNCTIONS and not all(is_known(a) for a in arguments):
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


def _unwrap(node: Tree) -> Tree:
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return node


def _object_types(node: Tree) -> dict[str, Tree]:
    spec = _unwrap(node)
    if getattr(spec, "data", None) != "object":
        return {}
    types: dict[str, Tree] = {}
    for element in spec.children:
        key = _unwrap(element.children[0])
        text = name_of(key) if getattr(key, "data", None) == "identifier" else str(key).strip('"') if not hasattr(key, "data") else None
        if text is not None:
            types[text] = element.children[-1]
    return types


def _tuple_types(node: Tree) -> list[Tree]:
    spec = _unwrap(node)
    return list(spec.children) if getattr(spec, "data", None) == "tuple" else []


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
    parts = [evaluate(_parse_expression(source), scope) if is_expression else literal(source).replace("$${", "${")
             for is_expression, source in _segments(text)]
    if len(parts) == 3 and parts[0] == "" and parts[2] == "":
        return parts[1]  # "${x}" keeps the type of x
    if not all(is_known(p) for p in parts):
        return UNKNOWN
    return "".join(_as_text(p) for p in parts)


def _segments(text: str) -> Iterator[tuple[bool, str]]:
    """(is an interpolation, its text) for the literal and `${...}` parts of a template."""
    position = 0
    while True:
        start = text.find("${", position)
        while start > 0 and text[start - 1] == "$":  # `$${` is a literal `${`
            start = text.find("${", start + 2)
        if start < 0:
            yield False, text[position:]
            return
        yield False, text[position:start]
        end = _closing_brace(text, start + 2)
        yield True, text[start + 2:end].strip().strip("~").strip()
        position = end + 1


def malformed_interpolations(tree: Tree) -> Iterator[tuple[int, str]]:
    """(line, text) of every `${...}` in the tree's strings and heredocs that is no expression:
    the HCL grammar accepts any text there, `terraform validate` does not."""
    stack = [tree]
    while stack:  # iterative: nesting depth is bounded by the file, not by the interpreter
        token = stack.pop()
        if hasattr(token, "data"):
            stack.extend(reversed(token.children))
            continue
        text = str(token)
        if "${" not in text:
            continue
        if text.startswith('"'):
            body = text[1:-1]
        elif text.startswith("<<"):
            body = text.split("\n", 1)[-1]
        else:
            continue
        try:
            for is_expression, source in _segments(body):
                if is_expression:
                    try:
                        _parse_expression(source)
                    except ValueError:
                        yield getattr(token, "line", 1), source
        except ValueError:  # an interpolation that never closes
            yield getattr(token, "line", 1), body[body.rfind("${") + 2:]


def _closing_brace(text: str, index: int) -> int:
    depth, quote = 1, False
    while index < len(text):
        char = text[index]
        if char == "\\" and quote:
            index += 2
            continue
        if char == '"':
            quote = not quote
        elif not quote and char == "{":
            depth += 1
        elif not quote and char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise ValueError("unterminated interpolation")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        raise TypeError("cannot interpolate a collection")
    return "" if value is None else str(value)


def jsonencode(value: Any) -> Any:
    """JSON text of a known value; a value with unknown parts stays a structure with UNKNOWN
    leaves (a string cannot hold an unknown, and policy rules read the structure)."""
    if is_known(value):
        return json.dumps(value, separators=(",", ":"))
    return value


def _jsondecode(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _format(spec: str, *values: Any) -> str:
    iterator = iter(values)

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = next(iterator)
        return str(int(value)) if match.group(1) == "d" else _as_text(value) if match.group(1) in "sv" else str(value)

    return re.sub(r"%%|%[-+# 0-9.]*([a-zA-Z])", one, spec)


def _merge(*maps: Any) -> Any:
    result: dict[str, Any] = {}
    for item in maps:
        if item is UNKNOWN or not isinstance(item, Mapping):
            return UNKNOWN
        result.update(item)
    return result


def _concat(*lists: Any) -> Any:
    if not all(isinstance(item, list) for item in lists):
        return UNKNOWN
    return [x for item in lists for x in item]


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if not isinstance(mapping, Mapping) or key is UNKNOWN:
        return UNKNOWN
    if key in mapping:
        return mapping[key]
    return default[0] if default else UNKNOWN


MAX_RANGE = 10_000


def _range(*bounds: Any) -> list[int]:
    values = range(*map(int, bounds))
    if len(values) > MAX_RANGE:
        raise ValueError("range too large to evaluate")
    return list(values)


def _flatten(value: list[Any]) -> list[Any]:
    return [y for x in value for y in (_flatten(x) if isinstance(x, list) else [x])]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": jsonencode,
    "jsondecode": _jsondecode,
    "tostring": lambda v: _as_text(v),
    "tonumber": _to_number,
    "tobool": lambda v: v if isinstance(v, bool) else str(v) == "true",
    "tolist": list,
    "toset": lambda v: list(dict.fromkeys(v)),
    "tomap": dict,
    "merge": _merge,
    "concat": _concat,
    "lookup": _lookup,
    "format": _format,
    "lower": str.lower,
    "upper": str.upper,
    "trimspace": str.strip,
    "join": lambda sep, items: sep.join(_as_text(i) for i in items),
    "split": lambda sep, text: text.split(sep),
    "replace": lambda text, old, new: text.replace(old, new),
    "length": len,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "flatten": _flatten,
    "distinct": lambda items: [json.loads(i) for i in dict.fromkeys(json.dumps(i, sort_keys=True) for i in items)],
    "contains": lambda items, item: item in items,
    "coalesce": _coalesce,
    "compact": lambda items: [i for i in items if i not in (None, "")],
    "element": lambda items, index: items[int(index) % len(items)],
    "range": _range,
    "zipmap": lambda ks, vs: dict(zip(map(str, ks), vs)),
    "min": min,
    "max": max,
    "abs": abs,
}
# These keep known parts of partly unknown arguments.
_PARTIAL_FUNCTIONS = frozenset({"jsonencode", "merge", "concat", "lookup", "tolist", "toset", "tomap"})

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
