"""The failures of loading, hostile input and the engines (IDP001-029): (severity, title, help)."""

from __future__ import annotations

from scanner.model import Severity

FAILURES: dict[str, tuple[Severity, str, str]] = {
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
}
