"""Gate integrity: what a pull request can and cannot walk past.

Each test is a scenario seen on real repository shapes: a new violation next to an accepted
one, findings without a resource, CDK synthesized with and without `--debug`, paths that
depended on how the scan was invoked, deletions under `--changed-since`, partial baseline
rewrites, the README's shard merge, SAM suppressions and files that got no verdict. Each
runs in a git repository built by the test and asserts the exit code and exact findings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES

SG_HEAD = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  BastionSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: 0.0.0.0/0
"""
RDP = """        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
"""
ALL_TRAFFIC = """        - IpProtocol: "-1"
          CidrIp: 0.0.0.0/0
"""
OUTPUTS = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  A:
    Value: "${AWS::Region}-a"
  B:
    Value: "${AWS::Region}-b"
  C:
    Value: "${AWS::Region}-c"
"""
TF_SG = """resource "aws_security_group" "bastion" {
  name = "bastion"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
%s}
"""
TF_RDP = """  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def run(repo: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    """`idp-scan scan` from inside the repository, as a developer or CI runs it (tagging rules
    left out: these fixtures are about the gate, not about tags)."""
    out = repo.parent / "report.json"
    here = os.getcwd()
    os.chdir(repo)
    try:
        code = main(["scan", *map(str, args), "--ignore", "IDP-TAG", "--format", f"json={out}"])
    finally:
        os.chdir(here)
    return code, json.loads(out.read_text())


def write_baseline(repo: Path, *args: str) -> None:
    here = os.getcwd()
    os.chdir(repo)
    try:
        assert main(["baseline", "write", "baseline.json", *args]) == 0
    finally:
        os.chdir(here)


def findings(report: dict[str, Any], status: str = "open") -> set[tuple[str, str, int, str]]:
    return {
        (f["rule_id"], f["location"]["uri"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""))
        for f in report["findings"]
        if f["status"] == status
    }


# -- a new violation never hides behind an accepted one -------------------------------------

@pytest.mark.parametrize("added, new", [
    (RDP, {("IDP-NET-001", "sg.yaml", 15, "BastionSecurityGroup")}),
    (ALL_TRAFFIC, {("IDP-NET-001", "sg.yaml", 13, "BastionSecurityGroup")}),  # "all ports", once
], ids=["rdp", "all-traffic"])
def test_a_new_port_on_a_baselined_security_group_blocks(tmp_path, added, new):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD})
    write_baseline(repo, ".", "--engines", "native")
    (repo / "sg.yaml").write_text(SG_HEAD + added)
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert findings(report) == new
    assert findings(report, "baselined") == {("IDP-NET-001", "sg.yaml", 11, "BastionSecurityGroup")}


def test_the_same_group_unchanged_passes_and_fingerprints_differ_per_port(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD + RDP})
    write_baseline(repo, ".", "--engines", "native")
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 0
    prints = [f["fingerprint"] for f in report["findings"] if f["rule_id"] == "IDP-NET-001"]
    assert len(prints) == len(set(prints)) == 2


def test_reordered_ingress_rules_keep_their_fingerprints(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD + RDP})
    _, before = run(repo, ".", "--engines", "native")
    swapped = SG_HEAD.split("        - IpProtocol")[0] + RDP + "        - IpProtocol" + SG_HEAD.split("        - IpProtocol")[1]
    (repo / "sg.yaml").write_text(swapped)
    _, after = run(repo, ".", "--engines", "native")
    lines_before = {f["fingerprint"]: f["location"]["start_line"] for f in before["findings"]}
    lines_after = {f["fingerprint"]: f["location"]["start_line"] for f in after["findings"]}
    assert set(lines_before) == set(lines_after)
    assert lines_before != lines_after  # the same two findings, each at its new line


def test_a_new_terraform_ingress_on_a_baselined_group_blocks(tmp_path):
    repo = make_repo(tmp_path, {"main.tf": TF_SG % ""})
    write_baseline(repo, ".", "--engines", "native")
    (repo / "main.tf").write_text(TF_SG % TF_RDP)
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert findings(report) == {("IDP-NET-001", "main.tf", 13, "aws_security_group.bastion")}
    assert findings(report, "baselined") == {("IDP-NET-001", "main.tf", 7, "aws_security_group.bastion")}


