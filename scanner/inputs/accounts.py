"""Account-vending requests: native v1, Landing Zone Accelerator and ADF account files.

Recognised by content, wherever they are. YAML is only *composed* (never constructed), so no
tag can run code; we turn the node tree into plain data ourselves and keep every node's line.
Each format's entries are read through one `AccountEntry` view, so the checks are written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml
from yaml.constructor import SafeConstructor

from scanner.failures import failure
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceId

V1, LZA, ADF = "accounts-v1", "accounts-lza", "accounts-adf"
KINDS = (V1, LZA, ADF)
INPUT_KIND = "accounts"
SUFFIXES = (".yaml", ".yml")
ORGANIZATION_CONFIG = "organization-config.yaml"
MAX_NODES = 200_000  # alias expansion guard: a YAML bomb is an unreadable file, not a hang

_HEAD = re.compile(r"^(accounts|mandatoryAccounts|workloadAccounts)\s*:", re.MULTILINE)

# Where each format keeps an account's identity fields.
FIELDS: dict[str, dict[str, str]] = {
    V1: {"name": "name", "email": "email", "alias": "alias", "ou": "organizational_unit"},
    LZA: {"name": "name", "email": "email", "alias": "accountAlias", "ou": "organizationalUnit"},
    ADF: {"name": "account_full_name", "email": "email", "alias": "alias", "ou": "organizational_unit_path"},
}
LISTS: dict[str, tuple[str, ...]] = {V1: ("accounts",), LZA: ("mandatoryAccounts", "workloadAccounts"), ADF: ("accounts",)}

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}
_INCLUDE_TAG = "!include"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in: ~10x faster, same marks  # LZA's own tag: the value lives in another file


class AccountFileError(Exception):
    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class AccountEntry:
    """One account of one file, in any format: its identity and where it stands."""

    artifact: Artifact
    path: PropertyPath  # of the entry mapping, e.g. ("accounts", 2)
    body: Mapping[str, Any]

    def key(self, role: str) -> str:
        return FIELDS[self.artifact.kind][role]

    def value(self, role: str) -> Any:
        return self.body.get(self.key(role))

    def text(self, role: str) -> str | None:
        value = self.value(role)
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def name(self) -> str:
        return self.text("name") or "/".join(str(p) for p in self.path)

    def locate(self, role_or_key: str | None = None) -> Location:
        """The field's line (the entry's when the field is absent)."""
        if role_or_key is None:
            return self.artifact.locate(self.path)
        key = FIELDS[self.artifact.kind].get(role_or_key, role_or_key)
        return self.artifact.locate((*self.path, key)) if key in self.body else self.artifact.locate(self.path)


# --- recognising -------------------------------------------------------------------------

def claims_file(path: Path, head: str) -> bool:
    return path.suffix.lower() in SUFFIXES and bool(_HEAD.search(head))


def format_of(data: Any) -> str | None:
    """Which account format a parsed document is, or None when it is not an account file."""
    if not isinstance(data, Mapping):
        return None
    if "mandatoryAccounts" in data or "workloadAccounts" in data:
        return LZA
    accounts = data.get("accounts")
    if not isinstance(accounts, list):
        return None
    entries = [a for a in accounts if isinstance(a, Mapping)]
    if any("account_full_name" in a or "organizational_unit_path" in a for a in entries):
        return ADF
    if any("email" in a for a in entries):
        return V1
    return None


# --- line-aware, safe YAML ---------------------------------------------------------------

@dataclass
class _Converted:
    lines: dict[PropertyPath, tuple[int, int]]
    unresolved: dict[PropertyPath, str]
    nodes: int = 0


def _span(node: yaml.Node) -> tuple[int, int]:
    start, end = node.start_mark, node.end_mark
    last = end.line if end.column == 0 and end.line > start.line else end.line + 1
    return start.line + 1, max(last, start.line + 1)


_CONSTRUCTOR = SafeConstructor()  # used on plain scalar nodes and for `<<` merges only


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
        return node.value  # dates stay text: the schema and the checks parse them with a line
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _plain(node: yaml.Node, path: PropertyPath, out: _Converted) -> Any:
    out.nodes += 1
    if out.nodes > MAX_NODES:
        raise AccountFileError(f"the document expands to more than {MAX_NODES} nodes (YAML aliases?)")
    out.lines[path] = _span(node)
    if node.tag == _INCLUDE_TAG:
        out.unresolved[path] = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        return None
    if node.tag not in _STANDARD_TAGS:
        raise AccountFileError(f"unsupported YAML tag {node.tag}", node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        _CONSTRUCTOR.flatten_mapping(node)  # `<<: *defaults` merges, as a YAML loader would
        merged = len(node.value) - own  # merged pairs come first; the entry's own keys override them
        result: dict[str, Any] = {}
        own_keys: set[str] = set()
        for position, (key_node, value_node) in enumerate(node.value):
            key = str(_plain(key_node, (*path, "<key>"), out))
            out.lines.pop((*path, "<key>"), None)
            if key in result and position >= merged and key in own_keys:
                raise AccountFileError(f"duplicate key '{key}'", key_node.start_mark.line + 1)
            if position >= merged:
                own_keys.add(key)
            value = _plain(value_node, (*path, key), out)
            if (*path, key) not in out.unresolved:  # an included value is absent here, not null
                result[key] = value
            value_end = out.lines[(*path, key)][1]
            out.lines[(*path, key)] = (key_node.start_mark.line + 1, max(value_end, key_node.start_mark.line + 1))
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, index), out) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has with every alias (and `<<` merge) expanded, counted in
    linear time over the node graph; a recursive alias is an error."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise AccountFileError("a YAML alias refers to itself", node.start_mark.line + 1)
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1
        for child in children:
            total = min(total + size(child), MAX_NODES + 1)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(root)


def parse_yaml(text: str) -> tuple[Any, dict[PropertyPath, tuple[int, int]], dict[PropertyPath, str]]:
    """Plain data, path -> lines, and paths whose value is in another file (LZA `!include`)."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError as exc:
        raise AccountFileError("the document is nested too deeply") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise AccountFileError(f"{exc.problem or exc}", mark.line + 1 if mark else 1) from exc
    except yaml.YAMLError as exc:
        raise AccountFileError(str(exc)) from exc
    if node is None:
        return None, {}, {}
    out = _Converted(lines={}, unresolved={})
    try:
        if _expanded_size(node) > MAX_NODES:
            raise AccountFileError(f"the document expands to more than {MAX_NODES} nodes (YAML aliases?)")
        data = _plain(node, (), out)
    except yaml.MarkedYAMLError as exc:  # a `<<` merge of something that is not a mapping
        mark = exc.problem_mark or exc.context_mark
        raise AccountFileError(f"{exc.problem or exc}", mark.line + 1 if mark else 1) from exc
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # a scalar its tag cannot hold
        raise AccountFileError(str(exc)) from exc
    except RecursionError as exc:
        raise AccountFileError("the document is nested too deeply") from exc
    return data, out.lines, out.unresolved


