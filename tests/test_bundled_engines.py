"""checkov and cfn-lint behind their adapters, end to end: one warm run shared by the module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES, REPO, SHARED, finding_set, needs_shared
from tests.sarif_validation import multitool, multitool_errors, schema_errors

MIXED = "fixtures/engines/mixed/service.yaml"
BAD_TYPE = "fixtures/engines/isolation/bad_type.yaml"
GOOD = "fixtures/engines/isolation/good.yaml"
LIST = "fixtures/engines/isolation/resources_list.yaml"
ALL_ENGINES = "native,checkov,cfn-lint"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("engines")
    code = main([
        "scan", str(FIXTURES / "engines" / "mixed"), str(FIXTURES / "engines" / "isolation"),
        "--engines", ALL_ENGINES, "--format", f"json={out / 'r.json'}", "--format", f"sarif={out / 'r.sarif'}",
    ])
    return {"code": code, "json": json.loads((out / "r.json").read_text()), "sarif_path": out / "r.sarif",
            "sarif": json.loads((out / "r.sarif").read_text())}


def by_rule(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule_id"] == rule_id]


def test_each_engine_reports_and_the_run_blocks(run):
    engines = {f["engine"] for f in run["json"]["findings"]}
    assert {"native", "checkov", "cfn-lint", "idp-scan"} <= engines
    assert run["code"] == 1


def test_our_own_findings_are_exactly_these(run):
    ours = {f for f in finding_set(run["json"]) if f[0].startswith("IDP")}
    assert ours == {
        ("IDP-NET-001", MIXED, 16, "BastionSecurityGroup"),
        ("IDP022", MIXED, 33, "GraphCluster"),  # checkov's CKV_AWS_361 raised on a string retention
        ("IDP020", BAD_TYPE, 1, ""),  # checkov raised on the whole file: `Type: !Ref AWS::Region`
        ("IDP004", BAD_TYPE, 4, "BadType"),
        ("IDP-NET-001", BAD_TYPE, 14, "OpenSecurityGroup"),
        ("IDP004", LIST, 3, ""),
        # The paved-road pack: the worker's runtime is deprecated; hygiene warnings on the rest.
        ("IDP-LAMBDA-001", MIXED, 45, "Worker"),
        ("IDP-OBS-001", MIXED, 44, "Worker"),
        ("IDP-TAG-001", MIXED, 1, "(stack)"),  # all three taggable resources lack the tags: once, for the stack
        ("IDP-TAG-001", BAD_TYPE, 8, "OpenSecurityGroup"),
        ("IDP-TAG-001", GOOD, 6, "PlainQueue"),
    }
    (crash,) = by_rule(run["json"], "IDP020")
    assert crash["message"].startswith(f"checkov failed on {BAD_TYPE}: TypeError")


def test_a_failing_file_does_not_sink_the_others(run):
    found = finding_set(run["json"])
    assert ("CKV_AWS_27", GOOD, 4, "PlainQueue") in found  # checkov ran on the healthy file of the batch
    assert ("E3001", BAD_TYPE, 5, "BadType") in found  # cfn-lint ran on the file checkov failed on
    assert any(f[0] == "E3001" and f[1] == LIST for f in found)  # and on the list of resources


def test_alias_dedup_keeps_the_native_finding_and_names_the_checkov_id(run):
    (native,) = [f for f in by_rule(run["json"], "IDP-NET-001") if f["location"]["uri"] == MIXED]
    assert "CKV_AWS_24" in native["also_reported_as"]
    assert by_rule(run["json"], "CKV_AWS_24") == []
    # The alias only absorbs the same resource in the same file: the RDP group is CKV_AWS_25's.
    (rdp,) = [f for f in by_rule(run["json"], "IDP-NET-001") if f["location"]["uri"] == BAD_TYPE]
    assert rdp["also_reported_as"] == []  # checkov did not finish that file


def test_their_suppressions_mark_their_findings_suppressed_with_the_reason(run):
    (skipped,) = by_rule(run["json"], "CKV_AWS_18")
    assert (skipped["status"], skipped["resource"]["name"]) == ("suppressed", "AccessLogsBucket")
    assert "this bucket is the access-log target itself" in skipped["status_reason"]
    ignored = [f for f in by_rule(run["json"], "I3011") if f["location"]["uri"] == MIXED]
    assert [(f["status"], f["resource"]["name"]) for f in ignored] == [("suppressed", "GraphCluster")]
    assert "ignore_checks" in ignored[0]["status_reason"]


def test_checkov_findings_carry_identity_lines_severity_and_help(run):
    (queue,) = by_rule(run["json"], "CKV_AWS_27")
    assert queue["severity"] == "warning" and queue["location"]["end_line"] == 7
    rules = {r["id"]: r for r in run["sarif"]["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CKV_AWS_27"]["helpUri"].startswith("https://github.com/bridgecrewio/checkov/blob/main/checkov/cloudformation/")
    assert rules["CKV_AWS_27"]["properties"]["security-severity"] == "5.5"
    assert rules["E3001"]["properties"]["security-severity"] == "6.0"


def test_one_sarif_holds_all_engines_and_is_valid(run):
    log = run["sarif"]
    assert schema_errors(log) == []
    rule_ids = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {"IDP-NET-001", "CKV_AWS_27", "E3001", "IDP020", "IDP022"} <= rule_ids
    tool = multitool()
    if tool is None:
        pytest.skip("Sarif.Multitool not installed (scripts/test.sh installs it)")
    assert multitool_errors(run["sarif_path"], tool) == []


def test_selection_by_prefix_across_engines_longest_prefix_wins(tmp_path):
    out = tmp_path / "r.json"
    code = main(["scan", str(FIXTURES / "engines" / "isolation" / "good.yaml"), "--engines", "checkov,cfn-lint",
                 "--select", "CKV_AWS", "--select", "I3013", "--ignore", "I", "--ignore", "CKV_AWS_2",
                 "--format", f"json={out}"])
    assert {f[0] for f in finding_set(json.loads(out.read_text()))} == {"I3013"}  # CKV_AWS_27 ignored by CKV_AWS_2
    assert code == 0


NO_NETWORK = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[1:] or kwargs)
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
from scanner.cli import main
code = main(sys.argv[1:])
print("ATTEMPTS", attempts, file=sys.stderr)
sys.exit(100 if attempts else code)
"""


