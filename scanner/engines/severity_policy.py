"""The severity policy: why a rule blocks (error), warns (warning) or informs (note).

`severity_policy.json` is the source of truth for every engine. It names a few categories, each
with a severity, a security-severity and the reasoning written down (error: exposure to the
internet, secrets in plain text, admin rights or escalation, data deletion without protection,
templates that will not deploy; warning: encryption, rotation, hardening; note: logging,
backups, descriptions), and rates each engine's rules into them: per id with a one-line reason,
else by the first reviewed pattern that matches (the check's title for checkov, the rule id for
cfn-lint). checkov's part is applied once, by `scripts/checkov_severity.py`, into
`checkov_severity.json`; cfn-lint is rated at run time; native rules declare their severity in
code and get their category and reason here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from typing import Any, Mapping, Sequence

from scanner.model import RuleMeta, Severity

POLICY_FILE = "severity_policy.json"


@dataclass(frozen=True)
class Category:
    name: str
    severity: Severity
    score: float
    reasoning: str


@dataclass(frozen=True)
class Verdict:
    """A rule's rating under the policy, with the reason it has it."""

    category: str
    severity: Severity
    score: float
    reason: str

    def line(self) -> str:
        return f"severity: {self.severity.value} — because {self.reason} (category {self.category})"


@dataclass(frozen=True)
class EngineTable:
    """One engine's part: per-id entries, then reviewed patterns in order, then a default."""

    checks: Mapping[str, tuple[str, str, float | None]]
    patterns: tuple[tuple[re.Pattern[str], str, str, float | None], ...]
    default: tuple[str, str]


@dataclass(frozen=True)
class Policy:
    categories: Mapping[str, Category]
    checkov: EngineTable
    cfn_lint: EngineTable
    native: Mapping[str, tuple[str, str]]
    declared: Mapping[str, str]  # engine -> why its rules keep the severity they declare

    def verdict(self, category: str, reason: str, score: float | None = None) -> Verdict:
        known = self.categories[category]
        return Verdict(category, known.severity, known.score if score is None else score, reason)

    def judge(self, table: EngineTable, rule_id: str, text: str) -> Verdict:
        """Per-id entry, else the first pattern matching `text`, else the table's default."""
        if rule_id in table.checks:
            return self.verdict(*table.checks[rule_id])
        for pattern, category, reason, score in table.patterns:
            if pattern.search(text):
                return self.verdict(category, reason, score)
        return self.verdict(*table.default)

    def rate_checkov(self, check_id: str, title: str) -> Verdict:
        return self.judge(self.checkov, check_id, title)

    def rate_cfn_lint(self, rule_id: str) -> Verdict:
        return self.judge(self.cfn_lint, rule_id, rule_id)

    def rate_native(self, rule_id: str) -> Verdict | None:
        entry = self.native.get(rule_id)
        return self.verdict(*entry) if entry else None


def _entry(value: Sequence[Any]) -> tuple[str, str, float | None]:
    return str(value[0]), str(value[1]), float(value[2]) if len(value) > 2 else None


def _table(data: Mapping[str, Any]) -> EngineTable:
    return EngineTable(
        checks={rule_id: _entry(value) for rule_id, value in data["checks"].items()},
        patterns=tuple((re.compile(p[0], re.IGNORECASE), *_entry(p[1:])) for p in data["patterns"]),
        default=(str(data["default"][0]), str(data["default"][1])),
    )


def parse(data: Mapping[str, Any]) -> Policy:
    categories = {
        name: Category(name, Severity.parse(str(c["severity"])), float(c["score"]), str(c["reasoning"]))
        for name, c in data["categories"].items()
    }
    native = {rule_id: (str(v[0]), str(v[1])) for rule_id, v in data["native"].items()}
    declared = {engine: str(reason) for engine, reason in data["declared"].items()}
    return Policy(categories, _table(data["checkov"]), _table(data["cfn-lint"]), native, declared)


@lru_cache(maxsize=1)
def policy() -> Policy:
    text = package_files.files("scanner.engines").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    return parse(json.loads(text))


def explain(meta: RuleMeta, override: str | None = None) -> str:
    """The "severity: X — because ..." line `rules show` prints for a rule of any engine."""
    verdict = _policy_verdict(meta)
    if override:
        policy_part = f"; the policy says {verdict.severity.value}: {verdict.reason}" if verdict else ""
        return f"severity: {override} — because the configuration's `severity:` sets it{policy_part}"
    if verdict is None:
        reason = policy().declared.get(meta.engine, f"the {meta.engine} rule declares it (the policy has no entry for it)")
        return f"severity: {meta.severity.value} — because {reason}"
    return verdict.line()


def _policy_verdict(meta: RuleMeta) -> Verdict | None:
    if meta.engine == "checkov":
        from scanner.engines.checkov_checks import severity_table

        rating = severity_table().rate(meta.id)
        return Verdict(rating.category, rating.severity, rating.security_severity, rating.reason)
    if meta.engine == "cfn-lint":
        return policy().rate_cfn_lint(meta.id)
    return policy().rate_native(meta.id)
