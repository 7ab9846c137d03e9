"""The scanner's own findings: what could not be scanned blocks the merge (IDP0xx).

A failure is a finding like any other, so one type drives the reports and the exit code.
"""

from __future__ import annotations

from scanner.failures import formats, gate_and_budget, scanning
from scanner.model import Finding, Location, ResourceId, RuleMeta, Severity

ENGINE = "idp-scan"

# Id ranges, so that each part of the scanner owns its own failures:
#   IDP001-009 loading and rules    IDP010-019 hostile and malformed input
#   IDP020-029 bundled engines      IDP030-039 suppressions, baselines, the gate
#   IDP040-049 budget and workers   IDP050-059 Terraform
#   IDP060-069 CDK cloud assemblies IDP070-079 account files

# In the order the parts were written in (the order of `failure_rules`).
_FAILURES: dict[str, tuple[Severity, str, str]] = {**scanning.FAILURES, **formats.FAILURES, **gate_and_budget.FAILURES}


def failure_rules() -> dict[str, RuleMeta]:
    return {
        rule_id: RuleMeta(
            id=rule_id,
            engine=ENGINE,
            severity=severity,
            title=title,
            help_markdown=help_text,
            tags=("idp-scan", "reliability"),
            security_severity=None,
        )
        for rule_id, (severity, title, help_text) in _FAILURES.items()
    }


def is_failure(finding: Finding) -> bool:
    """The scanner's own finding (engine `idp-scan`): about the run, not about the infrastructure."""
    return finding.engine == ENGINE


def is_blocking_failure(finding: Finding) -> bool:
    """A failure of the run that blocks: an error, also reported as a tool notification."""
    return is_failure(finding) and finding.severity is Severity.ERROR


def is_failure_rule(rule_id: str) -> bool:
    return rule_id in _FAILURES


# Failures that leave a file (or a resource, for a rule) unchecked. Accepting one in a baseline
# accepts the file as it is: once it changes, the failure is new, or a baselined parse error
# would let anything into that file for good.
_UNSCANNED = frozenset({
    "IDP001", "IDP002", "IDP003", "IDP004", "IDP005", "IDP007", "IDP011", "IDP012", "IDP013", "IDP014", "IDP016",
    "IDP019", "IDP020", "IDP021", "IDP022", "IDP023", "IDP026", "IDP027", "IDP040", "IDP041", "IDP042",
    "IDP060", "IDP061", "IDP063", "IDP070",
})


def leaves_unscanned(rule_id: str) -> bool:
    return rule_id in _UNSCANNED


def is_gate_rule(rule_id: str) -> bool:
    """The gate's own findings (about suppressions and baselines) cannot themselves be suppressed."""
    return rule_id in _FAILURES and "IDP030" <= rule_id <= "IDP039"


# Failures that the same bytes, engine version and rules reproduce every time (a rule or check
# that raises on a resource, a file an engine raises on or cannot parse). Anything else the
# scanner reports about itself (a timeout, a dead worker, the budget) may not recur.
_RECURRING = frozenset({"IDP005", "IDP020", "IDP022", "IDP023"})


def recurs(rule_id: str) -> bool:
    """Would this failure come back on the same input? (Only those may be cached.)"""
    return rule_id in _RECURRING


def failure(
    rule_id: str,
    message: str,
    location: Location,
    resource: ResourceId | None = None,
) -> Finding:
    severity = _FAILURES[rule_id][0]
    return Finding(
        rule_id=rule_id,
        engine=ENGINE,
        severity=severity,
        message=message,
        location=location,
        resource=resource,
    )
