"""CDK cloud assemblies (`cdk.out`): stacks, Stages and nested stacks, named the CDK way.

A directory is a cloud assembly when it holds a `manifest.json` with `version` and
`artifacts`. Every `aws:cloudformation:stack` artifact, every nested assembly (a Stage,
`cdk:cloud-assembly`) and every nested stack template becomes a `cloudformation` artifact, so
every CloudFormation engine and rule applies unchanged; its `context` adds what CDK knows:

- `stack`: the CloudFormation stack name; `construct_paths`: logical id -> construct path
  (resource `Metadata.aws:cdk:path`, else the `aws:cdk:logicalId` entries of the stack metadata);
- `cdk.sources`: logical id -> the first frame of the user's own code that created the
  resource (`""`) or assigned one of its properties (by property name), from
  `aws:cdk:creationStack`, `aws:cdk:propertyAssignment` (`cdk synth --debug`) or an old-style
  `trace`; `cdk.plumbing`: the template paths CDK itself adds (CDKMetadata, bootstrap checks,
  asset parameters);
- `suppressions`: cdk-nag `rules_to_suppress` and `aws:cdk:acknowledged-rules` waivers that
  name an idp-scan rule or an alias of one; `cdk.acknowledged`: acknowledgements of the
  CloudFormation Validate plugin's (cfn-lint's) rules, which mark cfn-lint's findings;
  `cdk.handlers`: construct paths CDK marks as its custom-resource handlers (`framework`);
  `cdk.construct_sources`: the source line of constructs without a resource of their own (from the
  trace of a warning they recorded), for the annotations on them; `cdk.stack_site` (`stacks`).

`validation-report.json` (aws-cdk-lib's policy validation and cdk-nag v3) becomes an artifact
of kind `cdk-validation-report` for the `cdk-validation` engine.

Source frames are `sources`; placing findings on them after the engines ran is `scanner.findings.source_lines`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from scanner.failures import failure
from scanner.inputs.cdk.framework import handler_paths
from scanner.inputs.cdk.metadata import StackMetadata, TemplateFacts, template_facts
from scanner.inputs.cdk.sources import CREATION_STACK, LOGICAL_ID, SourceFinder, inherit_sources
from scanner.inputs.cdk.stacks import declaration, site_context
from scanner.inputs.cdk.suppressions import cdk_suppressions, engine_acknowledgements
from scanner.inputs.cdk.templates import load_template, paths_in_template, plumbing_paths
from scanner.model import Artifact, Finding, Location

KIND = "cdk"
REPORT_KIND = "cdk-validation-report"
MANIFEST = "manifest.json"
REPORT = "validation-report.json"
MAX_DEPTH = 16  # Stages nest; a deeper chain is a cycle or hostile input
MAX_JSON_BYTES = 64 * 1024 * 1024

STACK = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"


# ---------------------------------------------------------------------------------------------
# Claiming and reading


def claims_dir(directory: Path) -> bool:
    """A `cdk.out` (whatever its manifest holds), or a directory whose manifest looks like one."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return False
    if directory.name == "cdk.out":
        return True
    try:
        with manifest.open("rb") as handle:
            head = handle.read(64 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return False
    return '"artifacts"' in head and '"version"' in head


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return None, f"{path.name} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MB"
        return json.loads(path.read_bytes().decode("utf-8-sig")), None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"{path.name} could not be read: {exc}"


def _line_of_key(path: Path, key: str, after: int = 0) -> int:
    """The line where `"key":` first appears, from line `after` on (manifests are pretty-printed
    JSON); 1 when it does not, or 0 when it does not after a given line."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 1 if not after else 0
    start = 0
    for _ in range(max(after - 1, 0)):
        start = text.find("\n", start) + 1
        if start == 0:
            return 0
    position = text.find(json.dumps(key) + ":", start)
    if position < 0:
        return 1 if not after else 0
    return text.count("\n", 0, position) + 1


def _uri(base_uri: str, *parts: str) -> str:
    return "/".join(p for p in (base_uri.rstrip("/"), *parts) if p and p != ".")


# ---------------------------------------------------------------------------------------------
# Walking the assembly


@dataclass
class _Walk:
    top: Path  # the cdk.out the user pointed at; nothing outside it is read
    root: Path | None
    finder: SourceFinder
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)
    tree: dict[str, str] = field(default_factory=dict)  # construct path -> logical id, from tree.json

    def inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.top.resolve())
        except (OSError, ValueError):  # ValueError: a NUL in a name the manifest gives
            return False

    def assembly(self, directory: Path, uri: str, depth: int) -> None:
        manifest, manifest_uri = directory / MANIFEST, _uri(uri, MANIFEST)
        if directory.resolve() in self.seen:
            return
        self.seen.add(directory.resolve())
        data, error = _read_json(manifest)
        if error is None and not (isinstance(data, Mapping) and "version" in data and isinstance(data.get("artifacts", {}), Mapping)):
            error = "manifest.json is not a cloud assembly manifest (it needs `version` and an `artifacts` mapping)"
        if error is not None or not isinstance(data, Mapping):
            self.findings.append(failure("IDP060", f"CDK cloud assembly could not be read: {error}", Location(manifest_uri)))
            return
        self.tree = tree_logical_ids(directory, data.get("artifacts", {}))
        for name, entry in sorted(data.get("artifacts", {}).items()):
            where = Location(manifest_uri, _line_of_key(manifest, str(name)))
            if not isinstance(entry, Mapping):
                self.findings.append(failure("IDP060", f"Artifact `{name}` of the cloud assembly is not a mapping.", where))
            elif entry.get("type") == STACK:
                self.stack(directory, uri, str(name), entry, where)
            elif entry.get("type") == NESTED_ASSEMBLY:
                self.nested_assembly(directory, uri, str(name), entry, where, depth)
        report = directory / REPORT
        if report.is_file():
            self.validation_report(report, _uri(uri, REPORT))

    def nested_assembly(self, directory: Path, uri: str, name: str, entry: Mapping[str, Any], where: Location, depth: int) -> None:
        properties = entry.get("properties", {})
        sub = properties.get("directoryName") if isinstance(properties, Mapping) else None
        if not isinstance(sub, str) or not sub:
            self.findings.append(failure("IDP061", f"Nested cloud assembly `{name}` names no `directoryName`.", where))
            return
        target = directory / sub
        if not self.inside(target) or not (target / MANIFEST).is_file():
            self.findings.append(failure("IDP061", f"Nested cloud assembly `{name}` is missing: `{sub}/{MANIFEST}` not found in the cloud assembly.", where))
            return
        if depth >= MAX_DEPTH:
            self.findings.append(failure("IDP060", f"Nested cloud assembly `{name}` is nested more than {MAX_DEPTH} levels deep.", where))
            return
        self.assembly(target, _uri(uri, sub), depth + 1)

    def stack(self, directory: Path, uri: str, name: str, entry: Mapping[str, Any], where: Location) -> None:
        properties = entry.get("properties", {})
        properties = properties if isinstance(properties, Mapping) else {}
        template_file = properties.get("templateFile")
        if not isinstance(template_file, str) or not template_file:
            self.findings.append(failure("IDP061", f"Stack artifact `{name}` names no `templateFile`.", where))
            return
        display = str(entry.get("displayName") or name)
        metadata = self.metadata(directory, uri, name, entry, where, "/" + display)
        scopes = metadata.template_scopes()
        scopes.setdefault(template_file, "/" + display)
        facts = template_facts(metadata, list(scopes.values()), self.finder)
        site = self.stack_site(directory, "/" + display, metadata, where, properties.get("tags"))
        for fact in facts.values():
            fact.handlers, fact.site = handler_paths(metadata.entries), site
        stack_name = str(properties.get("stackName") or name)
        # What rules read about the stack as a whole: its tags and `aws://account/region`.
        tags, environment = properties.get("tags"), entry.get("environment")
        stack_facts = {
            "stack_tags": dict(tags) if isinstance(tags, Mapping) else {},
            "environment": environment if isinstance(environment, str) else "",
        }
        parent = self.template(directory, uri, template_file, stack_name, facts[scopes[template_file]], where, stack_facts)
        if parent is None:
            return
        for nested_file, nested_scope in self.nested_templates(parent, scopes).items():
            if nested_file == template_file:
                continue
            nested_where = self.nested_reference(parent, nested_file) or where
            facts.setdefault(nested_scope, TemplateFacts(nested_scope, handlers=facts[scopes[template_file]].handlers, site=site))
            self.template(directory, uri, nested_file, stack_name, facts[nested_scope], nested_where, stack_facts)

    def stack_site(self, directory: Path, path: str, metadata: StackMetadata, where: Location, tags: Any) -> dict[str, Any]:
        creation = next((e.get("data") for e in metadata.entries.get(path, []) if e.get("type") == CREATION_STACK), None)
        declared = declaration(creation, self.finder) if isinstance(creation, list) else None
        tags_line = _line_of_key(directory / MANIFEST, "tags", after=where.start_line) if isinstance(tags, Mapping) and tags else 0
        return site_context(path, declared, Location(where.uri, tags_line) if tags_line else None)

    def metadata(self, directory: Path, uri: str, name: str, entry: Mapping[str, Any], where: Location, scope: str) -> StackMetadata:
        merged: dict[str, Any] = dict(entry.get("metadata", {})) if isinstance(entry.get("metadata"), Mapping) else {}
        extra = entry.get("additionalMetadataFile")
        if isinstance(extra, str) and extra:
            path = directory / extra
            data, error = _read_json(path) if self.inside(path) and path.is_file() else (None, f"{extra} not found")
            if error is not None or not isinstance(data, Mapping):
                message = f"Metadata of stack `{name}` could not be read ({error or 'not a mapping'}): findings keep template logical ids and no source lines."
                self.findings.append(failure("IDP062", message, Location(_uri(uri, extra)) if error is None or "not found" not in error else where))
            else:
                for path_key, entries in data.items():
                    if isinstance(entries, list):
                        merged[path_key] = [*merged.get(path_key, []), *entries]
        for path_key, logical_id in self.tree.items():  # construct paths when the metadata lacks them
            if not path_key.startswith(scope + "/"):
                continue
            entries = merged.setdefault(path_key, [])
            if isinstance(entries, list) and not any(isinstance(e, Mapping) and e.get("type") == LOGICAL_ID for e in entries):
                merged[path_key] = [*entries, {"type": LOGICAL_ID, "data": logical_id}]
        return StackMetadata(merged)

    def nested_templates(self, parent: Artifact, scopes: Mapping[str, str]) -> dict[str, str]:
        """Nested stack templates: from the metadata, and from the parent's nested stack resources."""
        found = {f: s for f, s in scopes.items() if f.endswith(".nested.template.json")}
        resources = parent.data.get("Resources") if isinstance(parent.data, Mapping) else None
        for body in resources.values() if isinstance(resources, Mapping) else ():
            meta = body.get("Metadata") if isinstance(body, Mapping) else None
            if not isinstance(meta, Mapping) or body.get("Type") != "AWS::CloudFormation::Stack":
                continue
            asset = meta.get("aws:asset:path")
            if isinstance(asset, str) and asset.endswith(".template.json") and asset not in found:
                path = str(meta.get("aws:cdk:path", ""))
                found[asset] = "/" + path.split(".NestedStack/")[0] if ".NestedStack/" in path else "/" + path
        return found

    def nested_reference(self, parent: Artifact, nested_file: str) -> Location | None:
        resources = parent.data.get("Resources") if isinstance(parent.data, Mapping) else None
        for logical_id, body in resources.items() if isinstance(resources, Mapping) else ():
            meta = body.get("Metadata") if isinstance(body, Mapping) else None
            if isinstance(meta, Mapping) and meta.get("aws:asset:path") == nested_file:
                return parent.locate(("Resources", logical_id))
        return None

    def template(self, directory: Path, uri: str, file: str, stack: str, facts: TemplateFacts, where: Location,
                 stack_facts: Mapping[str, Any] | None = None) -> Artifact | None:
        path = directory / file
        if not self.inside(path) or not path.is_file():
            self.findings.append(failure("IDP061", f"Template `{file}` of stack `{stack}` is missing from the cloud assembly.", where))
            return None
        if path.resolve() in self.seen:
            return None
        self.seen.add(path.resolve())
        template_uri = _uri(uri, file)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.findings.append(failure("IDP001", f"Template could not be read: {exc}", Location(template_uri)))
            return None
        artifact, findings = load_template(text, path, template_uri)
        self.findings.extend(findings)
        if artifact is None:
            return None
        construct_paths = dict(facts.construct_paths)
        construct_paths.update(paths_in_template(artifact))
        context: dict[str, Any] = {
            **(stack_facts or {}),
            "stack": stack,
            "construct_paths": construct_paths,
            "cdk": {"scope": facts.scope.lstrip("/"), "sources": inherit_sources(construct_paths, facts.sources, facts.scope.lstrip("/")),
                    "plumbing": plumbing_paths(artifact),
                    "acknowledged": engine_acknowledgements(facts.acknowledged),
                    "handlers": facts.handlers, "stack_site": facts.site, "construct_sources": facts.construct_sources},
        }
        artifact = replace(artifact, context=context)
        context["suppressions"] = cdk_suppressions(artifact, facts.acknowledged)
        self.artifacts.append(artifact)
        return artifact

    def validation_report(self, path: Path, uri: str) -> None:
        data, error = _read_json(path)
        if error is None and not (isinstance(data, Mapping) and isinstance(data.get("pluginReports", []), list)):
            error = "it has no `pluginReports` list"
        if error is not None:
            self.findings.append(failure("IDP063", f"CDK validation report could not be read: {error}", Location(uri)))
            return
        self.artifacts.append(Artifact(kind=REPORT_KIND, path=str(path), uri=uri, data=data, context={"assembly_dir": str(path.parent)}))


MAX_TREE_NODES = 200_000


def tree_logical_ids(directory: Path, artifacts: Mapping[str, Any]) -> dict[str, str]:
    """`/construct/path` -> logical id from the assembly's `tree.json` (best effort: it only
    fills in what the stack metadata lacks, so an unreadable tree is no finding)."""
    files = [
        a["properties"]["file"]
        for a in artifacts.values()
        if isinstance(a, Mapping) and a.get("type") == "cdk:tree"
        and isinstance(a.get("properties"), Mapping) and isinstance(a["properties"].get("file"), str)
    ]
    found: dict[str, str] = {}
    for file in files:
        data, error = _read_json(directory / file)
        if error is not None or not isinstance(data, Mapping) or not (directory / file).resolve().is_relative_to(directory.resolve()):
            continue
        stack: list[Any] = [data.get("tree")]
        visited = 0
        while stack and visited < MAX_TREE_NODES:
            node = stack.pop()
            visited += 1
            if not isinstance(node, Mapping):
                continue
            attributes = node.get("attributes")
            logical_id = attributes.get("aws:cdk:cloudformation:logicalId") if isinstance(attributes, Mapping) else None
            if isinstance(logical_id, str) and isinstance(node.get("path"), str):
                found["/" + node["path"]] = logical_id
            children = node.get("children")
            if isinstance(children, Mapping):
                stack.extend(children.values())
    return found


def repo_root_of(path: Path, uri: str) -> Path | None:
    """The repository root, from a path and its repo-relative URI (None when outside the repo)."""
    parts = PurePosixPath(uri).parts
    if not parts or ".." in parts or PurePosixPath(uri).is_absolute():
        return None
    root = path.resolve()
    for _ in parts:
        root = root.parent
    return root


def load_assembly(path: Path, uri: str) -> tuple[list[Artifact], list[Finding]]:
    root = repo_root_of(path, uri)
    walk = _Walk(top=path, root=root, finder=SourceFinder(path.resolve().parent, root))
    walk.assembly(path, uri, 0)
    return walk.artifacts, walk.findings
