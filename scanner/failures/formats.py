"""The failures of Terraform, CDK cloud assemblies and account files (IDP050-079): (severity, title, help)."""

from __future__ import annotations

from scanner.model import Severity

FAILURES: dict[str, tuple[Severity, str, str]] = {
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
}