def test_a_new_missing_field_in_a_baselined_account_blocks(tmp_path):
    account = "accounts:\n  - name: payments-dev\n    email: aws+payments-dev@corp.example\n"
    repo = make_repo(tmp_path, {"accounts/payments.yaml": account})
    write_baseline(repo, ".", "--engines", "schema")
    _, before = run(repo, ".", "--engines", "schema", "--baseline", "baseline.json")
    assert findings(before) == set()
    (repo / "accounts/payments.yaml").write_text(account + "    tags: {owner: x, unknown_key: 1}\n    bogus: 1\n")
    code, report = run(repo, ".", "--engines", "schema", "--baseline", "baseline.json")
    assert code == 1
    assert ("IDP-ACCT-002", "accounts/payments.yaml", 5, "payments-dev") in findings(report)


# -- findings without a resource never fold -------------------------------------------------

# E1029 (`${}` outside Fn::Sub) is a warning: these runs block on warnings, as a stricter policy would.
def test_errors_in_three_outputs_are_three_findings(tmp_path):
    repo = make_repo(tmp_path, {"outputs.yaml": OUTPUTS})
    code, report = run(repo, ".", "--engines", "cfn-lint", "--fail-on", "warning")
    assert code == 1
    assert findings(report) == {("E1029", "outputs.yaml", line, "") for line in (7, 9, 11)}
    assert len({f["fingerprint"] for f in report["findings"]}) == 3


def test_a_baselined_output_error_does_not_hide_new_ones(tmp_path):
    only_a = OUTPUTS.split("  B:")[0]
    repo = make_repo(tmp_path, {"outputs.yaml": only_a})
    write_baseline(repo, ".", "--engines", "cfn-lint")
    (repo / "outputs.yaml").write_text(OUTPUTS)
    code, report = run(repo, ".", "--engines", "cfn-lint", "--baseline", "baseline.json", "--fail-on", "warning")
    assert code == 1
    assert findings(report) == {("E1029", "outputs.yaml", 9, ""), ("E1029", "outputs.yaml", 11, "")}
    assert findings(report, "baselined") == {("E1029", "outputs.yaml", 7, "")}


def test_a_comment_on_one_output_covers_that_line_only(tmp_path):
    commented = OUTPUTS.replace('"${AWS::Region}-a"', '"${AWS::Region}-a"  # idp-scan:ignore E1029 reason="read by a legacy script"')
    repo = make_repo(tmp_path, {"outputs.yaml": commented})
    code, report = run(repo, ".", "--engines", "cfn-lint", "--fail-on", "warning")
    assert code == 1
    assert findings(report) == {("E1029", "outputs.yaml", 9, ""), ("E1029", "outputs.yaml", 11, "")}
    assert findings(report, "suppressed") == {("E1029", "outputs.yaml", 7, "")}


# -- CDK: the fingerprint is the stack template's, however synth ran --------------------------

def _without_traces(assembly: Path) -> None:
    """What `cdk synth` without --debug writes: no creation stacks or property assignments."""
    for metadata in assembly.rglob("*.metadata.json"):
        document = json.loads(metadata.read_text())
        for path, entries in document.items():
            document[path] = [
                {k: v for k, v in e.items() if k != "trace"}
                for e in entries
                if e.get("type") not in ("aws:cdk:creationStack", "aws:cdk:propertyAssignment")
            ]
        metadata.write_text(json.dumps(document))


def test_cdk_fingerprints_do_not_depend_on_debug_synth(tmp_path):
    debug = tmp_path / "debug"
    shutil.copytree(FIXTURES / "cdk" / "app", debug, ignore=shutil.ignore_patterns("node_modules"))
    plain = tmp_path / "plain"
    shutil.copytree(debug, plain)
    _without_traces(plain / "cdk.out")
    _, with_sources = run(debug, ".", "--engines", "native")
    _, without = run(plain, ".", "--engines", "native")
    assert any(f["location"]["uri"].endswith(".ts") for f in with_sources["findings"])
    assert not any(f["location"]["uri"].endswith(".ts") for f in without["findings"])
    assert {f["fingerprint"] for f in with_sources["findings"]} == {f["fingerprint"] for f in without["findings"]}


