"""The schema engine: account-vending files, checked as a whole in one call.

Per file: the JSON Schema of its format (missing, unknown, mis-shaped fields) and the checks
in code that depend on the configuration. Across files: unique names, e-mails and aliases.
With `--changed-since REF`: the same accounts compared with their base versions in git.
"""

from __future__ import annotations

import datetime
import logging
from typing import Iterable, Iterator, Sequence

from scanner.engines.account_checks import Policy, PolicyError, entry_violations, mandatory_violations, uniqueness_violations
from scanner.engines.account_rules import ENGINE, account_rules
from scanner.engines.account_schema import schema_violations
from scanner.engines.account_violation import AccountViolation
from scanner.failures import failure
from scanner.inputs.accounts import INPUT_KIND, KINDS, entries
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, ResourceId, RuleMeta
from scanner.settings import Settings

log = logging.getLogger(__name__)


class SchemaEngine(EngineBase):
    name = ENGINE
    cross_file = True  # names, emails and aliases must be unique across every account file

    def __init__(self, settings: Settings, today: datetime.date | None = None) -> None:
        self._settings = settings
        self._metas = account_rules()
        self._today = today

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def accepts(self, artifact: Artifact) -> bool:
        return artifact.kind in KINDS

    def reference_kinds(self) -> tuple[str, ...]:
        """With --changed-since, discovery may scan only changed files; uniqueness and history
        still need every account file under the scanned paths: the pipeline hands them over."""
        return (INPUT_KIND,) if self._settings.changed_since else ()

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        return self.scan_against(artifacts, ())

    def scan_against(self, artifacts: Sequence[Artifact], reference: Sequence[Artifact]) -> Iterable[Finding]:
        if not artifacts and not self._settings.changed_since:
            return []  # with --changed-since, no changed file may still mean a deleted one
        try:
            policy = Policy.from_settings(self._settings, self._today)
        except PolicyError as exc:
            return [failure("IDP075", str(exc), Location(a.uri)) for a in artifacts]
        others = [a for a in reference if a.kind in KINDS]
        violations = [*self._file_violations(artifacts, policy), *uniqueness_violations(artifacts, others)]
        history, failures = self._history(artifacts, others)
        return [*self._findings([*violations, *history]), *failures]

    def _file_violations(self, artifacts: Sequence[Artifact], policy: Policy) -> Iterator[AccountViolation]:
        for artifact in artifacts:
            yield from schema_violations(artifact)
            yield from mandatory_violations(artifact)
            for entry in entries(artifact):
                yield from entry_violations(entry, policy)

    def _history(self, scanned: Sequence[Artifact], reference: Sequence[Artifact]) -> tuple[list[AccountViolation], list[Finding]]:
        from scanner.engines.account_history import (HistoryError, UnreadableBase, base_artifact, deleted_yaml_files,
                                                      history_violations, verify_ref)

        ref, root = self._settings.changed_since, self._settings.root
        if not ref:
            return [], []
        base: list[Artifact] = []
        notes: list[Finding] = []
        try:
            verify_ref(root, ref)
            uris = [a.uri for a in scanned] + deleted_yaml_files(root, ref, self._settings.paths)
            for uri in uris:
                try:
                    found = base_artifact(root, ref, uri)
                except UnreadableBase as exc:
                    notes.append(failure("IDP076", str(exc), Location(uri)))
                    continue
                if found is not None:
                    base.append(found)
        except HistoryError as exc:
            return [], [failure("IDP072", f"Accounts not compared with {ref}: {exc}", Location(a.uri)) for a in scanned]
        return list(history_violations(ref, base, [*scanned, *reference])), notes

    def _findings(self, violations: Sequence[AccountViolation]) -> Iterator[Finding]:
        """One finding per violation instance (rule, file, account, field): its fingerprint
        ignores lines, so repeats are one; the first place is reported and the messages joined."""
        grouped: dict[tuple[str, str, str, str], list[AccountViolation]] = {}
        for violation in violations:
            grouped.setdefault((violation.rule_id, violation.location.uri, violation.account or "", violation.key), []).append(violation)
        for (rule_id, _uri, account, key), group in grouped.items():
            group.sort(key=lambda v: (v.location.start_line, v.message))
            messages = list(dict.fromkeys(v.message for v in group))
            yield Finding(
                rule_id=rule_id,
                engine=self.name,
                severity=self._metas[rule_id].severity,
                message=" ".join(messages),
                location=group[0].location,
                resource=ResourceId(kind="account", name=account, type="account") if account else None,
                related=tuple(dict.fromkeys(r for v in group for r in v.related)),
                key=key,
            )


def create(settings: Settings) -> SchemaEngine:
    return SchemaEngine(settings)
