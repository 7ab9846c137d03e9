"""checkov's Terraform graph, spared two kinds of work it repeats (measured on
terraform-aws-modules/terraform-aws-vpc: checkov's CPU inside a worker 42.6 s -> 28.8 s, the
same findings). Applied once per process, from outside: checkov's files are not changed."""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from typing import Any

MAX_KEPT = 65536  # distinct files or expression texts kept per process; then start again


@lru_cache(maxsize=1)
def reuse_file_parses() -> None:
    """checkov parses the `.tf` files of a root and of every local module it calls, again for
    each root: the vpc repository's 16 example roots parse its module files 179 times (18 of
    checkov's 89 profiled seconds). A parse depends only on the file's bytes, so each file is
    parsed once per process while its size and modification time hold, and every caller gets
    its own deep copy, as a fresh parse would give it. A failed parse is not kept: it is tried
    again and recorded by each caller."""
    from checkov.terraform import tf_parser

    parse = getattr(tf_parser, "load_or_die_quietly")
    kept: dict[tuple[str, bool, int, int], Any] = {}

    def load(file: Any, parsing_errors: dict[str, Exception], clean_definitions: bool = True) -> Any:
        try:
            path = os.path.realpath(os.fspath(file))
            stat = os.stat(path)
        except (OSError, TypeError):
            return parse(file, parsing_errors, clean_definitions)
        key = (path, clean_definitions, stat.st_mtime_ns, stat.st_size)
        if key in kept:
            return copy.deepcopy(kept[key])
        result = parse(file, parsing_errors, clean_definitions)
        if result is not None:
            if len(kept) >= MAX_KEPT:
                kept.clear()
            kept[key] = copy.deepcopy(result)
        return result

    setattr(tf_parser, "load_or_die_quietly", load)


def reuse_expression_parses(interpreter: Any) -> None:
    """checkov evaluates Terraform expressions with asteval, which parses the text into a Python
    AST on every evaluation: 351,819 parses (14 s profiled) of far fewer distinct texts in the
    vpc repository. The tree depends only on the text and evaluating it leaves it unchanged, so
    the process's one interpreter (made once by `checkov_setup._reuse_expression_interpreter`)
    parses each text once. A text that does not parse is parsed again, so asteval records its
    error as before."""
    parse = interpreter.parse
    trees: dict[str, Any] = {}

    def parse_once(text: str) -> Any:
        tree = trees.get(text)
        if tree is None:
            tree = parse(text)
            if len(trees) >= MAX_KEPT:
                trees.clear()
            trees[text] = tree
        else:
            interpreter.expr = text  # as asteval's own parse leaves it
        return tree

    setattr(interpreter, "parse", parse_once)