def test_no_network_connection_is_ever_attempted(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_", "CHECKOV_"))}
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "scan", MIXED, "--engines", ALL_ENGINES, "--format", f"json={out}"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=600,
    )
    assert "ATTEMPTS []" in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 1
    assert any(f["engine"] == "checkov" for f in json.loads(out.read_text())["findings"])


@needs_shared
def test_the_shared_corpus_failure_files_become_findings(tmp_path):
    corpus = SHARED / "corpus" / "cfn-lint-fixtures"
    target = tmp_path / "t"
    target.mkdir()
    shutil.copy(corpus / "checkov_unhashable_type.yaml", target / "unhashable.yaml")
    out = tmp_path / "r.json"
    assert main(["scan", str(target), "--engines", "checkov", "--format", f"json={out}"]) == 1
    assert {f[0] for f in finding_set(json.loads(out.read_text())) if f[0].startswith("IDP02")} == {"IDP020"}


def test_terraform_modules_run_checkov_with_addresses_files_and_dedup(tmp_path):
    out = tmp_path / "r.json"
    code = main(["scan", str(FIXTURES / "engines" / "terraform"), "--engines", "native,checkov", "--format", f"json={out}"])
    report = json.loads(out.read_text())
    found = finding_set(report)
    assert ("CKV_AWS_27", "fixtures/engines/terraform/main.tf", 1, "aws_sqs_queue.orders") in found
    (native,) = by_rule(report, "IDP-NET-001")
    assert (native["location"]["uri"], native["resource"]["name"]) == ("fixtures/engines/terraform/modules/ssh/main.tf", "module.ssh.aws_security_group.ssh")
    assert "CKV_AWS_24" in native["also_reported_as"] and by_rule(report, "CKV_AWS_24") == []
    assert code == 1


