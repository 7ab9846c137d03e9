"""Baselines: the findings a repository accepted when it adopted the gate.

An entry is a finding's fingerprint (rule, repo-relative file, resource identity; never the
line), with those parts written out so that a reviewer can read the file. Matching findings
are BASELINED; an entry of a scanned file that matches nothing is stale (IDP036). Rewriting
merges: entries of files this run did not scan are kept, those of scanned files are replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from scanner.discovery import repo_relative
from scanner.failures import failure, is_gate_rule
from scanner.model import Finding, Location, Status

VERSION = 1


@dataclass(frozen=True, order=True)
class Entry:
    uri: str
    rule_id: str
    resource: str
    fingerprint: str
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"fingerprint": self.fingerprint, "rule_id": self.rule_id, "uri": self.uri, "resource": self.resource, "message": self.message}


class BaselineError(Exception):
    """The baseline file cannot be read."""


def entry_of(finding: Finding) -> Entry:
    resource = finding.resource.name if finding.resource else ""
    return Entry(finding.location.uri, finding.rule_id, resource, finding.fingerprint, finding.message)


def read(path: Path) -> list[Entry]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise BaselineError(f"{path}: not an idp-scan baseline (version {VERSION} with a `findings` list)")
    items = document.get("findings")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("fingerprint"), str) for i in items):
        raise BaselineError(f"{path}: `findings` must be a list of entries with a `fingerprint`")
    return [Entry(str(i.get("uri", "")), str(i.get("rule_id", "")), str(i.get("resource", "")), i["fingerprint"], str(i.get("message", ""))) for i in items]


def render(entries: Iterable[Entry]) -> str:
    unique = sorted({e.fingerprint: e for e in entries}.values())
    document = {"version": VERSION, "tool": "idp-scan", "findings": [e.as_dict() for e in unique]}
    return json.dumps(document, indent=2) + "\n"


def in_scope(uri: str, scanned: Iterable[str]) -> bool:
    return any(uri == s or uri.startswith(s.rstrip("/") + "/") for s in scanned)


def merged(previous: Sequence[Entry], findings: Sequence[Finding], scanned: Sequence[str]) -> tuple[list[Entry], dict[str, int]]:
    """Entries of today's open findings, plus the previous entries of files not scanned now."""
    current = {e.fingerprint: e for e in (entry_of(f) for f in findings if f.status is not Status.SUPPRESSED and not is_gate_rule(f.rule_id))}
    kept = [e for e in previous if e.fingerprint not in current and not in_scope(e.uri, scanned)]
    known = {e.fingerprint for e in previous}
    counts = {
        "added": sum(1 for fp in current if fp not in known),
        "kept": len(kept) + sum(1 for fp in current if fp in known),
        "dropped": sum(1 for e in previous if e.fingerprint not in current and in_scope(e.uri, scanned)),
    }
    return [*current.values(), *kept], counts


def _entry_line(text: str, fingerprint: str) -> int:
    index = text.find(f'"{fingerprint}"')
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def apply(findings: Sequence[Finding], path: Path, root: Path, scanned: Sequence[str], report_stale: bool) -> list[Finding]:
    """Mark open findings that the baseline lists; report its stale entries of scanned files."""
    uri = repo_relative(path, root)
    try:
        entries = read(path)
        text = path.read_text(encoding="utf-8")
    except BaselineError as exc:
        return [*findings, failure("IDP030", f"The baseline cannot be used: {exc}. No finding was baselined.", Location(uri))]
    by_fingerprint = {e.fingerprint: e for e in entries}
    used: set[str] = set()
    out: list[Finding] = []
    for finding in findings:
        if finding.status is Status.OPEN and not is_gate_rule(finding.rule_id) and finding.fingerprint in by_fingerprint:
            used.add(finding.fingerprint)
            out.append(finding.with_status(Status.BASELINED, f"in the baseline {uri}"))
        else:
            out.append(finding)
    if report_stale:
        out.extend(_stale(entries, used, scanned, uri, text))
    return out


def _stale(entries: Sequence[Entry], used: set[str], scanned: Sequence[str], uri: str, text: str) -> list[Finding]:
    stale = [e for e in entries if e.fingerprint not in used and in_scope(e.uri, scanned)]
    return [
        failure("IDP036", f"Baseline entry for {e.rule_id} on {e.resource or 'the file'} in {e.uri} matches no finding any more.", Location(uri, line, line))
        for e in stale
        for line in [_entry_line(text, e.fingerprint)]
    ]


def summary(counts: dict[str, int], path: str, total: int) -> str:
    return f"wrote {total} baseline entr{'y' if total == 1 else 'ies'} to {path} ({counts['added']} added, {counts['kept']} kept, {counts['dropped']} dropped)"

