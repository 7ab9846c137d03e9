"""The failures of suppressions, baselines, the gate, the budget and the workers (IDP030-049):
(severity, title, help)."""

from __future__ import annotations

from scanner.model import Severity

FAILURES: dict[str, tuple[Severity, str, str]] = {
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