def test_checkov_reports_an_unclosed_hcl_interpolation_as_unparsed(tmp_path):
    """hcl2's own grammar backtracks on this file until checkov gives up (~20 s); with the linear
    grammar both parsers refuse it at once, and both say so."""
    unclosed = "fixtures/hostile/terraform/unclosed-string"
    out = tmp_path / "r.json"
    assert main(["scan", str(REPO / unclosed), "--engines", "checkov", "--format", f"json={out}"]) == 1
    assert finding_set(json.loads(out.read_text())) == {
        ("IDP023", unclosed, 1, ""), ("IDP001", f"{unclosed}/main.tf", 6, ""),
    }


@needs_shared
def test_terraform_plans_run_checkov_plan_checks(tmp_path):
    plan = SHARED / "corpus" / "tfplan" / "checks__resource__aws__example_SecretManagerSecretEncrypted__tfplan.json"
    shutil.copy(plan, tmp_path / "plan.json")
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path / "plan.json"), "--engines", "checkov", "--format", f"json={out}"])
    found = {(f[0], f[3]) for f in finding_set(json.loads(out.read_text()))}
    assert ("CKV_AWS_149", "aws_secretsmanager_secret.not_specified") in found


def test_the_quick_start_with_every_default_engine(tmp_path):
    """The README's quick start: the demo's summary line, and the compliant example passes."""
    out = tmp_path / "demo.txt"
    assert main(["scan", str(FIXTURES / "examples" / "noncompliant"), "--no-cache", "--format", f"text={out}"]) == 1
    assert out.read_text().rstrip().splitlines()[-1] == "BLOCKED: 6 errors, 2 warnings, 7 notes (1 file scanned)"
    assert main(["scan", str(FIXTURES / "examples" / "compliant"), "--no-cache", "-o", str(tmp_path / "ok.txt")]) == 0


def test_rules_show_finds_a_checkov_id_without_naming_the_engine(capsys):
    assert main(["rules", "show", "CKV_AWS_24"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CKV_AWS_24  [error, engine checkov]\nEnsure no security groups allow ingress from 0.0.0.0:0 to port 22")
    assert "SecurityGroupUnrestrictedIngress22.py" in out


def test_checkovs_shared_expression_interpreter_starts_each_evaluation_afresh():
    """One asteval interpreter per process (building one per expression was a fifth of checkov's
    Terraform time); an error or a stray `break` must not leak into the next evaluation."""
    from scanner.engines.checkov_setup import runner_class as _runner_class

    _runner_class("terraform")
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions

    assert safe_eval_functions.get_asteval() is safe_eval_functions.get_asteval()
    with pytest.raises(ValueError):
        safe_eval_functions.evaluate("1 +")
    safe_eval_functions.evaluate("break")  # sets the interpreter's loop interrupt
    assert safe_eval_functions.evaluate("max(3, 7) + 1") == 8


def test_cfn_lint_template_wide_ignore_checks_show_as_suppressed(tmp_path):
    """cfn-lint would not run a rule the template ignores; idp-scan runs it and marks what it
    finds SUPPRESSED, so the waiver is visible (and `--include-suppressed` shows it)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Metadata:\n  cfn-lint:\n    config:\n      ignore_checks: [W20]\n      regions: [eu-west-1]\n"
        "Parameters:\n  Unused:\n    Type: String\n"
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    )
    out = tmp_path / "r.json"
    assert main(["scan", str(tmp_path), "--engines", "cfn-lint", "--format", f"json={out}"]) == 0
    report = json.loads(out.read_text())
    assert [(f["rule_id"], f["location"]["start_line"], f["status"], f["status_reason"]) for f in report["findings"]] == [
        ("W2001", 8, "suppressed", "cfn-lint: ignore_checks in the template's Metadata"),
    ]