# --- loading -----------------------------------------------------------------------------

def load(path: Path, uri: str, text: str) -> tuple[Artifact | None, list[Finding]]:
    try:
        data, lines, unresolved = parse_yaml(text)
    except AccountFileError as exc:
        return None, [failure("IDP070", f"Account file could not be parsed: {exc}", Location(uri, exc.line, exc.line))]
    kind = format_of(data)
    if kind is None:
        return None, []  # it only looked like an account file
    findings = [
        failure("IDP073", f"`{'.'.join(map(str, p))}` is included from `{target}`; the accounts in it were not checked here.",
                Location(uri, *lines.get(p, (1, 1))))
        for p, target in unresolved.items()
    ]
    context: dict[str, Any] = {}
    if unresolved:
        context["unresolved"] = tuple(unresolved)
    org_units, org_findings = organization_units(path, uri)
    findings.extend(org_findings)
    if org_units is not None:
        context["organizational_units"] = org_units
    artifact = Artifact(kind=kind, path=str(path), uri=uri, data=data, lines=lines, context=context)
    return artifact, findings


def organization_units(accounts_file: Path, uri: str) -> tuple[tuple[str, ...] | None, list[Finding]]:
    """OU names from an LZA `organization-config.yaml` beside the accounts file (with `Root`)."""
    config = accounts_file.parent / ORGANIZATION_CONFIG
    if not config.is_file():
        return None, []
    config_uri = uri.rsplit("/", 1)[0] + "/" + ORGANIZATION_CONFIG if "/" in uri else ORGANIZATION_CONFIG
    try:
        data, _, _ = parse_yaml(config.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, AccountFileError) as exc:
        line = exc.line if isinstance(exc, AccountFileError) else 1
        return None, [failure("IDP074", f"{ORGANIZATION_CONFIG} could not be read, so organizational units were not checked: {exc}",
                              Location(config_uri, line, line))]
    units = data.get("organizationalUnits") if isinstance(data, Mapping) else None
    if not isinstance(units, list):
        return None, [failure("IDP074", f"{ORGANIZATION_CONFIG} has no `organizationalUnits` list, so organizational units were not checked.",
                              Location(config_uri))]
    names = [u["name"] for u in units if isinstance(u, Mapping) and isinstance(u.get("name"), str)]
    return ("Root", *names), []


def entries(artifact: Artifact) -> Iterator[AccountEntry]:
    """Every account mapping of an account artifact (malformed lists are the schema's to report)."""
    data = artifact.data if isinstance(artifact.data, Mapping) else {}
    for list_key in LISTS.get(artifact.kind, ()):
        items = data.get(list_key)
        if not isinstance(items, list):
            continue
        for index, body in enumerate(items):
            if isinstance(body, Mapping):
                yield AccountEntry(artifact, (list_key, index), body)


# --- accounts as resources ---------------------------------------------------------------

def resources(artifact: Artifact) -> Iterator[Resource]:
    """Each account entry as a resource, so the gate scopes `# idp-scan:ignore` comments to it."""
    for entry in entries(artifact):
        yield Resource(
            id=ResourceId("account", entry.name, "Account"),
            type="Account",
            properties=entry.body,
            path=entry.path,
        )
