"""Baselines: the violation instances a repository accepted when it adopted the gate.

An entry is one finding's fingerprint (rule, artifact, resource identity and what is violated;
never the line), with those parts written out so that a reviewer can read the file. It covers
exactly that instance: a new port opened on a baselined security group, a new output with the
same error, is a new finding and blocks. Matching findings are BASELINED; an entry that this
run judged and that matches nothing is stale (IDP036); an entry of a file that no longer exists
is an error (IDP037), so that a file re-created at that path never inherits it.

A run judges an entry only when it ran the entry's engine and rule over the entry's file: a
run with `--engines native`, `--select` or on one directory neither calls other entries stale
nor drops them when it rewrites the file.

Format 1 (one entry per rule and resource, before instances) is still read: an entry covers
the instances whose message it recorded (it recorded them all, joined) and, if it recorded
none, every instance. `baseline write` rewrites it in format 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from scanner.cache.keys import file_digest
from scanner.discovery import is_within, repo_relative
from scanner.failures import failure, is_gate_rule, leaves_unscanned
from scanner.model import Finding, Location, Status

VERSION = 2
READABLE = (1, 2)

Judged = Callable[["Entry"], bool]
ContentOf = Callable[[str], str]  # repo-relative URI -> digest of the file's bytes ("" if unreadable)


def contents(root: Path) -> ContentOf:
    """Digests of files under the root (the cache's `file_digest`), read once each."""
    seen: dict[str, str] = {}

    def content_of(uri: str) -> str:
        if uri not in seen:
            try:
                seen[uri] = file_digest(root / uri)
            except OSError:
                seen[uri] = ""
        return seen[uri]
    return content_of


@dataclass(frozen=True, order=True)
class Entry:
    uri: str  # the artifact: a template (of a cdk.out stack too), a Terraform root, an account file
    rule_id: str
    resource: str
    fingerprint: str
    message: str = ""
    key: str = ""
    engine: str = ""
    version: int = VERSION
    content: str = ""  # for a file that was not scanned (a parse error): the bytes it accepted

    def as_dict(self) -> dict[str, str | int]:
        legacy: dict[str, str | int] = {"format": self.version} if self.version < VERSION else {}
        content: dict[str, str | int] = {"content": self.content} if self.content else {}
        return {"fingerprint": self.fingerprint, "rule_id": self.rule_id, "engine": self.engine, "uri": self.uri,
                "resource": self.resource, "key": self.key, "message": self.message, **content, **legacy}

    def covers(self, finding: Finding, content_of: ContentOf) -> bool:
        if self.content and content_of(finding.location.uri) != self.content:
            return False  # the unscanned file changed: what it holds now was never accepted
        if self.version >= VERSION:
            return finding.fingerprint == self.fingerprint
        if self.fingerprint != finding.fingerprint and self.fingerprint not in finding.legacy_fingerprints:
            return False
        return not self.message or finding.message in self.message


class BaselineError(Exception):
    """The baseline file cannot be read."""


def entry_of(finding: Finding, content_of: ContentOf) -> Entry:
    """A file that was not scanned is accepted as it is: a change to it (a new SSH rule in a
    template that does not parse) makes its failure new again."""
    resource = finding.resource.name if finding.resource else ""
    content = content_of(finding.location.uri) if leaves_unscanned(finding.rule_id) else ""
    return Entry(finding.artifact_uri, finding.rule_id, resource, finding.fingerprint, finding.message, finding.key,
                 finding.engine, content=content)


def read(path: Path) -> list[Entry]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot be read: {exc}") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if version not in READABLE:
        raise BaselineError(f"{path}: not an idp-scan baseline (version {VERSION} with a `findings` list)")
    items = document.get("findings")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("fingerprint"), str) for i in items):
        raise BaselineError(f"{path}: `findings` must be a list of entries with a `fingerprint`")
    return [
        Entry(str(i.get("uri", "")), str(i.get("rule_id", "")), str(i.get("resource", "")), i["fingerprint"],
              str(i.get("message", "")), str(i.get("key", "")), str(i.get("engine", "")), _format(i, version),
              str(i.get("content", "")))
        for i in items
    ]


def _format(item: dict[str, object], version: int) -> int:
    """Format 1 entries kept in a format 2 file say so (`"format": 1`)."""
    declared = item.get("format", version)
    return declared if isinstance(declared, int) and declared in READABLE else version


def render(entries: Iterable[Entry]) -> str:
    unique = sorted({e.fingerprint: e for e in entries}.values())
    document = {"version": VERSION, "tool": "idp-scan", "findings": [e.as_dict() for e in unique]}
    return json.dumps(document, indent=2) + "\n"


def in_scope(uri: str, scanned: Iterable[str]) -> bool:
    return any(is_within(uri, s) for s in scanned)


_CFN_LINT_ID = re.compile(r"^[EWI][0-9]{4}$")


def engine_of(rule_id: str) -> str:
    """The engine that reports a rule, told by its id (format 1 entries and suppressions do
    not record it); "" when the id does not say."""
    if rule_id.startswith("IDP-ACCT-"):
        return "schema"
    if rule_id.startswith("IDP-"):
        return "native"
    if rule_id.startswith("CKV"):
        return "checkov"
    return "cfn-lint" if _CFN_LINT_ID.match(rule_id) else ""


