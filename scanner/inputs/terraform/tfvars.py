"""Variable values a root module is given: its own `terraform.tfvars` and `*.auto.tfvars`, then
the var files configured for it, in Terraform's order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Sequence

from scanner.failures import failure
from scanner.inputs.terraform.expressions import Scope, evaluate
from scanner.inputs.terraform.files import attributes, read_text
from scanner.inputs.terraform.hcl import parse_hcl
from scanner.model import Finding, Location
from scanner.rule import UNKNOWN


def own_tfvars(directory: Path) -> list[Path]:
    """The variable files Terraform loads by itself in a root: `terraform.tfvars(.json)`, then
    `*.auto.tfvars(.json)` in name order."""
    auto = sorted([*directory.glob("*.auto.tfvars"), *directory.glob("*.auto.tfvars.json")], key=lambda p: p.name)
    return [p for p in (directory / "terraform.tfvars", directory / "terraform.tfvars.json", *auto) if p.is_file()]


def read_tfvars(directory: Path, uri_of: Callable[[Path], str], findings: list[Finding], extra: Sequence[Path] = ()) -> dict[str, Any]:
    """The root's own variable files, then the var files given for it: later wins (Terraform's
    order). A file that does not parse is an IDP001 finding at its line; the others still count."""
    values: dict[str, Any] = {}
    for path in [*own_tfvars(directory), *extra]:
        found, errors = read_var_file(path)
        values.update(found)
        for line, message in errors:
            findings.append(failure("IDP001", f"Variables file could not be parsed: {message}", Location(uri_of(path), line, line)))
    return values


_TOP_ASSIGNMENT = re.compile(r"^[A-Za-z_][\w-]*\s*=", re.MULTILINE)


def read_var_file(path: Path) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """The values of one `.tfvars` or `.tfvars.json` file, and (line, message) of what does not
    parse. An HCL file that fails is read again one top-level assignment at a time, so one
    broken value does not take the file's other values with it."""
    try:
        text = read_text(path)
        if path.name.endswith(".json"):
            values = json.loads(text)
            return (values, []) if isinstance(values, dict) else ({}, [(1, "a .tfvars.json file holds one JSON object")])
        return _tfvars_values(text), []
    except Exception as exc:  # Lark and json raise many error types; any of them means "not parsed"
        problem = _parse_problem(exc)
        if path.name.endswith(".json") or isinstance(exc, (OSError, UnicodeDecodeError)):
            return {}, [problem]
    starts = [m.start() for m in _TOP_ASSIGNMENT.finditer(text)]
    values, errors = {}, []
    for start, end in zip(starts, [*starts[1:], len(text)]):
        try:
            values.update(_tfvars_values(text[start:end]))
        except Exception as exc:
            line, message = _parse_problem(exc)
            errors.append((text.count("\n", 0, start) + line, message))
    return values, errors or [problem]


def _tfvars_values(text: str) -> dict[str, Any]:
    tree = parse_hcl(text)
    scope = Scope(lambda _root, _steps, _scope: UNKNOWN)
    return {name: evaluate(attribute.children[1], scope) for name, attribute in attributes(tree.children[0]).items()}


def _parse_problem(exc: Exception) -> tuple[int, str]:
    line = int(getattr(exc, "line", None) or getattr(exc, "lineno", None) or 1)
    return max(line, 1), (str(exc).strip().splitlines() or [type(exc).__name__])[0]
