"""Baselines: write, apply, stale entries, and rewriting that merges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scanner.cli import main
from tests.conftest import FIXTURES

SERVICE = FIXTURES / "examples" / "noncompliant" / "service.yaml"


def repo_with(tmp_path: Path, *names: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    for name in names:
        shutil.copy(SERVICE, repo / name)
    return repo


def test_write_records_fingerprints_without_lines(tmp_path, capsys):
    repo = repo_with(tmp_path, "a.yaml")
    assert main(["baseline", "write", str(repo / "bl.json"), str(repo), "--engines", "native"]) == 0
    assert capsys.readouterr().out == f"wrote 5 baseline entries to {repo / 'bl.json'} (5 added, 0 kept, 0 dropped)\n"
    document = json.loads((repo / "bl.json").read_text())
    assert document["version"] == 2
    assert {(e["rule_id"], e["uri"], e["resource"]) for e in document["findings"]} == {
        ("IDP-NET-001", "a.yaml", "BastionSecurityGroup"), ("IDP-IAM-001", "a.yaml", "DeployRole"),
        ("IDP-DATA-001", "a.yaml", "AssetsBucket"), ("IDP-DATA-002", "a.yaml", "OrdersDatabase"),
        ("IDP-ECS-001", "a.yaml", "OrdersService"),
    }
    assert "line" not in json.dumps(document)


def test_apply_marks_baselined_and_new_findings_block(scan, tmp_path):
    repo = repo_with(tmp_path, "a.yaml")
    main(["baseline", "write", str(repo / "bl.json"), str(repo), "--engines", "native"])
    code, report = scan(repo, "--engines", "native", "--baseline", repo / "bl.json")
    assert code == 0
    assert {f["status"] for f in report["findings"]} == {"baselined"}
    assert report["findings"][0]["status_reason"] == "in the baseline bl.json"
    # Moving code does not matter (no lines); a new file's findings are not baselined.
    (repo / "a.yaml").write_text("\n\n" + (repo / "a.yaml").read_text())
    shutil.copy(SERVICE, repo / "b.yaml")
    code, report = scan(repo, "--engines", "native", "--baseline", repo / "bl.json")
    assert code == 1
    assert {(f["location"]["uri"], f["status"]) for f in report["findings"]} == {("a.yaml", "baselined"), ("b.yaml", "open")}


def test_baseline_from_config_and_stale_entries(scan, tmp_path):
    repo = repo_with(tmp_path, "a.yaml")
    (repo / ".idp-scan.yaml").write_text("baseline: .idp-scan-baseline.json\n")
    main(["baseline", "write", str(repo / ".idp-scan-baseline.json"), str(repo), "--engines", "native"])
    text = (repo / "a.yaml").read_text()
    (repo / "a.yaml").write_text(text.replace("AccessControl: PublicRead", "AccessControl: Private"))
    code, report = scan(repo, "--engines", "native")
    assert code == 0
    stale = [f for f in report["findings"] if f["rule_id"] == "IDP036"]
    assert len(stale) == 1 and stale[0]["location"]["uri"] == ".idp-scan-baseline.json"
    assert "IDP-DATA-001 on AssetsBucket in a.yaml" in stale[0]["message"]
    baseline_text = (repo / ".idp-scan-baseline.json").read_text().splitlines()
    assert "fingerprint" in baseline_text[stale[0]["location"]["start_line"] - 1]


def test_entries_of_files_not_scanned_are_not_stale(scan, tmp_path):
    repo = repo_with(tmp_path, "a.yaml", "b.yaml")
    main(["baseline", "write", str(repo / "bl.json"), str(repo), "--engines", "native"])
    code, report = scan(repo / "a.yaml", "--engines", "native", "--baseline", repo / "bl.json")
    assert code == 0
    assert [f for f in report["findings"] if f["rule_id"] == "IDP036"] == []


def test_rewriting_merges(tmp_path, capsys):
    repo = repo_with(tmp_path, "a.yaml", "b.yaml")
    baseline = repo / "bl.json"
    main(["baseline", "write", str(baseline), str(repo), "--engines", "native"])
    (repo / "a.yaml").write_text((repo / "a.yaml").read_text().replace("AccessControl: PublicRead", "AccessControl: Private"))
    capsys.readouterr()
    # Only a.yaml is scanned: its fixed finding drops out, b.yaml's entries stay.
    assert main(["baseline", "write", str(baseline), str(repo / "a.yaml"), "--engines", "native"]) == 0
    assert capsys.readouterr().out.endswith("(0 added, 9 kept, 1 dropped)\n")
    entries = {(e["uri"], e["rule_id"]) for e in json.loads(baseline.read_text())["findings"]}
    assert ("a.yaml", "IDP-DATA-001") not in entries and ("b.yaml", "IDP-DATA-001") in entries and len(entries) == 9


def test_unreadable_baseline(scan, tmp_path, capsys):
    repo = repo_with(tmp_path, "a.yaml")
    (repo / "bl.json").write_text("{not json")
    code, report = scan(repo, "--engines", "native", "--baseline", repo / "bl.json")
    assert code == 1
    assert [f["rule_id"] for f in report["findings"] if f["rule_id"].startswith("IDP0")] == ["IDP030"]
    assert main(["baseline", "write", str(repo / "bl.json"), str(repo), "--engines", "native"]) == 2
    assert "cannot be read" in capsys.readouterr().err