def merged(previous: Sequence[Entry], findings: Sequence[Finding], scanned: Sequence[str],
           judged: Judged, root: Path) -> tuple[list[Entry], dict[str, int]]:
    """Entries of today's open findings, plus the previous entries this run did not judge (other
    files, engines or rules). Entries of deleted files go; format-1 entries become instances."""
    recorded = [f for f in findings if f.status in (Status.OPEN, Status.BASELINED) and not is_gate_rule(f.rule_id)]
    content_of = contents(root)
    current = {e.fingerprint: e for e in (entry_of(f, content_of) for f in recorded)}
    migrated = [e for e in previous if e.version < VERSION and e.fingerprint not in current and any(e.covers(f, content_of) for f in recorded)]
    rest = [e for e in previous if e.fingerprint not in current and e not in migrated]
    kept = [e for e in rest if _exists(e, root) and not (in_scope(e.uri, scanned) and judged(e))]
    known = {e.fingerprint for e in previous}
    counts = {
        "added": sum(1 for fp in current if fp not in known),
        "kept": len(kept) + sum(1 for fp in current if fp in known),
        "dropped": len(rest) - len(kept),
        "migrated": len(migrated),
    }
    return [*current.values(), *kept], counts


def _exists(entry: Entry, root: Path) -> bool:
    """Whether an entry's artifact is still there. A cloud assembly that is absent altogether
    was not synthesized for this run (`cdk.out` is generated, rarely committed): its stacks are
    not deleted, only not judged."""
    if not entry.uri or (root / entry.uri).exists():
        return True
    parts = Path(entry.uri).parts
    assembly = next((i for i, part in enumerate(parts) if part.startswith("cdk.out")), None)
    return assembly is not None and not (root.joinpath(*parts[:assembly + 1])).exists()


def _entry_line(text: str, fingerprint: str) -> int:
    index = text.find(f'"{fingerprint}"')
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def apply(findings: Sequence[Finding], path: Path, root: Path, scanned: Sequence[str], report_stale: bool,
          judged: Judged, deleted_scope: Sequence[str] = ()) -> list[Finding]:
    """Mark open findings that the baseline lists; report its stale entries of judged files and
    its entries of deleted files under `deleted_scope` (the paths this run covered whole)."""
    uri = repo_relative(path, root)
    try:
        entries = read(path)
        text = path.read_text(encoding="utf-8")
    except BaselineError as exc:
        return [*findings, failure("IDP030", f"The baseline cannot be used: {exc}. No finding was baselined.", Location(uri))]
    by_fingerprint = {e.fingerprint: e for e in entries}
    legacy = [e for e in entries if e.version < VERSION]
    used: set[str] = set()
    out: list[Finding] = []
    content_of = contents(root)
    for finding in findings:
        open_finding = finding.status is Status.OPEN and not is_gate_rule(finding.rule_id)
        entry = _entry_for(finding, by_fingerprint, legacy, content_of) if open_finding else None
        if entry is not None:
            used.add(entry.fingerprint)
            out.append(finding.with_status(Status.BASELINED, f"in the baseline {uri}"))
        else:
            out.append(finding)
    if report_stale:
        out.extend(_stale(entries, used, scanned, uri, text, judged, root, deleted_scope))
        if legacy:
            out.append(failure("IDP037", f"The baseline is in format 1 (one entry per rule and resource); rewrite it with `idp-scan baseline write {uri}` so that each entry covers one violation.", Location(uri)))
    return out


def _entry_for(finding: Finding, by_fingerprint: dict[str, Entry], legacy: Sequence[Entry], content_of: ContentOf) -> Entry | None:
    exact = by_fingerprint.get(finding.fingerprint)
    if exact is not None and exact.covers(finding, content_of):
        return exact
    return next((e for e in legacy if e.covers(finding, content_of)), None)


def _stale(entries: Sequence[Entry], used: set[str], scanned: Sequence[str], uri: str, text: str, judged: Judged,
           root: Path, deleted_scope: Sequence[str]) -> list[Finding]:
    out: list[Finding] = []
    for entry in entries:
        if entry.fingerprint in used:
            continue
        line = _entry_line(text, entry.fingerprint)
        what = f"{entry.rule_id} on {entry.resource or 'the file'} in {entry.uri}"
        if not _exists(entry, root) and in_scope(entry.uri, [*scanned, *deleted_scope]):
            out.append(failure("IDP038", f"Baseline entry for {what}, which no longer exists: rewrite the baseline so that a file re-created there does not inherit it.", Location(uri, line, line)))
        elif in_scope(entry.uri, scanned) and judged(entry):
            out.append(failure("IDP036", f"Baseline entry for {what} matches no finding any more.", Location(uri, line, line)))
    return out


def summary(counts: dict[str, int], path: str, total: int) -> str:
    migrated = f", {counts['migrated']} format-1 entr{'y' if counts['migrated'] == 1 else 'ies'} rewritten as instances" if counts.get("migrated") else ""
    return f"wrote {total} baseline entr{'y' if total == 1 else 'ies'} to {path} ({counts['added']} added, {counts['kept']} kept, {counts['dropped']} dropped{migrated})"
