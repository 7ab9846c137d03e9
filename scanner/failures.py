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
    "IDP020": (
        Severity.ERROR,
        "Bundled engine failed on a file",
        "checkov or cfn-lint raised an error on this file, so its checks did not run on it. "
        "Each file runs on its own when one fails, so the other files' results stand.\n\n"
        "**Fix:** rerun with `--debug` to see the cause. The usual trigger is a construct the "
        "engine does not expect (a `Type` that is an intrinsic function, `Resources` written "
        "as a list); correct the template, or report the engine's failure upstream.",
    ),
    "IDP021": (
        Severity.ERROR,
        "Bundled engine timed out on a file",
        "checkov or cfn-lint did not finish this file within its time limit (cfn-lint has none of "
        "its own; templates with many conditions have taken it over an hour), so its checks did "
        "not run on it.\n\n**Fix:** split the template, or raise `checkov.timeout` / "
        "`cfn_lint.timeout` (seconds per file) in `.idp-scan.yaml`.",
    ),
    "IDP022": (
        Severity.ERROR,
        "checkov check failed on a resource",
        "A checkov check raised an error on this resource (for example it compared a parameter "
        "string to a number). checkov itself only logs this and drops the result; idp-scan "
        "reports it, because the resource was not proven compliant against the check.\n\n"
        "**Fix:** make the property a literal of the expected type, or suppress the check for "
        "this resource with a reasoned checkov skip.",
    ),
    "IDP023": (
        Severity.ERROR,
        "checkov could not parse a file",
        "idp-scan parsed this template but checkov's own parser rejected it, so checkov's "
        "checks did not run on it.\n\n**Fix:** rerun with `--debug`; simplify the construct "
        "checkov's parser rejects.",
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
