"""Terraform HCL modules: a directory of `.tf` files, evaluated statically with its local modules.

One artifact per root module; its resources come from the root and every local module it
calls (`source = "./modules/x"`), addressed as Terraform does (`module.net.aws_vpc.this`).
Known statically: variables (caller inputs, `terraform.tfvars`, `*.auto.tfvars`, defaults),
locals, interpolation, the functions in `hcl_expr.FUNCTIONS`, `count`/`for_each` over known
collections, other resources' known arguments and `aws_iam_policy_document` JSON. Everything
else is `UNKNOWN`. Remote modules are never downloaded; each becomes a note (IDP052).

A directory that another scanned module calls is evaluated only through its caller (see
`prune_called`), so its resources are reported once, under their module address.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from scanner.failures import failure
from scanner.inputs.hcl_expr import (Scope, Tree, conform, evaluate, is_known, jsonencode, malformed_interpolations, name_of, parse_hcl,
                                     reference_text, span, step_into)
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceId
from scanner.rule import UNKNOWN
from scanner.terraform_helpers import policy_from_data_source

KIND = "terraform"
SUFFIX = ".tf"
VAR_SUFFIXES = (".tfvars", ".tfvars.json")
META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})
MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
MAX_MODULE_DEPTH = 16
MAX_INSTANCES = 1000  # more instances than this are not expanded (a note says so)
_LOCAL_SOURCE = re.compile(r"""^\s*source\s*=\s*"(\.\.?/[^"]*)"\s*$""", re.MULTILINE)


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


def uri_maker(root_dir: Path, root_uri: str) -> Callable[[Path], str]:
    """Repo-relative URIs of files near a unit, from the unit's own path and URI."""
    base = root_dir.resolve()

    def uri_of(path: Path) -> str:
        return posixpath.normpath(posixpath.join(root_uri, Path(os.path.relpath(path.resolve(), base)).as_posix()))

    return uri_of


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


