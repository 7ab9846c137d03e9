"""The guard engine: CloudFormation Guard rules run by the cfn-guard 3.1.1 binary.

The binary and the AWS Control Tower rules come from the npm package the repository's
package.json installs (@cdklabs/cdk-validator-cfnguard 0.0.62, `npm install`); tests that run
them skip with the reason shown where it is not installed. The Guard Rules Registry and the
template corpus are the shared corpora (skipped, with the reason, where absent).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from benchmarks.guard_conformance import compare, templates
from scanner.cli import main
from scanner.engines import cfn_guard_binary as guard
from scanner.engines.cfn_guard import GuardEngine, GuardOptions, typed_path, without_guard_suppressions
from scanner.engines.cfn_guard_rules import load_rules, metadata_file, rule_files, rule_names, rule_test_pairs
from scanner.model import Severity
from tests.conftest import FIXTURES, REPO, SHARED, needs_shared

GUARD = FIXTURES / "guard"
APP = GUARD / "app"
CONFIG = APP / ".idp-scan.yaml"
TEMPLATE = "fixtures/guard/app/template.yaml"


def _binary() -> Path | None:
    try:
        return guard.find_binary(None, [REPO])
    except guard.GuardUnavailable:
        return None


BINARY = _binary()
PACKAGE = next(iter(guard.package_dirs([REPO], npm_global=False)), None)
needs_binary = pytest.mark.skipif(BINARY is None, reason="cfn-guard not installed (npm install, see package.json)")
needs_package = pytest.mark.skipif(PACKAGE is None, reason=f"{guard.PACKAGE} not installed (npm install, see package.json)")
CONTROL_TOWER = (PACKAGE / "rules" / "control-tower" / "cfn-guard") if PACKAGE else Path("missing")


def _findings(report: dict, engine: str = "guard") -> set[tuple[str, str, int, str, str]]:
    return {
        (f["rule_id"], f["location"]["uri"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""), f["status"])
        for f in report["findings"]
        if f["engine"] == engine
    }


def _scan(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["scan", *args, "--format", f"json={out}", "--include-suppressed"])
    return code, json.loads(out.read_text()) if out.exists() else {}


# -- a team's own rules ----------------------------------------------------------------------


@needs_binary
def test_custom_rule_reports_the_failing_property_line_with_the_rules_message(tmp_path):
    # The app's configuration (named: below the root it applies only so) puts guard in the default set.
    code, report = _scan(tmp_path, str(APP), "--config", str(APP / ".idp-scan.yaml"))
    assert code == 1
    assert _findings(report) == {
        ("S3_BUCKET_VERSIONING_ENABLED", TEMPLATE, 9, "FailSuspendedBucket", "open"),  # Status: Suspended
        ("S3_BUCKET_VERSIONING_ENABLED", TEMPLATE, 10, "FailUnversionedBucket", "open"),  # no property: the resource
        ("S3_BUCKET_VERSIONING_ENABLED", TEMPLATE, 17, "SuppressedByGuardBucket", "suppressed"),
        ("S3_BUCKET_VERSIONING_ENABLED", TEMPLATE, 22, "SuppressedByIdpScanBucket", "suppressed"),
        ("SG_NO_WORLD_SSH", TEMPLATE, 41, "FailWorldSshGroup", "open"),  # the CidrIp of the port 22 entry
    }
    by_resource = {f["resource"]["name"]: f for f in report["findings"] if f["engine"] == "guard"}
    assert by_resource["FailWorldSshGroup"]["message"] == (
        "Violation: SSH (22) is open to the whole internet. Fix: allow SSH from the VPN's range only, or use Session Manager.")
    assert by_resource["SuppressedByGuardBucket"]["status_reason"] == "cfn-guard: Metadata.guard.SuppressedRules of SuppressedByGuardBucket"
    assert "scratch bucket" in by_resource["SuppressedByIdpScanBucket"]["status_reason"]


@needs_binary
def test_findings_on_cdk_out_carry_construct_paths_and_source_lines(tmp_path):
    code, report = _scan(tmp_path, "fixtures/cdk/app", "--config", str(CONFIG), "--engines", "guard")
    assert code == 1
    assert _findings(report) == {
        ("SG_NO_WORLD_SSH", "fixtures/cdk/app/lib/legacy-bastion.ts", 22, "Orders/LegacyBastion/BastionSg/Resource", "open"),
        ("SG_NO_WORLD_SSH", "fixtures/cdk/app/lib/waived-access.ts", 15, "Orders/Waived/JumpHostSg/Resource", "open"),
        ("SG_NO_WORLD_SSH", "fixtures/cdk/app/lib/waived-access.ts", 25, "Orders/Waived/NagSg/Resource", "open"),
        ("S3_BUCKET_VERSIONING_ENABLED", "fixtures/cdk/app/lib/legacy-bastion.ts", 27, "Orders/LegacyBastion/PublicAssets/Resource", "open"),
        ("S3_BUCKET_VERSIONING_ENABLED", "fixtures/cdk/app/lib/paved-road-service.ts", 29, "Orders/Orders/AccessLogs/Resource", "open"),
        ("S3_BUCKET_VERSIONING_ENABLED", "fixtures/cdk/app/lib/paved-road-service.ts", 29,
         "PreviewPr123/Service/Orders/AccessLogs/Resource", "open"),
    }
    templates_named = {r["uri"] for f in report["findings"] if f["engine"] == "guard" for r in f["related"]}
    assert "fixtures/cdk/app/cdk.out/Orders.template.json" in templates_named


def test_guard_joins_the_default_engines_only_when_rules_are_configured(tmp_path):
    from scanner.engines import selected_engine_names
    from scanner.settings import build_settings

    assert "guard" in selected_engine_names(build_settings([APP], APP / ".idp-scan.yaml"))
    assert "guard" not in selected_engine_names(build_settings([tmp_path]))


# -- never a silent pass ---------------------------------------------------------------------


def test_no_binary_is_a_blocking_finding_on_each_template(tmp_path, monkeypatch):
    app = tmp_path / "app"
    shutil.copytree(APP, app)
    (app / ".idp-scan.yaml").write_text(f"guard:\n  rules: [{GUARD / 'rules'}]\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(guard, "_npm_global_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    code, report = _scan(tmp_path, "app", "--engines", "guard", "--config", "app/.idp-scan.yaml")
    assert code == 1
    failures = [f for f in report["findings"] if f["rule_id"] == "IDP026"]
    assert [(f["location"]["uri"], f["severity"]) for f in failures] == [("app/template.yaml", "error")]
    assert "npm install @cdklabs/cdk-validator-cfnguard" in failures[0]["message"]


def test_a_configured_binary_that_does_not_exist_is_reported_not_searched_past(tmp_path):
    engine = GuardEngine(GuardOptions(rules=(str(GUARD / "rules"),), binary=tmp_path / "cfn-guard"))
    from scanner.inputs import cfn

    artifact, _ = cfn.load_text((APP / "template.yaml").read_text(), APP / "template.yaml", TEMPLATE)
    assert artifact is not None
    findings = list(engine.scan([artifact]))
    assert [(f.rule_id, f.severity) for f in findings] == [("IDP026", Severity.ERROR)]
    assert "is not an executable file" in findings[0].message


@needs_binary
def test_a_rule_file_that_does_not_parse_is_reported_and_the_others_still_run(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(GUARD / "rules", rules)
    (rules / "broken.guard").write_text("rule BROKEN {\n")
    app = tmp_path / "app"
    shutil.copytree(APP, app)
    (app / ".idp-scan.yaml").write_text(f"guard:\n  rules: [{rules}]\n  binary: {BINARY}\n")
    code, report = _scan(tmp_path, str(app), "--engines", "guard")
    assert code == 1
    assert {f["rule_id"] for f in report["findings"]} == {"IDP027", "S3_BUCKET_VERSIONING_ENABLED", "SG_NO_WORLD_SSH"}


def test_unknown_guard_key_is_a_configuration_error(tmp_path):
    (tmp_path / ".idp-scan.yaml").write_text("guard:\n  rule: [policy]\n")
    (tmp_path / "t.yaml").write_text("Resources: {}\n")
    assert main(["scan", str(tmp_path)]) == 2


def test_a_missing_rule_path_is_a_configuration_error(tmp_path):
    (tmp_path / ".idp-scan.yaml").write_text("guard:\n  rules: [nowhere]\n")
    (tmp_path / "t.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B: {Type: AWS::S3::Bucket}\n")
    assert main(["scan", str(tmp_path), "--engines", "guard"]) == 2


# -- reading Guard's output and rule files ---------------------------------------------------


def test_guard_paths_become_artifact_paths_with_list_indices():
    data = {"Resources": {"Sg": {"Properties": {"SecurityGroupIngress": [{"CidrIp": "x"}, {"CidrIp": "y"}]}}}}
    assert typed_path(data, ("Resources", "Sg", "Properties", "SecurityGroupIngress", "1", "CidrIp")) == (
        "Resources", "Sg", "Properties", "SecurityGroupIngress", 1, "CidrIp")
    assert typed_path({"Resources": {"1": {}}}, ("Resources", "1")) == ("Resources", "1")


def test_guard_suppressions_are_taken_out_of_what_the_rules_see():
    template = {"Resources": {"A": {"Type": "T", "Metadata": {"guard": {"SuppressedRules": ["R"], "Other": 1}, "x": 2}},
                              "B": {"Type": "T"}}}
    cleaned = without_guard_suppressions(template)
    assert cleaned["Resources"]["A"]["Metadata"] == {"guard": {"Other": 1}, "x": 2}
    assert template["Resources"]["A"]["Metadata"]["guard"]["SuppressedRules"] == ["R"]  # not mutated
    untouched = {"Resources": {"B": {"Type": "T"}}}
    assert without_guard_suppressions(untouched) is untouched


def test_verdicts_prefer_fail_over_pass_over_skip_and_clauses_name_their_paths():
    report = {
        "name": "t.json", "status": "FAIL", "compliant": ["B"], "not_applicable": ["A", "B", "C"],
        "not_compliant": [{"Rule": {"name": "A", "messages": {"custom_message": None}, "checks": [
            {"Rule": {"name": "check", "messages": {"custom_message": "\n  Violation: x\n  Fix: y\n"}, "checks": [
                {"Clause": {"Binary": {"messages": {"custom_message": ""}, "check": {"Resolved": {
                    "from": {"path": "/Resources/R/Properties/P/0", "value": 1}, "to": {"path": "", "value": 2}}}}}},
                {"Block": {"messages": {"custom_message": ""}, "unresolved": {
                    "traversed_to": {"path": "/Resources/S", "value": {}}, "remaining_query": "Properties"}}},
            ]}}]}}],
    }
    verdict = guard.file_verdict(report)
    assert verdict.statuses == {"A": "FAIL", "B": "PASS", "C": "SKIP"}
    assert verdict.violations == (
        guard.Violation("A", ("Resources", "R", "Properties", "P", "0"), "Violation: x Fix: y"),
        guard.Violation("A", ("Resources", "S"), "Violation: x Fix: y"),
    )


def test_top_level_rules_are_named_and_parameterized_helpers_are_not():
    text = "rule main when %x !empty {\n}\nrule check(x) {\n}\n  rule other {\n}\n# rule commented {\n"
    assert rule_names(text) == ["main", "other"]


def test_test_files_pair_beside_the_rule_and_in_tests(tmp_path):
    (tmp_path / "tests").mkdir()
    for name in ("a.guard", "a_tests.yml", "b.guard", "tests/b_tests.yaml", "c.guard", "tests/c.yml", "d.guard"):
        (tmp_path / name).write_text("")
    assert [(r.name, t.relative_to(tmp_path).as_posix()) for r, t in rule_test_pairs([tmp_path])] == [
        ("a.guard", "a_tests.yml"), ("b.guard", "tests/b_tests.yaml"), ("c.guard", "tests/c.yml")]


# -- Control Tower controls ------------------------------------------------------------------


@needs_package
def test_control_tower_rules_report_under_their_control_ids_with_metadata():
    files = rule_files([CONTROL_TOWER])
    assert len(files) == 237
    assert all(metadata_file(f) is not None for f in files)
    rules = {rule.meta.id: rule for rule in load_rules(files)}
    assert len(rules) == 237
    s3 = rules["CT.S3.PR.1"]
    assert (s3.name, s3.meta.severity, s3.meta.security_severity) == ("s3_bucket_level_public_access_prohibited_check", Severity.ERROR, 8.0)
    assert s3.meta.title == "Require an Amazon S3 bucket to have block public access settings configured"
    assert "**Fix:** The parameters 'BlockPublicAcls'" in s3.meta.help_markdown
    assert s3.meta.help_uri.startswith("https://docs.aws.amazon.com/")
    assert s3.meta.tags[:6] == ("guard", "control-tower", "CIS AWS Benchmark 1.4: 2.1.3", "NIST 800-53 Rev 5: AC-21",
                                "PCI DSS version 3.2.1: 1.2.1", "CIS AWS Benchmark 1.4: 2.1.5")  # each framework in turn
    assert all(len(rule.meta.tags) <= 20 for rule in rules.values())
    assert {r.meta.severity for r in rules.values()} == {Severity.ERROR, Severity.WARNING, Severity.NOTE}


@needs_package
def test_rules_list_shows_the_configured_controls(tmp_path, monkeypatch, capsys):
    (tmp_path / ".idp-scan.yaml").write_text(f"guard:\n  rules: [control-tower, {GUARD / 'rules'}]\n")
    (tmp_path / "node_modules" / "@cdklabs").mkdir(parents=True)
    os.symlink(PACKAGE, tmp_path / "node_modules" / guard.PACKAGE)
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "list", "--engines", "guard"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if line.split()[2] == "guard"]) == 239  # and the scanner's own IDP0xx
    assert "CT.S3.PR.1       error    guard     Require an Amazon S3 bucket to have block public access settings configured" in lines
    assert any(line.startswith("SG_NO_WORLD_SSH  error    guard") for line in lines)


@needs_binary
@needs_package
def test_control_tower_finding_in_sarif_carries_compliance_tags(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "bucket.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        BlockPublicPolicy: true\n"
        "        IgnorePublicAcls: false\n        RestrictPublicBuckets: true\n")
    (app / ".idp-scan.yaml").write_text(f"guard:\n  rules: [{CONTROL_TOWER / 's3' / 'ct-s3-pr-1.guard'}]\n  binary: {BINARY}\n")
    out = tmp_path / "out.sarif"
    assert main(["scan", str(app), "--engines", "guard", "--format", f"sarif={out}"]) == 1
    run = json.loads(out.read_text())["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "CT.S3.PR.1")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 9  # IgnorePublicAcls: false
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "CT.S3.PR.1")
    assert "NIST 800-53 Rev 5: AC-3" in rule["properties"]["tags"] and len(rule["properties"]["tags"]) == 20
    assert rule["properties"]["security-severity"] == "8.0"


@needs_binary
@needs_package
@needs_shared
def test_control_tower_verdicts_equal_cfn_guard_on_a_sample_of_the_corpus():
    artifacts = templates(SHARED / "corpus" / "cfn")
    sample = random.Random(17).sample(artifacts, 24)
    result = compare(BINARY, [CONTROL_TOWER], sample)
    assert result.engine_errors == [] and result.direct_errors == []
    assert result.different == []
    assert result.failing_pairs > 40  # the sample is not trivially compliant


# -- rule tests ------------------------------------------------------------------------------


@needs_binary
@needs_shared
def test_guard_rules_registry_passes_every_test_case(capsys):
    code = main(["rules", "test", str(SHARED / "corpus" / "guard-registry" / "rules")])
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == "191 Guard rule file(s) with tests: 1694 case(s) passed, 0 failed"
    assert code == 0


@needs_binary
def test_a_failing_guard_test_case_fails_the_command_and_says_why(tmp_path, capsys):
    shutil.copytree(GUARD / "rules", tmp_path / "rules")
    tests = tmp_path / "rules" / "tests" / "s3_bucket_versioning_tests.yml"
    tests.write_text(tests.read_text().replace("S3_BUCKET_VERSIONING_ENABLED: FAIL", "S3_BUCKET_VERSIONING_ENABLED: PASS"))
    assert main(["rules", "test", str(tmp_path / "rules")]) == 1
    out = capsys.readouterr().out
    assert "FAILED  " in out and "versioning suspended, FAIL" in out
    assert "S3_BUCKET_VERSIONING_ENABLED: expected PASS, evaluated FAIL" in out
    assert out.rstrip().splitlines()[-1] == "2 Guard rule file(s) with tests: 7 case(s) passed, 1 failed"


@needs_binary
def test_fixture_rules_pass_their_own_tests():
    assert main(["rules", "test", str(GUARD / "rules")]) == 0


def test_the_readme_guard_configuration_is_valid():
    import re

    import yaml

    from scanner.settings import validate_config

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)]
    configs = [b for b in blocks if isinstance(b, dict) and "guard" in b]
    assert len(configs) == 1
    validate_config(configs[0], "README.md")
