"""The scanner's own findings: what could not be scanned blocks the merge (IDP0xx).

A failure is a finding like any other, so one type drives the reports and the exit code.
"""

from __future__ import annotations

from scanner.model import Finding, Location, ResourceId, RuleMeta, Severity

ENGINE = "idp-scan"

# Id ranges, so that each part of the scanner owns its own failures:
#   IDP001-009 loading and rules    IDP010-019 hostile and malformed input
#   IDP020-029 bundled engines      IDP030-039 suppressions, baselines, the gate
#   IDP040-049 budget and workers   IDP050-059 Terraform
#   IDP060-069 CDK cloud assemblies IDP070-079 account files

_FAILURES: dict[str, tuple[Severity, str, str]] = {
    "IDP001": (
        Severity.ERROR,
        "Infrastructure file could not be parsed",
        "The file looks like infrastructure code (a CloudFormation template, a Terraform file, "
        "a plan or an account request) but could not be parsed, so nothing in it was checked. "
        "What was not scanned was not proven compliant, so this blocks the merge.\n\n"
        "**Fix:** correct the syntax error at the reported line; `cfn-lint`, `terraform validate` "
        "or a YAML linter show the same error.",
    ),
    "IDP002": (
        Severity.ERROR,
        "Scan engine failed",
        "An engine crashed while checking these files, so its checks did not run on them. "
        "The other engines' results stand.\n\n**Fix:** rerun with `--debug` to see the cause and "
        "report it; a malformed file is the usual trigger.",
    ),
    "IDP003": (
        Severity.ERROR,
        "Scan engine timed out",
        "An engine did not finish within its time limit, so its checks did not run on these "
        "files.\n\n**Fix:** split very large templates, or raise the budget in the configuration.",
    ),
    "IDP004": (
        Severity.ERROR,
        "Invalid template structure",
        "The file parsed, but its structure is not what CloudFormation accepts (for example "
        "`Resources` is not a mapping, or a resource has no `Type`), so its resources could "
        "not be checked.\n\n**Fix:** correct the structure at the reported line.",
    ),
    "IDP005": (
        Severity.ERROR,
        "Rule failed",
        "A rule raised an error on this resource, so the resource was not proven compliant "
        "against it.\n\n**Fix:** rerun with `--debug`; report the rule's failure to its owner.",
    ),
    "IDP006": (
        Severity.NOTE,
        "Value could not be evaluated",
        "A rule needed a value that is only known at deploy time (a parameter without a "
        "default, an import, an unknown Terraform variable). The rule neither passed nor "
        "failed the resource on it.",
    ),
    "IDP040": (
        Severity.ERROR,
        "Not scanned before the time budget ran out",
        "The run stopped at its time budget (`--budget`, default 180 s) before these checks "
        "finished on this file, so it was not proven compliant. The run exits 3 and the reports "
        "hold what finished.\n\n**Fix:** rerun (cached results make the rerun faster), scan only "
        "what changed (`--changed-since`), give the run more cores (`--jobs`) or a larger "
        "`budget` in the configuration.",
    ),
    "IDP041": (
        Severity.ERROR,
        "Scan timed out on this file",
        "An engine ran longer than its per-file time limit (`unit_timeout`) on this file and was "
        "stopped, so its checks did not run on it.\n\n**Fix:** split very large templates or "
        "modules, or raise `unit_timeout` in the configuration.",
    ),
    "IDP042": (
        Severity.ERROR,
        "Scan worker process died",
        "The worker process checking this file died (a crash, or the system ran out of memory), "
        "so its checks did not run on it. The other files' results stand.\n\n**Fix:** rerun with "
        "`--debug --jobs 1` to see the cause, and report it.",
    ),
}


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


def is_failure_rule(rule_id: str) -> bool:
    return rule_id in _FAILURES


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
