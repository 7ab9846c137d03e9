"""HCL syntax: checkov's `hcl2` grammar (bc-python-hcl2, a Lark grammar) in our own parser,
made linear where its terminals backtrack, and the tree helpers every Terraform module uses
(positions, names, interpolation segments)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator


Tree = Any  # lark.Tree; lark is imported lazily through hcl2


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
    start = getattr(_edge_token(node, last=False), "line", None) or 1
    end = getattr(_edge_token(node, last=True), "end_line", None) or start
    return start, max(start, end)


def _edge_token(node: Tree, last: bool) -> Any:
    """The leftmost (or rightmost) token below a node, found without recursion."""
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if not hasattr(current, "data"):
            return current
        stack.extend(current.children if last else reversed(current.children))
    return None


@lru_cache(maxsize=8192)
def parse_expression(text: str) -> Tree:
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


def unwrap(node: Tree) -> Tree:
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return node


def segments(text: str) -> Iterator[tuple[bool, str]]:
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
            for is_expression, source in segments(body):
                if is_expression:
                    try:
                        parse_expression(source)
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
