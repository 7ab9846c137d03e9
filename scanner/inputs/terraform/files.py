"""The files of a Terraform module: its `.tf` files parsed into top-level blocks (each once per
process), the repo-relative URI of each, and the lines of a block's arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from scanner.failures import failure
from scanner.inputs.terraform.hcl import Tree, malformed_interpolations, name_of, parse_hcl, span
from scanner.model import Finding, Location, PropertyPath


KIND = "terraform"
SUFFIX = ".tf"
VAR_SUFFIXES = (".tfvars", ".tfvars.json")


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    body: Tree
    uri: str
    lines: tuple[int, int]


@dataclass
class ModuleFiles:
    """The parsed top-level blocks of one module directory."""

    directory: Path
    blocks: list[Block] = field(default_factory=list)
    tfvars: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


def body_items(body: Tree) -> Iterator[Tree]:
    return (child for child in body.children if hasattr(child, "data"))


def attributes(body: Tree) -> dict[str, Tree]:
    return {name_of(item.children[0]): item for item in body_items(body) if item.data == "attribute"}


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def parse_module(directory: Path, uri_of: Callable[[Path], str]) -> ModuleFiles:
    """Parse every `.tf` file of a directory; a file that fails becomes an IDP001 finding."""
    module = ModuleFiles(directory)
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        uri = uri_of(path)
        try:
            tree = parse_file(path)
        except (OSError, UnicodeDecodeError) as exc:
            module.findings.append(failure("IDP001", f"Terraform file could not be read: {exc}", Location(uri)))
            continue
        except Exception as exc:  # Lark raises many error types; any of them means "not parsed"
            line = int(getattr(exc, "line", 1) or 1)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            module.findings.append(failure("IDP001", f"Terraform file could not be parsed: {first}", Location(uri, max(line, 1), max(line, 1))))
            continue
        for line, source in malformed_interpolations(tree):
            module.findings.append(failure(
                "IDP001", f"Terraform file could not be parsed: `${{{source}}}` is not an expression", Location(uri, line, line)))
        for block in body_items(tree.children[0]):
            if block.data != "block":
                continue
            parts = [c for c in block.children if not (hasattr(c, "data") and c.data == "body")]
            body = next(c for c in block.children if hasattr(c, "data") and c.data == "body")
            module.blocks.append(Block(name_of(parts[0]), tuple(name_of(p) for p in parts[1:]), body, uri, span(block)))
    return module


def parse_file(path: Path) -> Tree:
    """The tree of a `.tf` file, parsed once per process for a given size and mtime."""
    status = path.stat()
    return _parsed(path.resolve(), status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=256)
def _parsed(path: Path, _mtime: int, _size: int) -> Tree:
    """Parsing is the slow part (pure-Python Lark); a module called from many roots, or
    scanned again in the same process, is parsed once. Trees are never modified."""
    return parse_hcl(read_text(path))


def argument_lines(path: Path, first_line: int) -> dict[PropertyPath, tuple[int, int]]:
    """Lines of the arguments and nested blocks of the block that starts at `first_line` of a
    `.tf` file, by property path (`("ingress", 0, "cidr_blocks")`), as a plan's values are
    shaped; empty when the file does not parse. Dynamic blocks are left out."""
    try:
        tree = parse_file(path)
    except Exception:  # an unparseable file: the block's own line is all we know
        return {}
    for block in body_items(tree.children[0]):
        if block.data == "block" and span(block)[0] == first_line:
            body = next(c for c in block.children if hasattr(c, "data") and c.data == "body")
            lines: dict[PropertyPath, tuple[int, int]] = {}
            _static_lines(body, (), lines)
            return lines
    return {}


def _static_lines(body: Tree, path: PropertyPath, lines: dict[PropertyPath, tuple[int, int]]) -> None:
    counts: dict[str, int] = {}
    for item in body_items(body):
        name = name_of(item.children[0])
        if item.data == "attribute":
            lines[(*path, name)] = (span(item)[0], span(item.children[1])[1])
            continue
        if name == "dynamic":
            continue
        index = counts[name] = counts.get(name, -1) + 1
        lines[(*path, name, index)] = span(item)
        lines.setdefault((*path, name), span(item))
        nested = next(c for c in item.children if hasattr(c, "data") and c.data == "body")
        _static_lines(nested, (*path, name, index), lines)
