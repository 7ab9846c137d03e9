"""The severity policy: one reviewed table for every engine, and `rules show` says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idp_scan_rules import python_rules
from scanner.catalogue import bundled_entries
from scanner.cli import main
from scanner.engines import checkov_checks, severity_policy
from scanner.engines.cfn_lint import severity_of as cfn_lint_severity
from scanner.engines.checkov_checks import severity_table
from scanner.model import Severity

POLICY = Path(severity_policy.__file__).parent / "severity_policy.json"


def test_secret_encryption_and_rotation_checks_are_warnings_not_errors():
    """The keyword table rated any title with "secret" an error; the policy says encryption and rotation warn."""
    table = severity_table()
    rated = {check_id: (table.rate(check_id).severity, table.rate(check_id).category)
             for check_id in ("CKV_AWS_149", "CKV_AWS_304", "CKV2_AWS_57", "CKV_AWS_58")}
    assert rated == {
        "CKV_AWS_149": (Severity.WARNING, "encryption"),
        "CKV_AWS_304": (Severity.WARNING, "rotation"),
        "CKV2_AWS_57": (Severity.WARNING, "rotation"),
        "CKV_AWS_58": (Severity.WARNING, "encryption"),
    }


@pytest.mark.parametrize(("check_id", "severity", "category"), [
    # error: exposure to the internet
    ("CKV_AWS_20", "error", "internet-exposure"), ("CKV_AWS_24", "error", "internet-exposure"),
    ("CKV_AWS_277", "error", "internet-exposure"), ("CKV_AWS_17", "error", "internet-exposure"),
    ("CKV_AWS_60", "error", "internet-exposure"), ("CKV_AWS_168", "error", "internet-exposure"),
    ("CKV_AWS_33", "error", "internet-exposure"), ("CKV_AWS_53", "error", "internet-exposure"),
    # error: secrets in plain text
    ("CKV_AWS_45", "error", "plaintext-secret"), ("CKV_AWS_46", "error", "plaintext-secret"),
    ("CKV_AWS_384", "error", "plaintext-secret"),
    # error: admin and escalation
    ("CKV_AWS_62", "error", "admin-escalation"), ("CKV_AWS_286", "error", "admin-escalation"),
    ("CKV_AWS_274", "error", "admin-escalation"), ("CKV2_AWS_40", "error", "admin-escalation"),
    # error: data deletion without protection
    ("CKV_AWS_293", "error", "unprotected-deletion"), ("CKV_AWS_139", "error", "unprotected-deletion"),
    # warning: encryption, rotation, hardening
    ("CKV_AWS_19", "warning", "encryption"), ("CKV_AWS_27", "warning", "encryption"),
    ("CKV_AWS_16", "warning", "encryption"), ("CKV_AWS_7", "warning", "rotation"),
    ("CKV_AWS_9", "warning", "rotation"), ("CKV_AWS_10", "warning", "hardening"),
    ("CKV_AWS_392", "warning", "hardening"), ("CKV_AWS_260", "warning", "hardening"),
    ("CKV_AWS_382", "warning", "hardening"), ("CKV_AWS_355", "warning", "hardening"),
    ("CKV_AWS_79", "warning", "hardening"), ("CKV2_AWS_28", "warning", "hardening"),
    ("CKV_AWS_192", "warning", "hardening"),
    # note: logging, backups, descriptions
    ("CKV_AWS_18", "note", "logging"), ("CKV_AWS_50", "note", "logging"), ("CKV_AWS_76", "note", "logging"),
    ("CKV_AWS_21", "note", "backup"), ("CKV_AWS_28", "note", "backup"), ("CKV_AWS_116", "note", "backup"),
    ("CKV_AWS_23", "note", "description"), ("CKV_AWS_150", "note", "description"),
])
def test_representative_checkov_ids_per_category(check_id, severity, category):
    rating = severity_table().rate(check_id)
    assert (rating.severity.value, rating.category) == (severity, category)
    assert rating.reason


def test_the_severity_file_is_the_policy_applied_to_every_bundled_check():
    """checkov_severity.json is generated: regenerate it (scripts/checkov_severity.py) after editing the policy."""
    data = json.loads((Path(checkov_checks.__file__).parent / "checkov_severity.json").read_text())
    policy = severity_policy.policy()
    expected = {}
    for check_id, check in checkov_checks.bundled_checks().items():
        v = policy.rate_checkov(check_id, str(check.name))
        expected[check_id] = [v.severity.value, v.score, v.category, v.reason]
    assert data["checks"] == expected


def test_every_entry_names_a_known_category_with_a_reason():
    data = json.loads(POLICY.read_text())
    categories = set(data["categories"])
    assert {c["severity"] for c in data["categories"].values()} == {"error", "warning", "note"}
    entries = [*data["checkov"]["checks"].values(), *data["cfn-lint"]["checks"].values(), *data["native"].values(),
               data["checkov"]["default"], data["cfn-lint"]["default"]]
    entries += [p[1:] for p in data["checkov"]["patterns"] + data["cfn-lint"]["patterns"]]
    assert [e for e in entries if e[0] not in categories or len(e[1]) < 20] == []


def test_every_bundled_native_rule_has_a_reason_matching_its_declared_severity():
    policy = severity_policy.policy()
    declared = {entry.rule.meta().id: entry.rule.meta().severity for entry in bundled_entries()}
    rated = {rule_id: (policy.rate_native(rule_id) or severity_policy.Verdict("", Severity.NOTE, 0, "")).severity
             for rule_id in declared}
    assert rated == declared
    assert len(declared) == len(python_rules()) + 4  # the four YAML rules


@pytest.mark.parametrize(("rule_id", "severity"), [
    ("E3012", Severity.ERROR), ("E2531", Severity.ERROR), ("W2501", Severity.ERROR),
    ("W2531", Severity.WARNING), ("W3005", Severity.WARNING), ("I3011", Severity.NOTE), ("I3042", Severity.NOTE),
])
def test_cfn_lint_ids_are_rated_by_the_same_policy(rule_id, severity):
    assert cfn_lint_severity(rule_id) is severity


@pytest.mark.parametrize(("rule_id", "line"), [
    ("CKV_AWS_149", "severity: warning — because the secret is encrypted either way (with the AWS-managed key by "
                    "default); a customer-managed key is an encryption choice (category encryption)"),
    ("CKV_AWS_18", "severity: note — because it is about logging, monitoring or detection, which helps an "
                   "investigation but exposes nothing (category logging)"),
    ("IDP-NET-001", "severity: error — because SSH or RDP reachable from the internet is an admin surface anyone "
                    "can attack (category internet-exposure)"),
    ("W2501", "severity: error — because a password property is a literal, a plain (non-secure) SSM reference or a "
              "parameter without NoEcho: the password is readable in the template or in the stack's parameters "
              "(category plaintext-secret)"),
])
def test_rules_show_prints_why_a_rule_has_its_severity(capsys, rule_id, line):
    assert main(["rules", "show", rule_id]) == 0
    assert capsys.readouterr().out.splitlines()[3] == line


def test_rules_show_names_a_configured_override_and_the_policy_it_overrides(tmp_path, capsys, monkeypatch):
    (tmp_path / ".idp-scan.yaml").write_text("severity: {CKV_AWS_18: warning}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "show", "CKV_AWS_18"]) == 0
    assert capsys.readouterr().out.splitlines()[3] == (
        "severity: warning — because the configuration's `severity:` sets it; the policy says note: it is about "
        "logging, monitoring or detection, which helps an investigation but exposes nothing")


def test_rules_the_policy_does_not_rate_keep_their_declared_severity_with_the_reason_said():
    from scanner.model import RuleMeta

    gate = RuleMeta("IDP020", "idp-scan", Severity.ERROR, "Bundled engine failed on a file")
    pack = RuleMeta("ACME-001", "native", Severity.WARNING, "A team's own rule")
    assert severity_policy.explain(gate).startswith("severity: error — because it is the gate's own finding about the run")
    assert severity_policy.explain(pack) == "severity: warning — because the native rule declares it (the policy has no entry for it)"
