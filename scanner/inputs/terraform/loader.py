"""A Terraform root module evaluated statically into one artifact, with its local modules.

The root and every local module it calls (`source = "./modules/x"`) contribute resources,
addressed as Terraform does (`module.net.aws_vpc.this`), and pseudo-resources for module
calls, `terraform` and `provider` blocks; `lines` and `files` place each path in its `.tf` file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from scanner.failures import failure
from scanner.inputs.terraform.expressions import Scope, evaluate
from scanner.inputs.terraform.files import KIND, Block, ModuleFiles, attributes, body_items, parse_module
from scanner.inputs.uris import uri_maker
from scanner.inputs.terraform.hcl import Tree, name_of, span
from scanner.inputs.terraform.modules import ModuleInstance, provider_reference
from scanner.inputs.terraform.tfvars import read_tfvars
from scanner.inputs.terraform.values import is_known
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceId
from scanner.rule import UNKNOWN

META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})
MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
MAX_MODULE_DEPTH = 16
MAX_INSTANCES = 1000  # more instances than this are not expanded (a note says so)


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


def at_fixed_depth(work: Callable[[], object]) -> None:
    """Run `work` at the bottom of a thread of its own. An evaluation that recurses past Python's
    limit gives that value up (UNKNOWN, an IDP053 note), so how far it gets must not depend on
    the caller's depth: `idp-scan`, `python -m scanner` (the Action), a worker and the tests call
    the loader at different depths, and gave different findings on the examples of
    terraform-aws-modules/terraform-aws-s3-bucket that pass module outputs into one another."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="idp-scan terraform evaluation", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


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
    at_fixed_depth(loader.load)
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