class ModuleInstance:
    """One evaluated instance of a module: `prefix` is its address (`module.net.` or "")."""

    def __init__(self, tree: TreeLoader, files: ModuleFiles, prefix: str, inputs: Mapping[str, Any],
                 ancestors: tuple[Path, ...] = (), providers: Mapping[str, str] | None = None) -> None:
        self.tree, self.files, self.prefix = tree, files, prefix
        self.ancestors = (*ancestors, files.directory)  # module directories from the root down
        # Provider references (`aws`, `aws.use1`) -> the configuration they mean (its address).
        self.providers = {**(providers or {}), **self._own_providers()}
        self.variables = self._variables(inputs)
        self._locals = {name: attr for b in files.of("locals") for name, attr in attributes(b.body).items()}
        self._local_values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self._instances: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        self._children: dict[str, list[tuple[str, ModuleInstance | None]]] = {}

    # ---- providers ---------------------------------------------------------------------
    def _own_providers(self) -> dict[str, str]:
        own: dict[str, str] = {}
        for block in self.files.of("provider"):
            if block.labels:
                reference = provider_reference(block, Scope(lambda _root, _steps, _scope: UNKNOWN))
                own[reference] = f"{self.prefix}provider.{reference}"
        return own

    def provider_for(self, reference: str) -> str:
        """The configuration a reference means; one nobody configured is the root's implicit one."""
        return self.providers.get(reference, f"provider.{reference}")

    def resource_provider(self, block: Block) -> str:
        declared = attributes(block.body)
        reference = reference_text(declared["provider"].children[1]) if "provider" in declared else None
        return self.provider_for(reference or block.labels[0].split("_", 1)[0])

    def passed_providers(self, call: Block) -> dict[str, str]:
        """What a module call hands its child: `providers = {aws = aws.use1}`, or else every
        default (unaliased) configuration, as Terraform does."""
        declared = attributes(call.body)
        if "providers" not in declared:
            return {reference: address for reference, address in self.providers.items() if "." not in reference}
        mapping = _unwrap_object(declared["providers"].children[1])
        passed: dict[str, str] = {}
        for element in mapping:
            child, parent = reference_text(element.children[0]), reference_text(element.children[-1])
            if child and parent:
                passed[child] = self.provider_for(parent)
        return passed

    # ---- names -------------------------------------------------------------------------
    def _variables(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for block in self.files.of("variable"):
            name = block.labels[0] if block.labels else ""
            declared = attributes(block.body)
            if name in inputs:
                values[name] = inputs[name]
            elif "default" in declared:
                values[name] = evaluate(declared["default"].children[1], self.scope())
            else:
                values[name] = UNKNOWN
                if not self.prefix:
                    self.tree.note_unknown_variable(name, block)
            if "type" in declared:
                values[name] = conform(declared["type"].children[1], values[name], self.scope())
        return values

    def scope(self) -> Scope:
        return Scope(self.resolve)

    def resolve(self, root: str, steps: list[Any], scope: Scope) -> Any:
        if root == "var":
            return step_into(self.variables.get(str(steps[0]), UNKNOWN), steps[1:]) if steps else UNKNOWN
        if root == "local":
            return step_into(self._local(str(steps[0])), steps[1:]) if steps else UNKNOWN
        if root == "module":
            return self._module_output(steps)
        if root == "path":
            return self.tree.relative_dir(self.files.directory) if steps[:1] == ["module"] else UNKNOWN
        if root == "data" and len(steps) >= 2:
            return self._resource_value("data", str(steps[0]), str(steps[1]), steps[2:], scope)
        if root in ("each", "count", "self", "terraform") or not steps:
            return UNKNOWN
        return self._resource_value("managed", root, str(steps[0]), steps[1:], scope)

    def _local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        if name not in self._locals or name in self._evaluating:
            return UNKNOWN
        self._evaluating.add(name)
        value = evaluate(self._locals[name].children[1], self.scope())
        self._evaluating.discard(name)
        self._local_values[name] = value
        return value

    def _module_output(self, steps: list[Any]) -> Any:
        if len(steps) < 2:
            return UNKNOWN
        children = self.children(str(steps[0]))
        # Outputs of a counted module (module.x[0].out) are not modelled.
        if len(children) != 1 or children[0][1] is None or children[0][0] != f"{self.prefix}module.{steps[0]}":
            return UNKNOWN
        child = children[0][1]
        outputs = {b.labels[0]: attributes(b.body) for b in child.files.of("output") if b.labels}
        value_node = outputs.get(str(steps[1]), {}).get("value")
        return step_into(evaluate(value_node.children[1], child.scope()), steps[2:]) if value_node is not None else UNKNOWN

    def _resource_value(self, mode: str, type_: str, name: str, steps: list[Any], scope: Scope) -> Any:
        address = f"{self.prefix}{'data.' if mode == 'data' else ''}{type_}.{name}"
        scope.refs.add(address)
        block = self._block(mode, type_, name)
        instances = self.resource_instances(block) if block is not None else None
        if not instances:
            return UNKNOWN
        keyed = dict(instances)
        if address in keyed:
            entry = keyed[address]
        elif steps and f"{address}[{_key_text(steps[0])}]" in keyed:
            entry, steps = keyed[f"{address}[{_key_text(steps[0])}]"], steps[1:]
        else:
            return UNKNOWN
        if entry is None or not steps:
            return UNKNOWN
        properties = entry["properties"]
        if mode == "data" and type_ == "aws_iam_policy_document" and steps[0] == "json":
            return jsonencode(policy_from_data_source(properties))
        return step_into(properties, steps)

    def _block(self, mode: str, type_: str, name: str) -> Block | None:
        kind = "data" if mode == "data" else "resource"
        return next((b for b in self.files.of(kind) if b.labels[:2] == (type_, name)), None)

    # ---- resources ---------------------------------------------------------------------
    def resource_instances(self, block: Block) -> list[tuple[str, dict[str, Any] | None]] | None:
        """(address, properties) of each instance; None when count/for_each is unknown."""
        key = (block.type, *block.labels[:2])
        cache_key = (key[0], key[1], key[2] if len(key) > 2 else "")
        if cache_key in self._instances:
            cached = self._instances[cache_key]
            return None if cached is None else list(cached.items())
        self._instances[cache_key] = {}  # a reference cycle sees no instances
        base = f"{self.prefix}{'data.' if block.type == 'data' else ''}{block.labels[0]}.{block.labels[1]}"
        expansion = self.tree.expansion(block, self.scope(), base)
        if expansion is None:
            self._instances[cache_key] = None
            return None
        result: dict[str, Any] = {}
        for address, bindings in expansion:
            result[address] = self.tree.evaluate_body(block, self.scope().child(**bindings), address)
        self._instances[cache_key] = result
        return list(result.items())

    def children(self, name: str) -> list[tuple[str, ModuleInstance | None]]:
        if name not in self._children:
            block = next((b for b in self.files.of("module") if b.labels[:1] == (name,)), None)
            self._children[name] = self.tree.instantiate_module(self, block) if block is not None else []
        return self._children[name]


def provider_reference(block: Block, scope: Scope) -> str:
    """How a `provider` block is referred to: `aws`, or `aws.use1` with an alias."""
    declared = attributes(block.body)
    alias = evaluate(declared["alias"].children[1], scope) if "alias" in declared else None
    return block.labels[0] + (f".{alias}" if isinstance(alias, str) else "")


def _unwrap_object(node: Tree) -> list[Tree]:
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return list(node.children) if getattr(node, "data", None) == "object" else []


def _key_text(key: Any) -> str:
    return str(key) if isinstance(key, int) and not isinstance(key, bool) else f'"{key}"'


class TreeLoader:
    """Evaluates one root module and its local modules into resources, lines and notes."""

    def __init__(self, root_dir: Path, root_uri: str, var_files: Sequence[Path] = ()) -> None:
        self.root_dir, self.var_files = root_dir, var_files
        self.uri_of = uri_maker(root_dir, root_uri)
        self.findings: list[Finding] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.lines: dict[PropertyPath, tuple[int, int]] = {}
        self.files: dict[PropertyPath, str] = {}
        self.providers: list[dict[str, Any]] = []
        # Module calls, `terraform` and `provider` blocks, which rules read as pseudo-resources.
        self.blocks: dict[str, dict[str, Any]] = {}
        self._parsed: dict[Path, ModuleFiles] = {}
        self._noted: set[tuple[str, str]] = set()

    def relative_dir(self, directory: Path) -> str:
        return Path(os.path.relpath(directory, self.root_dir)).as_posix()

    def module_files(self, directory: Path) -> ModuleFiles:
        resolved = directory.resolve()
        if resolved not in self._parsed:
            self._parsed[resolved] = parse_module(resolved, self.uri_of)
            self.findings.extend(self._parsed[resolved].findings)
        return self._parsed[resolved]

    def note(self, rule_id: str, message: str, block: Block, line: int | None = None) -> None:
        if (rule_id, message) in self._noted:
            return
        self._noted.add((rule_id, message))
        start = line or block.lines[0]
        self.findings.append(failure(rule_id, message, Location(block.uri, start, line or block.lines[1])))

    def note_unknown_variable(self, name: str, block: Block) -> None:
        self.note("IDP051", f"Variable `{name}` has no value (no default, no tfvars entry), so what depends on it was not evaluated.", block, block.lines[0])

    # ---- evaluation ----------------------------------------------------------------------
    def load(self) -> ModuleInstance:
        files = self.module_files(self.root_dir)
        tfvars = read_tfvars(self.root_dir, self.uri_of, self.findings, self.var_files)
        root = ModuleInstance(self, files, "", tfvars)
        self.collect(root)
        return root

    def collect(self, module: ModuleInstance) -> None:
        for block in module.files.blocks:
            if block.type in ("resource", "data") and len(block.labels) >= 2:
                instances = module.resource_instances(block)
                if instances is None:
                    continue
                for address, properties in instances:
                    self._record(module, block, address, properties)
            elif block.type == "terraform":
                self._record_block(module, block, "terraform", f"terraform[{block.lines[0]}]", self._block_body(module, block))
            elif block.type == "module" and block.labels:
                self._record_block(module, block, "module", f"module.{block.labels[0]}", self._module_call(module, block))
                for _, child in module.children(block.labels[0]):
                    if child is not None:
                        self.collect(child)
            elif block.type == "provider" and block.labels:
                self._record_provider(module, block)

    def _record(self, module: ModuleInstance, block: Block, address: str, properties: dict[str, Any] | None) -> None:
        if properties is None:
            return
        mode = "data" if block.type == "data" else "managed"
        self.resources[address] = {
            "type": ("data." if mode == "data" else "") + block.labels[0],
            "mode": mode,
            "module": module.prefix.rstrip("."),
            "file": block.uri,
            "properties": properties.get("properties", {}),
            "references": properties.get("references", {}),
            "provider": module.resource_provider(block),
        }
        self.files[("resources", address)] = block.uri
        self.lines[("resources", address)] = block.lines
        for path, span in properties.get("lines", {}).items():
            self.lines[("resources", address, "properties", *path)] = span

    def _record_provider(self, module: ModuleInstance, block: Block) -> None:
        values = {name: evaluate(attribute.children[1], module.scope()) for name, attribute in attributes(block.body).items()}
        body = self._block_body(module, block)
        default_tags = body["properties"].get("default_tags")
        tags = default_tags[0].get("tags", {}) if isinstance(default_tags, list) and default_tags and isinstance(default_tags[0], Mapping) else {}
        self.providers.append({
            "address": f"{module.prefix}provider.{provider_reference(block, module.scope())}",
            "name": block.labels[0],
            "alias": values.get("alias"),
            "region": values.get("region", UNKNOWN),
            "default_tags": tags,
            "module": module.prefix.rstrip("."),
            "file": block.uri,
            "line": block.lines[0],
        })
        alias = values.get("alias")
        self._record_block(module, block, "provider", f"provider.{block.labels[0]}" + (f".{alias}" if isinstance(alias, str) else ""), body)

    def _block_body(self, module: ModuleInstance, block: Block) -> dict[str, Any]:
        lines: dict[PropertyPath, tuple[int, int]] = {}
        properties = self._body(block.body, module.scope(), (), lines, {}, block, block.type, None)
        return {"properties": properties, "lines": lines}

    def _module_call(self, module: ModuleInstance, block: Block) -> dict[str, Any]:
        """A module call's `source` and `version` only: its inputs belong to the child module."""
        declared = attributes(block.body)
        properties = {name: evaluate(declared[name].children[1], module.scope()) for name in ("source", "version") if name in declared}
        lines = {(name,): (span(declared[name])[0], span(declared[name].children[1])[1]) for name in properties}
        return {"properties": properties, "lines": lines}

    def _record_block(self, module: ModuleInstance, block: Block, kind: str, name: str, body: dict[str, Any]) -> None:
        key = f"{module.prefix}{name}"
        self.blocks[key] = {"type": kind, "module": module.prefix.rstrip("."), "properties": body["properties"]}
        self.files[("blocks", key)] = block.uri
        self.lines[("blocks", key)] = block.lines
        for path, span in body["lines"].items():
            self.lines[("blocks", key, "properties", *path)] = span

    def expansion(self, block: Block, scope: Scope, base: str) -> list[tuple[str, dict[str, Any]]] | None:
        """Instances of a counted or for_each block as (address, bindings); None if unknown."""
        declared = attributes(block.body)
        if "count" in declared:
            count = evaluate(declared["count"].children[1], scope)
            if isinstance(count, bool) or not isinstance(count, (int, float)) or count > MAX_INSTANCES:
                self._unknown_expansion(block, "count", declared["count"], base)
                return None
            return [(f"{base}[{i}]", {"count": {"index": i}}) for i in range(int(count))]
        if "for_each" in declared:
            collection = evaluate(declared["for_each"].children[1], scope)
            if isinstance(collection, list) and all(isinstance(i, str) for i in collection):
                collection = {item: item for item in collection}
            if not isinstance(collection, Mapping) or len(collection) > MAX_INSTANCES or not all(is_known(k) for k in collection):
                self._unknown_expansion(block, "for_each", declared["for_each"], base)
                return None
            return [(f'{base}["{key}"]', {"each": {"key": key, "value": value}}) for key, value in collection.items()]
        return [(base, {})]

    def _unknown_expansion(self, block: Block, argument: str, node: Tree, address: str) -> None:
        line = span(node)[0]
        self.note("IDP053", f"`{argument}` of {address} could not be evaluated statically, so its instances were not checked.", block, line)

    def evaluate_body(self, block: Block, scope: Scope, address: str) -> dict[str, Any]:
        """{"properties", "references", "lines"} of one resource instance."""
        lines: dict[PropertyPath, tuple[int, int]] = {}
        references: dict[str, list[str]] = {}
        properties = self._body(block.body, scope, (), lines, references, block, address, None)
        return {"properties": properties, "references": references, "lines": lines}

    def _body(self, body: Tree, scope: Scope, path: PropertyPath, lines: dict[PropertyPath, tuple[int, int]],
              references: dict[str, list[str]], block: Block, address: str, top_name: str | None) -> dict[str, Any]:
        """Arguments and nested blocks; references are kept per top-level argument or block."""
        result: dict[str, Any] = {}
        for item in body_items(body):
            name = name_of(item.children[0])
            if top_name is None and name in META_ARGUMENTS:
                continue
            if item.data == "attribute":
                attribute_scope = Scope(scope.resolve_ref, scope.bindings, set())
                value = evaluate(item.children[1], attribute_scope)
                if value is not None:  # null means "not set"
                    result[name] = value
                lines[(*path, name)] = (span(item)[0], span(item.children[1])[1])
                key = top_name or name
                references[key] = sorted(set(references.get(key, [])) | attribute_scope.refs)
                continue
            nested = [c for c in item.children if hasattr(c, "data") and c.data == "body"][0]
            labels = [name_of(c) for c in item.children[1:] if not hasattr(c, "data") or c.data == "identifier"]
            if name == "dynamic" and labels:
                self._dynamic(labels[0], nested, scope, path, lines, references, block, address, result, top_name or labels[0])
                continue
            items = result.setdefault(name, [])
            if not isinstance(items, list):
                continue
            index = len(items)
            lines[(*path, name, index)] = span(item)
            lines.setdefault((*path, name), span(item))
            items.append(self._body(nested, scope, (*path, name, index), lines, references, block, address, top_name or name))
        return result

    def _dynamic(self, name: str, body: Tree, scope: Scope, path: PropertyPath, lines: dict[PropertyPath, tuple[int, int]],
                 references: dict[str, list[str]], block: Block, address: str, result: dict[str, Any], top_name: str) -> None:
        declared = attributes(body)
        iterator = name
        if "iterator" in declared:
            iterator = name_of(declared["iterator"].children[1].children[0]) if hasattr(declared["iterator"].children[1], "children") else name
        content = next((c for c in body_items(body) if c.data == "block" and name_of(c.children[0]) == "content"), None)
        items = result.setdefault(name, [])
        if not isinstance(items, list) or content is None:
            return
        collection = evaluate(declared["for_each"].children[1], scope) if "for_each" in declared else UNKNOWN
        if isinstance(collection, list):
            collection = dict(enumerate(collection))
        if not isinstance(collection, Mapping):
            self.note("IDP053", f"`for_each` of the dynamic `{name}` blocks of {address} could not be evaluated statically, so those blocks were not checked.", block, span(declared["for_each"])[0] if "for_each" in declared else block.lines[0])
            lines.setdefault((*path, name), span(body))
            items.append(UNKNOWN)
            return
        content_body = [c for c in content.children if hasattr(c, "data") and c.data == "body"][0]
        for key, value in collection.items():
            index = len(items)
            lines[(*path, name, index)] = span(content)
            lines.setdefault((*path, name), span(content))
            bound = scope.child(**{iterator: {"key": key, "value": value}})
            items.append(self._body(content_body, bound, (*path, name, index), lines, references, block, address, top_name))

    def instantiate_module(self, parent: ModuleInstance, block: Block) -> list[tuple[str, ModuleInstance | None]]:
        declared = attributes(block.body)
        source = evaluate(declared["source"].children[1], parent.scope()) if "source" in declared else UNKNOWN
        base = f"{parent.prefix}module.{block.labels[0]}"
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            self.note("IDP052", f"Module {base} (source {source if isinstance(source, str) else 'unknown'}) is not a local directory; it was not downloaded or checked.", block)
            return [(base, None)]
        directory = (parent.files.directory / source).resolve()
        problem = _module_problem(directory, parent.ancestors)
        if problem:
            reason = problem
            self.findings.append(failure("IDP050", f"Local module {base} (source {source}) {reason}, so it was not checked.", Location(block.uri, *block.lines)))
            return [(base, None)]
        expansion = self.expansion(block, parent.scope(), base)
        if expansion is None:
            return [(base, None)]
        files = self.module_files(directory)
        instances: list[tuple[str, ModuleInstance | None]] = []
        for address, bindings in expansion:
            scope = parent.scope().child(**bindings)
            inputs = {name: evaluate(attr.children[1], scope) for name, attr in declared.items() if name not in MODULE_META}
            instances.append((address, ModuleInstance(self, files, f"{address}.", inputs, parent.ancestors, parent.passed_providers(block))))
        return instances


def _module_problem(directory: Path, ancestors: tuple[Path, ...]) -> str:
    if not directory.is_dir():
        return "does not exist"
    if directory in ancestors:
        return "calls itself through its callers"
    if len(ancestors) >= MAX_MODULE_DEPTH:
        return f"nests more than {MAX_MODULE_DEPTH} modules deep"
    return ""


def load_directory(directory: Path, uri: str, var_files: Sequence[Path] = ()) -> tuple[Artifact | None, list[Finding]]:
    loader = TreeLoader(directory.resolve(), uri, var_files)
    loader.load()
    artifact = Artifact(
        kind=KIND,
        path=str(directory),
        uri=uri,
        data={"resources": loader.resources, "providers": loader.providers, "blocks": loader.blocks},
        lines=loader.lines,
        files=loader.files,
        context={"providers": loader.providers, "files": sorted(set(loader.files.values()))},
    )
    return artifact, loader.findings


def resources(artifact: Artifact) -> Iterator[Resource]:
    body = artifact.data.get("resources", {}) if isinstance(artifact.data, Mapping) else {}
    for address, resource in body.items():
        yield Resource(
            id=ResourceId(KIND, address, resource["type"]),
            type=resource["type"],
            properties=resource["properties"],
            path=("resources", address, "properties"),
            metadata={"references": resource.get("references", {}), "mode": resource["mode"], "module": resource["module"],
                      "provider": resource.get("provider", "")},
        )
    # Pseudo-resources (types `module`, `terraform`, `provider`) for the rules about configuration.
    blocks = artifact.data.get("blocks", {}) if isinstance(artifact.data, Mapping) else {}
    for key, block in blocks.items():
        yield Resource(
            id=ResourceId(KIND, key, block["type"]),
            type=block["type"],
            properties=block["properties"],
            path=("blocks", key, "properties"),
            metadata={"mode": "configuration", "module": block["module"]},
        )


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


_FILE_CALL = re.compile(r'\b(?:file|templatefile|filebase64|filesha256|filemd5)\(\s*"(\$\{path\.(?:module|root)\}/)?([^"$]+)"')


def sources(root: Path, var_files: Sequence[Path] = ()) -> list[Path]:
    """Every file Terraform reads for a root: `*.tf` and `*.tf.json` of the root and of each
    local module it reaches, the files their `file()`/`templatefile()` calls name literally,
    the root's own tfvars and the var files given to it. Nothing else under the directory
    (`.terraform/`, `.git`, `node_modules`, a cache) changes what a scan of it finds."""
    root = root.resolve()
    found: list[Path] = []
    for directory in [root, *sorted(local_module_dirs(root))]:
        own = sorted([*directory.glob(f"*{SUFFIX}"), *directory.glob(f"*{SUFFIX}.json")])
        found += own
        for path in own:
            found += _file_targets(path, directory, root)
    found += [*own_tfvars(root), *var_files]
    return [p for p in dict.fromkeys(found) if p.is_file()]


def _file_targets(path: Path, module: Path, root: Path) -> list[Path]:
    """Files a module names in `file("${path.module}/x")`-style calls (relative to the module
    with `path.module`, else to the root, Terraform's working directory)."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError):
        return []
    return [((module if prefix.startswith("${path.module}") else root) / name).resolve() for prefix, name in _FILE_CALL.findall(text)]


def local_module_dirs(directory: Path) -> set[Path]:
    """Every local module directory a root reaches, transitively (the root itself excluded)."""
    root = directory.resolve()
    seen: set[Path] = set()
    todo = [root]
    while todo and len(seen) < 10 * MAX_INSTANCES:
        for called in local_module_calls(todo.pop()):
            if called not in seen and called != root and called.is_dir():
                seen.add(called)
                todo.append(called)
    return seen


def local_module_calls(directory: Path) -> set[Path]:
    """Directories this module calls as local modules (a cheap scan, before any parsing)."""
    called: set[Path] = set()
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError):
            continue
        for source in _LOCAL_SOURCE.findall(text):
            called.add((directory / source).resolve())
    return called
