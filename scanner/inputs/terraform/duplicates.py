"""Duplicate attributes in Terraform: `terraform validate` refuses them ("Attribute
redefined"), and a parser that keeps the last value hides the first (IDP010)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from scanner.failures import failure
from scanner.inputs.terraform.files import parse_file
from scanner.inputs.terraform.hcl import Tree, name_of, span
from scanner.model import Finding, Location


def duplicate_attributes(directory: Path, uri_of: Callable[[Path], str], suffix: str) -> list[Finding]:
    """IDP010 for every attribute set twice in one body of a module's files (unparseable
    files are the loader's to report)."""
    findings = []
    for path in sorted(directory.glob(f"*{suffix}")):
        try:
            tree = parse_file(path)  # the loader's own parse, not a second one
        except Exception:
            continue
        findings.extend(_in_tree(tree, uri_of(path)))
    return findings


def _in_tree(tree: Tree, uri: str) -> list[Finding]:
    findings = []
    stack = [tree]
    while stack:  # iterative: nesting depth is bounded by the file, not by the interpreter
        node = stack.pop()
        if not hasattr(node, "data"):
            continue
        if node.data == "body":
            first_line: dict[str, int] = {}
            for item in node.children:
                if getattr(item, "data", None) != "attribute":
                    continue
                name, line = name_of(item.children[0]), span(item)[0]
                if name in first_line:
                    findings.append(failure(
                        "IDP010",
                        f"Duplicate attribute `{name}` (first at line {first_line[name]}): Terraform rejects the "
                        "configuration, and a parser that keeps the last value hides the first.",
                        Location(uri, line, line),
                    ))
                else:
                    first_line[name] = line
        stack.extend(c for c in node.children if hasattr(c, "data") and c.data in ("start", "body", "block"))
    return findings
