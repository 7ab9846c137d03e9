"""Which checks of other engines report a native rule's concern: the one table of equivalences.

A native rule owns a concern. Its `aliases` name checks that test exactly that concern (checkov's
CKV_AWS_53-56 and IDP-DATA-001: S3 public access). This table adds the equivalences across
engines that are not a native rule's own aliases (cfn-lint's dated-runtime rules, CDK's
CloudFormation-Validate plugin), each with the reason it holds, so that `merge` decides:

- where the owner found a violation on a resource, the others' findings on that resource are
  folded into it (`also`), at the highest severity of them;
- where the owner evaluated the resource and found it compliant, the others' findings there
  are superseded (kept, with the reason, never blocking) -- but only when the row `settles`:
  the other check tests the same thing, not something broader. A broader check (any
  "sensitive" port, where the owner judges SSH and RDP) is folded into the owner's finding
  but never silenced by its pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from scanner.model import RuleMeta


@dataclass(frozen=True)
class Equivalence:
    owner: str
    other: str
    settles: bool  # the owner's pass decides the other's finding on the same resource
    why: str


EQUIVALENCES: tuple[Equivalence, ...] = (
    Equivalence("IDP-DATA-001", "CKV2_AWS_6", True, "checkov: a bucket without an access-block resource; AWS blocks public access on new buckets since April 2023 (IDP-DATA-001's help)"),
    Equivalence("IDP-LAMBDA-001", "E2531", True, "cfn-lint: runtime deprecated (by date), the same table of AWS dates"),
    Equivalence("IDP-LAMBDA-001", "E2533", True, "cfn-lint: runtime no longer creatable, a later stage of the same deprecation"),
    Equivalence("IDP-LAMBDA-001", "W2531", False, "cfn-lint: runtime deprecation announced; broader in time (before the date IDP-LAMBDA-001 judges), so folded, never settled"),
    Equivalence("IDP-NET-001", "CKV_AWS_277", False, "all ports from the world open SSH and RDP too; broader, so folded, never settled"),
    Equivalence("IDP-NET-001", "W2508", False, "CloudFormation-Validate / cfn-lint: sensitive ports from the world; broader than SSH and RDP"),
    Equivalence("IDP-NET-002", "CKV_AWS_277", False, "all ports from the world open database ports too"),
    Equivalence("IDP-IAM-001", "CKV_AWS_107", False, "checkov: credentials-exposure actions without constraints; '*' on '*' implies it, a narrower policy may too"),
    Equivalence("IDP-IAM-001", "CKV_AWS_108", False, "checkov: data-exfiltration actions without constraints; implied by '*' on '*'"),
    Equivalence("IDP-IAM-001", "CKV_AWS_109", False, "checkov: permissions-management actions without constraints; implied by '*' on '*'"),
    Equivalence("IDP-IAM-001", "CKV_AWS_110", False, "checkov: privilege-escalation actions without constraints; implied by '*' on '*'"),
    Equivalence("IDP-IAM-001", "CKV_AWS_111", False, "checkov: write actions without constraints; implied by '*' on '*'"),
    Equivalence("IDP-ECS-002", "AwsSolutions-ECS7", False, "cdk-nag: container logging not configured, the same fix (a log driver per container)"),
    Equivalence("IDP-LAMBDA-001", "AwsSolutions-L1", False, "cdk-nag: not the latest runtime; broader than deprecated, so folded, never settled"),
    Equivalence("IDP-DATA-002", "W9008", False, "CloudFormation-Validate: database storage not encrypted"),
    Equivalence("IDP-DATA-003", "W9011", False, "CloudFormation-Validate: database publicly accessible"),
)


@dataclass(frozen=True)
class Owners:
    """For each other engine's rule id: the native rules whose concern it reports."""

    folds: Mapping[str, tuple[str, ...]]  # other id -> owners whose finding absorbs it
    settles: Mapping[str, tuple[str, ...]]  # other id -> owners whose pass supersedes it


def owners(rules: Iterable[RuleMeta], table: Iterable[Equivalence] = EQUIVALENCES) -> Owners:
    """Native aliases settle (they name the same check); table rows as declared."""
    folds: dict[str, list[str]] = {}
    settles: dict[str, list[str]] = {}
    for meta in rules:
        for alias in meta.aliases:
            folds.setdefault(alias, []).append(meta.id)
            settles.setdefault(alias, []).append(meta.id)
    for row in table:
        folds.setdefault(row.other, []).append(row.owner)
        if row.settles:
            settles.setdefault(row.other, []).append(row.owner)
    return Owners({k: tuple(dict.fromkeys(v)) for k, v in folds.items()}, {k: tuple(dict.fromkeys(v)) for k, v in settles.items()})


def settling_rules(rules: Iterable[RuleMeta], table: Iterable[Equivalence] = EQUIVALENCES) -> frozenset[str]:
    """Native rules whose pass supersedes another engine's finding: only their verdicts matter."""
    return frozenset(owner for names in owners(rules, table).settles.values() for owner in names)