def test_a_waiver_of_a_stack_template_covers_findings_shown_in_source(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "cdk" / "app", app, ignore=shutil.ignore_patterns("node_modules"))
    (app / "waivers.yaml").write_text(
        "waivers:\n  - rule: IDP-NET-001\n    files: [cdk.out/Orders.template.json]\n    reason: accepted for the Orders stack\n"
        "    owner: team-orders\n")
    (app / ".idp-scan.yaml").write_text("waivers: waivers.yaml\n")
    _, plain = run(app, ".", "--engines", "native", "--no-suppressions")
    in_orders = [f for f in plain["findings"] if f["artifact"] == "cdk.out/Orders.template.json" and f["rule_id"] == "IDP-NET-001"]
    assert len(in_orders) >= 3 and all(f["location"]["uri"].endswith(".ts") for f in in_orders)
    _, waived = run(app, ".", "--engines", "native")
    still_open = [f for f in waived["findings"] if f["artifact"] == "cdk.out/Orders.template.json" and f["status"] == "open" and f["rule_id"] == "IDP-NET-001"]
    assert still_open == []


# -- one root for paths ------------------------------------------------------------------------

def test_uris_do_not_depend_on_argument_order_outside_git(tmp_path):
    work = tmp_path / "work"
    for name in ("a", "b"):
        (work / name).mkdir(parents=True)
        (work / name / "template.yaml").write_text(SG_HEAD)
    here = os.getcwd()
    os.chdir(work)
    try:
        reports = []
        for order in (["a", "b"], ["b", "a"]):
            out = tmp_path / f"{order[0]}.json"
            main(["scan", *order, "--engines", "native", "--format", f"json={out}"])
            reports.append(json.loads(out.read_text()))
    finally:
        os.chdir(here)
    uris = [{f["location"]["uri"] for f in r["findings"]} for r in reports]
    assert uris[0] == uris[1] == {"a/template.yaml", "b/template.yaml"}
    assert [f["fingerprint"] for f in reports[0]["findings"]] == [f["fingerprint"] for f in reports[1]["findings"]]


def test_the_root_configuration_applies_to_a_subdirectory_scan(tmp_path):
    repo = make_repo(tmp_path, {".idp-scan.yaml": "fail_on: never\n", "api/sg.yaml": SG_HEAD})
    code, report = run(repo, "api", "--engines", "native")
    assert code == 0
    assert findings(report) == {("IDP-NET-001", "api/sg.yaml", 11, "BastionSecurityGroup")}


def test_a_nested_configuration_cannot_loosen_the_policy(tmp_path):
    repo = make_repo(tmp_path, {"infra/sg.yaml": SG_HEAD})
    (repo / "infra/.idp-scan.yaml").write_text("fail_on: never\nignore: [IDP]\n")
    code, report = run(repo, "infra", "--engines", "native")
    assert code == 1
    assert findings(report) == {
        ("IDP-NET-001", "infra/sg.yaml", 11, "BastionSecurityGroup"),
        ("IDP039", "infra/.idp-scan.yaml", 1, ""),
    }
    # Named explicitly, it applies (a deliberate, separate policy).
    code, _ = run(repo, "infra", "--engines", "native", "--config", "infra/.idp-scan.yaml")
    assert code == 0


def test_the_cache_lives_at_the_root_not_in_the_scanned_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("IDP_SCAN_CACHE_DIR")
    repo = make_repo(tmp_path, {"api/sg.yaml": SG_HEAD})
    run(repo, "api", "--engines", "native")
    assert (repo / ".idp-scan-cache").is_dir()
    assert not (repo / "api" / ".idp-scan-cache").exists()


