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
    "IDP070": (
        Severity.ERROR,
        "Account file could not be read",
        "The file looks like an account request (a top-level `accounts`, `mandatoryAccounts` or "
        "`workloadAccounts` list) but could not be read or parsed as YAML, so no account in it was "
        "checked.\n\n**Fix:** correct the YAML at the reported line. Account files are plain YAML: "
        "no custom tags (except LZA's `!include`), no duplicate keys.",
    ),
    "IDP072": (
        Severity.ERROR,
        "Base version of an account file could not be read",
        "With `--changed-since REF`, the account checks compare each account file with its version "
        "at REF (`git show REF:path`). That comparison failed (an unknown ref, no git repository, a "
        "base version that does not parse), so renamed, re-mailed or removed accounts were not "
        "detected.\n\n**Fix:** fetch the base ref (`git fetch origin main`; in GitHub Actions use "
        "`fetch-depth: 0`) or pass a ref that exists.",
    ),
    "IDP073": (
        Severity.NOTE,
        "Included accounts not checked",
        "An LZA `!include` points at another file; the accounts in it are checked where that file "
        "is scanned itself, not as part of this one.",
    ),
    "IDP074": (
        Severity.ERROR,
        "Organization configuration could not be read",
        "An `organization-config.yaml` sits beside the accounts file but could not be read or has "
        "no `organizationalUnits` list, so the accounts' organizational units were not checked."
        "\n\n**Fix:** correct the file at the reported line.",
    ),
    "IDP076": (
        Severity.NOTE,
        "Base version of an account file does not parse",
        "With `--changed-since REF`, this file's version at REF is not valid YAML, so no account "
        "could have been vended from it and its accounts were not compared for renames and "
        "removals. The current version is checked as usual.",
    ),
    "IDP075": (
        Severity.ERROR,
        "Invalid account-check configuration",
        "A value under `accounts:` in the configuration cannot be used (for example an `as_of` that "
        "is not a date, or a `cost_center_pattern` that does not compile), so the checks that need "
        "it did not run.\n\n**Fix:** correct the configuration.",
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
