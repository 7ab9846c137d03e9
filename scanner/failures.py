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
    "IDP007": (
        Severity.ERROR,
        "Template-like file not checked",
        "The file is named like a template (`.template`, `.cfn`, `template.yaml`) and has "
        "`Resources` or `Transform`, but its `Resources` are not typed CloudFormation resources "
        "(for example the input of a macro, which only the macro turns into a template), so "
        "nothing in it could be checked. What was not scanned was not proven compliant.\n\n"
        "**Fix:** scan the template the macro produces, or exclude this file from the scan "
        "deliberately (a waiver with a reason).",
    ),
    "IDP026": (
        Severity.ERROR,
        "CloudFormation Guard rules did not run",
        "Guard rules are configured (`guard.rules`) but cfn-guard could not run them: no binary was "
        "found (`guard.binary`, `cfn-guard` on PATH, then the npm package "
        "`@cdklabs/cdk-validator-cfnguard` in the repository's or the scanned app's `node_modules` or "
        "npm's global root), or `control-tower` was asked for without that package. Nothing is "
        "downloaded at scan time. What was not checked was not proven compliant.\n\n**Fix:** "
        "`npm install @cdklabs/cdk-validator-cfnguard` (it ships the cfn-guard 3.1.1 binary and the "
        "Control Tower rules), or set `guard.binary`.",
    ),
    "IDP027": (
        Severity.ERROR,
        "CloudFormation Guard rule file could not be parsed",
        "cfn-guard could not parse one of the configured Guard rule files, so the rules in it did not "
        "run on this file (the other rule files' results stand).\n\n**Fix:** correct the rule file "
        "the message names; `cfn-guard parse-tree -r FILE` shows the same error.",
    ),
    "IDP010": (
        Severity.ERROR,
        "Duplicate key",
        "A mapping names the same key twice. CloudFormation rejects such a template, and a parser "
        "that keeps the last value (most tools do) silently hides the first one, violations "
        "included. idp-scan checks both values.\n\n**Fix:** remove or rename one of the two keys.",
    ),
    "IDP011": (
        Severity.ERROR,
        "Document over a nesting or expansion limit",
        "The document nests deeper, or expands (YAML aliases included) to more values, than the "
        "configured limits (`limits.max_depth`, `limits.max_nodes`), so it was not parsed: such "
        "files are how alias bombs and recursion exhaustion are built.\n\n**Fix:** flatten the "
        "document, or raise the limit in the configuration if the file is genuine.",
    ),
    "IDP012": (
        Severity.ERROR,
        "File over the size limit",
        "The file is larger than `limits.max_file_bytes` (default 1 MB, the size CloudFormation "
        "itself accepts), so it was not parsed.\n\n**Fix:** split the template into nested stacks, "
        "or raise the limit in the configuration.",
    ),
    "IDP013": (
        Severity.ERROR,
        "Binary or undecodable file",
        "A file that looks like infrastructure code by its name is binary, or text in an encoding "
        "other than UTF-8 (or UTF-16 with a byte-order mark), so it could not be read.\n\n"
        "**Fix:** save the file as UTF-8, or rename it if it is not a template.",
    ),
    "IDP014": (
        Severity.ERROR,
        "Empty template",
        "A file named like a template is empty. CloudFormation rejects an empty template.\n\n"
        "**Fix:** add the resources, or delete the file.",
    ),
    "IDP015": (
        Severity.WARNING,
        "Transform not evaluable",
        "The template declares a macro `Transform` that idp-scan cannot expand (only the SAM "
        "transform `AWS::Serverless-2016-10-31` and `AWS::LanguageExtensions` are expanded, as "
        "cfn-lint does). A macro may rewrite the template at deploy time, so the resources that "
        "were checked may not be the ones deployed. This is a warning, not an error, because "
        "macros are legitimate and the written resources were still checked; set "
        "`fail_on: warning` to block on it.\n\n**Fix:** scan the processed template "
        "(`aws cloudformation get-template --template-stage Processed`) as well.",
    ),
    "IDP016": (
        Severity.ERROR,
        "File could not be read",
        "A file could not be opened or read (permissions, a special file, a race with another "
        "process), so it was not checked.\n\n**Fix:** make the file readable, or remove it.",
    ),
    "IDP017": (
        Severity.NOTE,
        "Symbolic link not followed",
        "A symbolic link points outside the scanned paths, or to nothing, so it was not followed: "
        "a scan reads only the tree it was given.\n\n**Fix:** scan the link's target directly if it "
        "holds infrastructure code.",
    ),
    "IDP018": (
        Severity.NOTE,
        "Not infrastructure code, skipped",
        "A file looked like a template but belongs to a Helm chart (a `Chart.yaml` sits beside or "
        "above it) and is not valid YAML before Helm renders it. It is not infrastructure code "
        "for this scanner and was skipped.",
    ),
    "IDP019": (
        Severity.ERROR,
        "SAM transform failed",
        "The template uses the SAM transform, but the SAM translator rejected it, so the resources "
        "it would create were not checked (CloudFormation would reject it too).\n\n**Fix:** correct "
        "the error the message names; `sam validate` shows the same error.",
    ),
    "IDP050": (
        Severity.ERROR,
        "Terraform local module not found",
        "A module block names a local directory (`source = \"./modules/x\"`) that does not exist "
        "in the repository (or the modules nest more than 16 deep), so the module's resources "
        "were not checked. `terraform init` fails on the same configuration.\n\n**Fix:** correct "
        "the `source` path, or commit the module.",
    ),
    "IDP051": (
        Severity.NOTE,
        "Terraform variable has no value",
        "A root module variable has no default and no value in `terraform.tfvars` or "
        "`*.auto.tfvars`, so every value that depends on it is unknown to the scan: rules neither "
        "pass nor fail a resource on it. A plan JSON scan sees the real value.\n\n**Fix:** if the "
        "value matters for compliance, give the variable a default or a tfvars entry, or scan the "
        "plan (`terraform show -json plan.out > plan.json`).",
    ),
    "IDP052": (
        Severity.NOTE,
        "Remote Terraform module not checked",
        "A module comes from a registry, Git or another remote source. idp-scan never downloads "
        "code, so the module's resources were not checked from HCL.\n\n**Fix:** scan the plan "
        "JSON (`terraform show -json plan.out > plan.json`), which contains every module's "
        "resources.",
    ),
    "IDP053": (
        Severity.NOTE,
        "Terraform count or for_each not evaluated",
        "The `count` or `for_each` of a resource, module or dynamic block depends on values only "
        "known at apply time, so its instances were not checked from HCL (none was passed or "
        "failed).\n\n**Fix:** scan the plan JSON, where every instance is known.",
    ),
    "IDP060": (
        Severity.ERROR,
        "CDK cloud assembly could not be read",
        "A `cdk.out` directory (or a nested assembly of a Stage) has a `manifest.json` that is "
        "not valid JSON, is not a cloud assembly manifest, or lists an artifact that is not a "
        "mapping, so the stacks it describes were not checked.\n\n**Fix:** run `cdk synth` again; "
        "do not edit `cdk.out` by hand.",
    ),
    "IDP061": (
        Severity.ERROR,
        "CDK cloud assembly entry missing",
        "The cloud assembly manifest names a stack template, a nested stack template or a "
        "nested assembly that is not in the `cdk.out` directory, so it was not checked.\n\n"
        "**Fix:** run `cdk synth` again and scan the complete `cdk.out` (a partial copy, a "
        "`.gitignore` or an artifact upload filter can drop files).",
    ),
    "IDP062": (
        Severity.WARNING,
        "CDK stack metadata could not be read",
        "The stack's metadata file (`<Stack>.metadata.json`) is missing or unreadable. Its "
        "templates were scanned, but findings name template logical ids instead of construct "
        "paths and carry no source lines.\n\n**Fix:** run `cdk synth` again.",
    ),
    "IDP063": (
        Severity.ERROR,
        "CDK validation report could not be read",
        "`validation-report.json` (written by aws-cdk-lib's policy validation and cdk-nag) "
        "could not be read, so its violations could not gate the merge.\n\n**Fix:** run "
        "`cdk synth` again.",
    ),
    "IDP064": (
        Severity.NOTE,
        "CDK framework resources added by a construct option",
        "An option of this construct (`autoDeleteObjects: true`, `logRetention`, a bucket "
        "notification, ...) makes CDK add resources of its own: a custom-resource provider, a "
        "log-retention function, a notifications handler. Their runtime, role, tracing, "
        "concurrency and tags are CDK's choice and tag aspects do not reach them, so what is found "
        "on them is marked suppressed (\"CDK framework resource\"); `--no-suppressions` shows it.\n\n"
        "**Fix:** nothing to do; to be rid of the extra resources, drop the option (empty the "
        "bucket in the pipeline, set the retention on a `LogGroup` you create).",
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
    "IDP030": (
        Severity.ERROR,
        "Suppression, waiver or baseline could not be read",
        "A suppression (template `Metadata`, an `idp-scan:ignore` comment), the waivers file or "
        "the baseline is malformed, so it cannot be honoured. The findings it meant to cover "
        "stay open.\n\n**Fix:** correct it at the reported line. Forms:\n\n"
        "- `Metadata: {idp-scan: {suppress: [{id: IDP-NET-001, reason: \"...\", expires: 2027-03-31}]}}`\n"
        "- `# idp-scan:ignore IDP-NET-001 expires=2027-03-31 reason=\"bastion behind VPN\"`\n"
        "- waivers file entries with `rule`, `files` and/or `resources`, `reason`, `owner`, optional `expires`.",
    ),
    "IDP031": (
        Severity.WARNING,
        "Suppression without a reason",
        "Every suppression must say why (at least 10 characters), so that a reviewer can judge "
        "it. A suppression without one does not suppress.\n\n**Fix:** add `reason=\"...\"` "
        "(comments) or `reason: ...` (Metadata, waivers file).",
    ),
    "IDP032": (
        Severity.WARNING,
        "Suppression expired",
        "The suppression's expiry date has passed, so it no longer suppresses: the finding it "
        "covered is open again.\n\n**Fix:** fix the finding, or renew the suppression with a "
        "new date and a current reason.",
    ),
    "IDP033": (
        Severity.WARNING,
        "Suppression expires soon",
        "The suppression expires within 14 days; after that the finding it covers blocks the "
        "merge.\n\n**Fix:** plan the fix now, or renew the suppression.",
    ),
    "IDP034": (
        Severity.WARNING,
        "Suppression matches nothing",
        "No finding matched this suppression: the problem was fixed, the rule id is wrong, or "
        "the scope does not name the resource. An unused suppression hides the next real "
        "finding.\n\n**Fix:** remove it, or correct its rule id or scope.",
    ),
    "IDP035": (
        Severity.WARNING,
        "Mandatory rule cannot be suppressed inline",
        "The configuration marks this rule `mandatory`: it cannot be suppressed in the code it "
        "judges. The finding stays open.\n\n**Fix:** fix the finding, or ask the platform "
        "team for a waiver in the central waivers file.",
    ),
    "IDP036": (
        Severity.WARNING,
        "Baseline entry is stale",
        "A baseline entry matched no finding in the files scanned: the finding was fixed (or "
        "its file or resource renamed).\n\n**Fix:** rewrite the baseline "
        "(`idp-scan baseline write FILE`), which drops stale entries of the files it scans.",
    ),
    "IDP037": (
        Severity.NOTE,
        "Baseline in an old format",
        "The baseline was written in format 1, with one entry per rule and resource. It is still "
        "honoured: an entry covers the violations whose messages it recorded, so a new violation "
        "of the same rule on the same resource is not covered and blocks. Format 2 records one "
        "entry per violation instance.\n\n**Fix:** rewrite it with `idp-scan baseline write FILE`.",
    ),
    "IDP038": (
        Severity.ERROR,
        "Baseline entry of a deleted file",
        "The baseline accepts a finding in a file that no longer exists. Left there, the entry "
        "would accept the same finding in any file later created at that path, unreviewed.\n\n"
        "**Fix:** rewrite the baseline (`idp-scan baseline write FILE`), which drops entries of "
        "deleted files.",
    ),
    "IDP039": (
        Severity.WARNING,
        "Configuration file below the root is not applied",
        "Only the configuration at the scan root (the repository root) applies, or the one "
        "`--config` names. A `.idp-scan.yaml` deeper in the tree is ignored: otherwise a pull "
        "request could loosen the policy that judges it (`fail_on: never`, `ignore: [IDP]`) by "
        "adding one beside the code it changes.\n\n**Fix:** move its settings into the root "
        "configuration (rule directories, waivers and baselines may name files anywhere), or "
        "pass it with `--config` where a separate policy is intended.",
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
