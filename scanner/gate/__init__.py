"""The gate: which rules are in effect, and what the run's exit code is.

The gate marks findings (OPEN, SUPPRESSED, BASELINED); it never drops them. Selection is a
tiny decision table over id prefixes: the longest matching prefix of `select` and `ignore`
wins; the scanner's own failure findings (IDP0xx) cannot be deselected, because what was not
scanned was not proven compliant.
"""

from __future__ import annotations

import enum
from typing import Sequence

from scanner.failures import is_failure_rule
from scanner.model import Artifact, Finding, ScanResult
from scanner.settings import Settings


class ExitCode(enum.IntEnum):
    OK = 0
    BLOCKED = 1
    USAGE = 2
    BUDGET = 3


def _longest(rule_id: str, prefixes: Sequence[str]) -> int:
    return max((len(p) for p in prefixes if rule_id.startswith(p)), default=-1)


def is_selected(rule_id: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    if is_failure_rule(rule_id):
        return True
    selected = _longest(rule_id, select) if select else 0  # no select: every rule, at length 0
    return selected >= 0 and selected >= _longest(rule_id, ignore)


def exit_code(result: ScanResult) -> ExitCode:
    if not result.complete:
        return ExitCode.BUDGET
    return ExitCode.BLOCKED if result.blocking else ExitCode.OK


def mark(findings: Sequence[Finding], artifacts: Sequence[Artifact], settings: Settings) -> list[Finding]:
    """Mark suppressed and baselined findings (and add findings about the waivers themselves).

    Inputs may leave `Suppression`s in `artifact.context["suppressions"]`.
    """
    return list(findings)
