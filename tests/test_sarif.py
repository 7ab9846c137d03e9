"""SARIF per the Contract: valid under the OASIS schema and with zero errors from Microsoft's
validator with GitHub's rules; stable fingerprints, repo-relative URIs, rule metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES
from tests.sarif_validation import multitool, multitool_errors, schema_errors


def sarif_of(tmp_path: Path, *args: str | Path) -> tuple[Path, dict]:
    out = tmp_path / "out.sarif"
    main(["scan", *map(str, args), "--format", "sarif", "--output", str(out)])
    return out, json.loads(out.read_text())


def test_sarif_is_valid_under_the_oasis_schema(tmp_path):
    _, log = sarif_of(tmp_path, FIXTURES / "examples", FIXTURES / "rules", "--engines", "native")
    assert schema_errors(log) == []
    assert len(log["runs"][0]["results"]) == 40  # 20 CloudFormation, 20 Terraform


def test_schema_check_can_fail():
    assert schema_errors({"version": "2.1.0", "runs": [{"results": []}]}) != []


def test_results_carry_what_github_needs(tmp_path):
    _, log = sarif_of(tmp_path, FIXTURES / "examples" / "noncompliant", "--engines", "native")
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    result = next(r for r in run["results"] if r["ruleId"] == "IDP-NET-001")
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/examples/noncompliant/service.yaml"
    assert location["physicalLocation"]["region"]["startLine"] == 12
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "BastionSecurityGroup"
    assert len(result["partialFingerprints"]["primaryLocationLineHash"]) == 32
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "IDP-NET-001"
    rule = rules["IDP-NET-001"]
    assert rule["properties"]["security-severity"] == "8.6"
    assert "CKV_AWS_24" in rule["properties"]["aliases"]
    assert "Terraform" in rule["help"]["markdown"] and rule["help"]["text"]
    assert len(rule["shortDescription"]["text"]) <= 1024 and len(rule["fullDescription"]["text"]) <= 1024
    assert run["invocations"][0]["executionSuccessful"] is True


def test_fingerprints_ignore_lines(tmp_path):
    template = (FIXTURES / "examples" / "noncompliant" / "service.yaml").read_text()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "t.yaml").write_text(template)
    _, before = sarif_of(tmp_path, repo, "--engines", "native")
    (repo / "t.yaml").write_text(template.replace("Resources:\n", "Resources:\n  Extra:\n    Type: AWS::SNS::Topic\n", 1))
    _, after = sarif_of(tmp_path, repo, "--engines", "native")

    def prints(log: dict) -> dict[str, tuple[str, int]]:
        return {
            r["partialFingerprints"]["primaryLocationLineHash"]: (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in log["runs"][0]["results"]
        }

    assert set(prints(before)) == set(prints(after))
    assert [line for _, line in prints(before).values()] != [line for _, line in prints(after).values()]


def test_parse_failure_is_a_result_and_a_notification(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "bad.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {A: [\n")
    _, log = sarif_of(tmp_path, repo, "--engines", "native")
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["IDP001"]
    assert run["invocations"][0]["executionSuccessful"] is False
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["descriptor"]["id"] == "IDP001" and notes[0]["level"] == "error"
    assert schema_errors(log) == []


def test_identical_runs_write_identical_sarif(tmp_path):
    first, _ = sarif_of(tmp_path, FIXTURES / "examples", "--engines", "native")
    text = first.read_text()
    second, _ = sarif_of(tmp_path, FIXTURES / "examples", "--engines", "native")
    assert second.read_text() == text


@pytest.mark.skipif(multitool() is None, reason="Sarif.Multitool not installed (npm install @microsoft/sarif-multitool; scripts/test.sh does)")
def test_microsoft_validator_with_github_rules_reports_zero_errors(tmp_path):
    broken = tmp_path / "broken" / "bad.yaml"
    broken.parent.mkdir()
    broken.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {A: [\n")
    out, _ = sarif_of(tmp_path, FIXTURES / "examples", FIXTURES / "rules", FIXTURES / "terraform", broken, "--engines", "native")
    tool = multitool()
    assert tool is not None
    assert multitool_errors(out, tool) == []


@pytest.mark.skipif(multitool() is None, reason="Sarif.Multitool not installed")
def test_microsoft_validator_can_fail(tmp_path):
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"ruleId": "R1", "message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/abs/file.yaml"}, "region": {"startLine": 0}}}]}
    ]}]}))
    tool = multitool()
    assert tool is not None
    assert multitool_errors(bad, tool) != []