def test_a_terraform_root_at_the_top_honours_its_comments(tmp_path):
    commented = (TF_SG % "").replace('resource "aws_security_group"', '# idp-scan:ignore IDP-NET-001 reason="bastion behind the VPN"\nresource "aws_security_group"')
    repo = make_repo(tmp_path, {"main.tf": commented})
    code, report = run(repo, ".", "--engines", "native")
    uris = {f["location"]["uri"] for f in report["findings"]}
    assert not any(u.startswith(("./", "../")) for u in uris)
    assert findings(report, "suppressed") == {("IDP-NET-001", "main.tf", 8, "aws_security_group.bastion")}
    assert not any(f["rule_id"] == "IDP034" for f in report["findings"])


# -- deletions are changes ---------------------------------------------------------------------

PROD_ACCOUNT = """accounts:
  - name: payments-prod
    email: aws+payments-prod@corp.example
    organizational_unit: Workloads/Prod
    environment: prod
    owner: team-payments
    cost_center: CC-1234
    workload: payments
    regions: [eu-west-1]
    budget_usd: 5000
"""


def test_deleting_an_account_file_is_judged(tmp_path):
    repo = make_repo(tmp_path, {"accounts/payments.yaml": PROD_ACCOUNT, "README.md": "hi\n"})
    git(repo, "rm", "-q", "accounts/payments.yaml")
    git(repo, "commit", "-q", "-m", "drop payments")
    code, report = run(repo, ".", "--changed-since", "main")
    assert code == 1
    assert {(f["rule_id"], f["resource"]["name"]) for f in report["findings"] if f["status"] == "open"} == {("IDP-ACCT-020", "payments-prod")}


def test_deleting_the_tfvars_that_kept_ssh_internal_is_judged(tmp_path):
    module = (TF_SG % "").replace('["0.0.0.0/0"]', "[var.ssh_cidr]")
    repo = make_repo(tmp_path, {
        "svc/main.tf": 'variable "ssh_cidr" {\n  default = "0.0.0.0/0"\n}\n' + module,
        "svc/terraform.tfvars": 'ssh_cidr = "10.0.0.0/8"\n',
    })
    code, _ = run(repo, ".", "--engines", "native", "--changed-since", "main")
    assert code == 0
    git(repo, "rm", "-q", "svc/terraform.tfvars")
    code, report = run(repo, ".", "--engines", "native", "--changed-since", "main")
    assert code == 1
    assert findings(report) == {("IDP-NET-001", "svc/main.tf", 10, "aws_security_group.bastion")}


def test_a_deleted_template_leaves_no_entry_a_new_file_inherits(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD, "other.yaml": SG_HEAD.replace("22", "2222")})
    write_baseline(repo, ".", "--engines", "native")
    git(repo, "add", "baseline.json")
    git(repo, "commit", "-q", "-m", "baseline")
    git(repo, "rm", "-q", "sg.yaml")
    for args in ([".", "--changed-since", "main"], ["."]):
        code, report = run(repo, *args, "--engines", "native", "--baseline", "baseline.json")
        assert code == 1, args
        assert {f["rule_id"] for f in report["findings"] if f["status"] == "open"} == {"IDP038"}, args
    write_baseline(repo, ".", "--engines", "native")
    (repo / "sg.yaml").write_text(SG_HEAD)  # re-created later, by someone else
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert findings(report) == {("IDP-NET-001", "sg.yaml", 11, "BastionSecurityGroup")}


# -- partial runs never forget -----------------------------------------------------------------

def test_a_partial_rewrite_keeps_other_engines_entries(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD, "outputs.yaml": OUTPUTS})
    write_baseline(repo, ".", "--engines", "native,cfn-lint")
    write_baseline(repo, ".", "--engines", "native")
    rules = {e["rule_id"] for e in json.loads((repo / "baseline.json").read_text())["findings"]}
    assert rules == {"IDP-NET-001", "IDP-TAG-001", "E1029"}
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 0
    assert not any(f["rule_id"] == "IDP036" for f in report["findings"])
    code, report = run(repo, ".", "--engines", "native,cfn-lint", "--baseline", "baseline.json")
    assert code == 0
    assert findings(report) == set()


def test_a_run_with_select_judges_only_selected_entries(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD, "outputs.yaml": OUTPUTS})
    write_baseline(repo, ".", "--engines", "native,cfn-lint")
    _, report = run(repo, ".", "--engines", "native,cfn-lint", "--select", "IDP", "--baseline", "baseline.json")
    assert not any(f["rule_id"] == "IDP036" for f in report["findings"])


# -- format-1 baselines migrate ------------------------------------------------------------------

def test_a_format_1_baseline_covers_what_it_recorded_and_not_a_new_port(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD + RDP})
    # What format 1 wrote for this group: one entry per rule and resource, messages joined.
    import hashlib
    legacy = hashlib.sha256("IDP-NET-001\0sg.yaml\0BastionSecurityGroup".encode()).hexdigest()[:32]
    entry = {"fingerprint": legacy, "rule_id": "IDP-NET-001", "uri": "sg.yaml", "resource": "BastionSecurityGroup",
             "message": "BastionSecurityGroup allows SSH (22) from 0.0.0.0/0."}
    (repo / "baseline.json").write_text(json.dumps({"version": 1, "tool": "idp-scan", "findings": [entry]}))
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert findings(report) == {("IDP-NET-001", "sg.yaml", 15, "BastionSecurityGroup"), ("IDP037", "baseline.json", 1, "")}
    assert findings(report, "baselined") == {("IDP-NET-001", "sg.yaml", 11, "BastionSecurityGroup")}
    write_baseline(repo, ".", "--engines", "native")
    document = json.loads((repo / "baseline.json").read_text())
    assert document["version"] == 2
    assert {e["key"] for e in document["findings"] if e["rule_id"] == "IDP-NET-001"} == {"tcp/22-22/0.0.0.0/0", "tcp/3389-3389/0.0.0.0/0"}


# -- the README's merge step, SAM suppressions, files without a verdict --------------------------

def test_the_readme_merge_step_works_as_written(tmp_path):
    repo = make_repo(tmp_path, {"a.yaml": SG_HEAD, "b.yaml": OUTPUTS})
    here = os.getcwd()
    os.chdir(repo)
    try:
        for shard in (1, 2):
            main(["scan", ".", "--engines", "native", "--shard", f"{shard}/2", "--format", f"sarif=shard-{shard}.sarif"])
        code = main(["merge", "shard-1.sarif", "shard-2.sarif", "--output", "idp-scan.sarif", "--format", "markdown=summary.md"])
    finally:
        os.chdir(here)
    assert code == 1
    assert json.loads((repo / "idp-scan.sarif").read_text())["runs"][0]["results"]
    assert "IDP-NET-001" in (repo / "summary.md").read_text()


SAM = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  OldFunction:
    Type: AWS::Serverless::Function
    Metadata:
      idp-scan:
        suppress:
          - id: IDP-LAMBDA-001
            reason: "migration to python3.12 tracked in JIRA-123"
    Properties:
      Handler: app.handler
      Runtime: python3.7
      CodeUri: s3://bucket/key.zip
"""


def test_a_sam_function_suppression_is_used_once_and_not_reported_unused(tmp_path):
    repo = make_repo(tmp_path, {"template.yaml": SAM})
    code, report = run(repo, ".", "--engines", "native", "--fail-on", "warning", "--select", "IDP-LAMBDA", "--select", "IDP03")
    assert findings(report, "suppressed") == {("IDP-LAMBDA-001", "template.yaml", 13, "OldFunction")}
    assert code == 0, findings(report)


def test_a_named_macro_input_gets_a_verdict(tmp_path):
    repo = make_repo(tmp_path, {"macro-input.template": "Transform: MyCompany::Expand\nResources:\n  - Name: Assets\n    Type: Custom::Bucket\n"})
    code, report = run(repo, "macro-input.template", "--engines", "native")
    assert code == 1
    assert findings(report) == {("IDP007", "macro-input.template", 1, "")}


# -- found by a new user on public repositories (serverless-patterns, terraform-aws-security-group) --

MISSING_MODULE = 'module "%s" {\n  source = "./modules/%s"\n}\n'


def test_a_second_missing_module_is_not_covered_by_the_first_ones_entry(tmp_path):
    repo = make_repo(tmp_path, {"main.tf": MISSING_MODULE % ("web_sg", "web")})
    write_baseline(repo, ".", "--engines", "native")
    (repo / "main.tf").write_text(MISSING_MODULE % ("web_sg", "web") + MISSING_MODULE % ("redis_sg", "redis"))
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert findings(report) == {("IDP050", "main.tf", 4, "")}
    assert findings(report, "baselined") == {("IDP050", "main.tf", 1, "")}


def test_moving_a_terraform_block_to_another_file_of_the_root_keeps_its_identity(tmp_path):
    repo = make_repo(tmp_path, {"main.tf": MISSING_MODULE % ("web_sg", "web")})
    write_baseline(repo, ".", "--engines", "native")
    (repo / "main.tf").write_text("# moved to network.tf\n")
    (repo / "network.tf").write_text(MISSING_MODULE % ("web_sg", "web"))
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert (code, findings(report)) == (0, set())


def test_a_baselined_parse_error_does_not_accept_what_is_added_to_the_file_later(tmp_path):
    broken = SG_HEAD.replace("      GroupDescription: bastion\n", "      GroupDescription: [bastion\n")
    repo = make_repo(tmp_path, {"sg.yaml": broken})
    write_baseline(repo, ".", "--engines", "native")
    code, _ = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 0  # accepted as it is
    (repo / "sg.yaml").write_text(broken + RDP)
    code, report = run(repo, ".", "--engines", "native", "--baseline", "baseline.json")
    assert code == 1
    assert {f[0] for f in findings(report)} == {"IDP001"}


SG_EXTRA = SG_HEAD.replace("          CidrIp: 0.0.0.0/0\n", "          CidrIp: 10.0.0.0/8\n          Colour: blue\n") + """        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
"""


def test_reordering_a_list_keeps_cfn_lint_fingerprints(tmp_path):
    repo = make_repo(tmp_path, {"sg.yaml": SG_EXTRA})
    _, before = run(repo, ".", "--engines", "cfn-lint")
    head, first, second = SG_EXTRA.split("        - IpProtocol")
    (repo / "sg.yaml").write_text(head + "        - IpProtocol" + second + "        - IpProtocol" + first)
    _, after = run(repo, ".", "--engines", "cfn-lint")
    assert [f["rule_id"] for f in before["findings"]] == ["E3002"]
    assert [f["fingerprint"] for f in before["findings"]] == [f["fingerprint"] for f in after["findings"]]
    assert before["findings"][0]["location"] != after["findings"][0]["location"]


def test_an_output_directory_that_does_not_exist_is_a_usage_error_before_scanning(tmp_path, capsys):
    repo = make_repo(tmp_path, {"sg.yaml": SG_HEAD})
    assert main(["scan", str(repo), "--format", f"json={tmp_path / 'missing' / 'x.json'}"]) == 2
    assert "its directory does not exist" in capsys.readouterr().err


def test_a_nested_pyproject_configuration_is_reported_too(tmp_path):
    repo = make_repo(tmp_path, {"svc/sg.yaml": SG_HEAD, "svc/pyproject.toml": '[tool.idp-scan]\nfail_on = "never"\n',
                                "lib/pyproject.toml": '[project]\nname = "lib"\n'})
    code, report = run(repo, ".", "--engines", "native")
    assert code == 1
    assert {f[:2] for f in findings(report) if f[0] == "IDP039"} == {("IDP039", "svc/pyproject.toml")}


def test_a_cloud_assembly_not_synthesized_is_not_a_deletion(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "cdk" / "app", app, ignore=shutil.ignore_patterns("node_modules"))
    git(tmp_path, "init", "-q", "-b", "main", str(app))
    write_baseline(app, ".", "--engines", "native")
    shutil.rmtree(app / "cdk.out")  # a fresh checkout before `cdk synth`
    code, report = run(app, ".", "--engines", "native", "--baseline", "baseline.json")
    assert not [f for f in report["findings"] if f["rule_id"] == "IDP038"]
    write_baseline(app, ".", "--engines", "native")
    entries = json.loads((app / "baseline.json").read_text())["findings"]
    assert entries and all(e["uri"].startswith("cdk.out/") for e in entries)  # kept, not dropped
