"""Hostile and malformed input: every bad file is a finding, the rest is still scanned, the run
blocks, no traceback, no code from the tree runs, and two runs give the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES, REPO, finding_set

HOSTILE = FIXTURES / "hostile"

# (rule, file, line, resource) of every open finding on the hostile corpus, symlinks included.
EXPECTED = {
    ("IDP-DATA-001", "violation.yaml", 7, "PublicBucket"),  # the one real violation, kept
    ("IDP001", "malformed.yaml", 5, ""),
    ("IDP001", "truncated.json", 7, ""),
    ("IDP001", "two-documents.yaml", 1, ""),
    ("IDP001", "null-key.yaml", 3, ""),
    ("IDP001", "python-tag.yaml", 6, ""),
    ("IDP004", "scalar-resources.yaml", 2, ""),
    ("IDP010", "duplicate-keys.yaml", 9, ""),
    ("IDP-NET-001", "duplicate-keys.yaml", 8, "AdminSecurityGroup"),  # hidden in the first value
    ("IDP011", "alias-bomb.yaml", 7, ""),
    ("IDP011", "deep-nesting.json", 1, ""),
    ("IDP012", "oversized-template.yaml", 1, ""),
    ("IDP013", "binary-template.yaml", 1, ""),
    ("IDP013", "latin1-template.yaml", 2, ""),
    ("IDP013", "utf16-no-bom-template.yaml", 1, ""),
    ("IDP014", "empty-template.yaml", 1, ""),
    ("IDP014", "whitespace.template", 1, ""),
    ("IDP015", "macro.yaml", 2, ""),
    ("IDP016", "pipe-template.yaml", 1, ""),
    ("IDP017", "escape.yaml", 1, ""),
    ("IDP017", "outside-dir", 1, ""),
    ("IDP017", "loop-a.yaml", 1, ""),
    ("IDP017", "loop-b.yaml", 1, ""),
    ("IDP017", "dangling.yaml", 1, ""),
    ("IDP018", "charts/app/templates/stack.yaml", 1, ""),
    # Terraform, plans and account files
    ("IDP001", "terraform/network/truncated.tf", 2, ""),
    ("IDP010", "terraform/network/duplicate.tf", 3, ""),
    ("IDP001", "terraform/binary/main.tf", 1, ""),
    ("IDP001", "terraform/unclosed-string/main.tf", 6, ""),  # hcl2 alone: hours
    ("IDP001", "plans/truncated-tfplan.json", 2, ""),
    ("IDP011", "plans/deep-tfplan.json", 1, ""),
    ("IDP011", "accounts/alias-bomb.yaml", 6, ""),
    ("IDP011", "accounts/deep.yaml", 3, ""),
    ("IDP070", "accounts/duplicate-keys.yaml", 4, ""),
    # CDK cloud assemblies
    ("IDP060", "cdk/broken-manifest/cdk.out/manifest.json", 1, ""),
    ("IDP061", "cdk/missing-template/cdk.out/manifest.json", 4, ""),
    ("IDP011", "cdk/deep-template/cdk.out/Deep.template.json", 1, ""),
}
PARSED = [
    "duplicate-keys.yaml", "macro.yaml", "sam.yaml", "scalar-resources.yaml", "terraform/binary", "terraform/network",
    "terraform/unclosed-string",
    "unknown-types.yaml", "utf16-bom.yaml", "utf8-bom-crlf.yaml", "violation.yaml",
]

# The pack's hygiene warnings (tags, tracing) are not what these files are about.
NATIVE = ("--engines", "native", "--ignore", "IDP-TAG", "--ignore", "IDP-OBS")


def hostile_repo(tmp_path: Path) -> Path:
    """The committed corpus plus what git cannot hold: symlinks out of the tree, loops, a FIFO."""
    repo = tmp_path / "repo"
    shutil.copytree(HOSTILE, repo)
    (repo / ".git").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {B: {Type: AWS::S3::Bucket, Properties: {AccessControl: PublicRead}}}\n")
    (repo / "escape.yaml").symlink_to(outside / "secret.yaml")
    (repo / "outside-dir").symlink_to(outside, target_is_directory=True)
    (repo / "loop-a.yaml").symlink_to(repo / "loop-b.yaml")
    (repo / "loop-b.yaml").symlink_to(repo / "loop-a.yaml")
    (repo / "dangling.yaml").symlink_to(repo / "missing.yaml")
    (repo / "self").symlink_to(repo, target_is_directory=True)  # a directory loop: must not hang
    (repo / "inside-link.yaml").symlink_to(repo / "utf16-bom.yaml")  # inside the tree: followed, scanned once
    os.mkfifo(repo / "pipe-template.yaml")  # reading it would block forever
    return repo


def test_every_bad_file_is_reported_and_the_violation_kept(tmp_path, capsys):
    repo = hostile_repo(tmp_path)
    out = tmp_path / "report.json"
    started = time.monotonic()
    code = main(["scan", str(repo), *NATIVE, "--format", f"json={out}"])
    elapsed = time.monotonic() - started
    import json

    report = json.loads(out.read_text())
    assert code == 1
    assert finding_set(report) == EXPECTED
    assert report["scanned"] == PARSED
    assert "internal error" not in capsys.readouterr().err
    assert elapsed < 60
    assert not (repo / "idp-scan-was-here").exists() and not Path("idp-scan-was-here").exists()


def test_no_traceback_reaches_the_user_and_time_and_memory_are_bounded(tmp_path):
    repo = hostile_repo(tmp_path)
    # VmHWM, not ru_maxrss: the kernel carries ru_maxrss across exec, so a probe started from a
    # pytest process that has grown to 1 GB by this point of the suite reported 1 GB (the
    # "402 MB once" and "1.1 GB under load" readings); VmHWM is this image's own peak.
    probe = ("import re, sys\nfrom pathlib import Path\nfrom scanner.cli import main\ncode = main(sys.argv[1:])\n"
             "print(code, re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n")
    done = subprocess.run(
        [sys.executable, "-c", probe, "scan", str(repo), *NATIVE, "-o", str(tmp_path / "out.txt")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    code, max_rss_kb = map(int, done.stdout.split())
    assert code == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    # The alias bomb expands to 387 million values when parsed naively (tens of GB); a guarded run
    # peaks at about 35 MB in this process.
    assert max_rss_kb < 400_000


def test_two_runs_give_byte_identical_json_and_sarif(tmp_path):
    repo = hostile_repo(tmp_path)
    runs = []
    for attempt in ("a", "b"):
        json_out, sarif_out = tmp_path / f"{attempt}.json", tmp_path / f"{attempt}.sarif"
        main(["scan", str(repo), *NATIVE, "--format", f"json={json_out}", "--format", f"sarif={sarif_out}"])
        runs.append((json_out.read_bytes(), sarif_out.read_bytes()))
    assert runs[0] == runs[1]
    assert str(tmp_path).encode() not in runs[0][0] + runs[0][1]  # no absolute paths


def test_hostile_sarif_is_valid(tmp_path):
    from tests.sarif_validation import multitool, multitool_errors, schema_errors

    import json

    out = tmp_path / "out.sarif"
    main(["scan", str(hostile_repo(tmp_path)), *NATIVE, "--format", f"sarif={out}"])
    log = json.loads(out.read_text())
    assert schema_errors(log) == []
    levels = {r["ruleId"]: r.get("level", "warning") for r in log["runs"][0]["results"]}
    assert (levels["IDP015"], levels["IDP017"], levels["IDP018"], levels["IDP010"]) == ("warning", "note", "note", "error")
    tool = multitool()
    if tool is None:
        pytest.skip("Sarif.Multitool not installed")
    assert multitool_errors(out, tool) == []


def test_an_unreadable_file_is_reported(scan, tmp_path, monkeypatch):
    import scanner.discovery

    (tmp_path / ".git").mkdir()
    (tmp_path / "secret.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
    real_head = scanner.discovery._head

    def head(path: Path) -> str:
        if path.name == "secret.yaml":
            raise PermissionError(13, "Permission denied")
        return real_head(path)

    monkeypatch.setattr(scanner.discovery, "_head", head)
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP016", "secret.yaml", 1, "")})
    assert "Permission denied" in report["findings"][0]["message"]


def test_a_file_that_vanishes_between_discovery_and_loading_is_reported(tmp_path):
    from scanner.inputs import Unit, input_kinds

    load = next(k for k in input_kinds() if k.name == "cloudformation").load
    loaded = load(Unit("cloudformation", tmp_path / "gone.yaml", "gone.yaml"))
    assert [(f.rule_id, f.location.uri) for f in loaded.findings] == [("IDP016", "gone.yaml")]


def test_python_tags_are_never_constructed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
        "    Properties: {TopicName: !!python/object/apply:os.system ['touch pwned']}\n"
    )
    assert main(["scan", str(tmp_path), *NATIVE, "-o", str(tmp_path / "o.txt")]) == 1
    assert not (tmp_path / "pwned").exists()
    assert "never constructed" in (tmp_path / "o.txt").read_text()


@pytest.mark.parametrize("bad_value_first", [True, False])
def test_duplicate_keys_hide_nothing(scan, tmp_path, bad_value_first):
    (tmp_path / ".git").mkdir()
    bad, good = "[{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]", "[]"
    first, second = (bad, good) if bad_value_first else (good, bad)
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
        f"      GroupDescription: x\n      SecurityGroupIngress: {first}\n      SecurityGroupIngress: {second}\n"
    )
    code, report = scan(tmp_path, *NATIVE)
    violation_line = 7 if bad_value_first else 8
    assert (code, finding_set(report)) == (1, {("IDP010", "t.yaml", 8, ""), ("IDP-NET-001", "t.yaml", violation_line, "Sg")})


def test_duplicate_logical_ids_are_both_checked(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  Data:\n    Type: AWS::S3::Bucket\n    Properties: {AccessControl: PublicReadWrite}\n"
        "  Data:\n    Type: AWS::SNS::Topic\n"
        "  Other:\n    Type: AWS::SNS::Topic\n    Properties: {K: 1, K: 2, L: {M: 1, M: 1}}\n"
    )
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {
        ("IDP010", "t.yaml", 6, ""), ("IDP010", "t.yaml", 10, ""), ("IDP-DATA-001", "t.yaml", 5, "Data"),
    })
    messages = sorted(f["message"] for f in report["findings"] if f["rule_id"] == "IDP010")
    assert messages[0].startswith("Duplicate key `Data` (first at line 3)")
    assert sum("`K`" in m or "`M`" in m for m in messages) == 2


def test_sam_is_expanded_and_generated_resources_point_at_their_source(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: index.handler\n"
        "      Runtime: python3.12\n      CodeUri: ./src\n      Policies:\n"
        "        - Statement: [{Effect: Allow, Action: '*', Resource: '*'}]\n"
    )
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP-IAM-001", "template.yaml", 4, "FnRole")})
    assert os.environ.get("AWS_DEFAULT_REGION") != "us-east-1" or "AWS_DEFAULT_REGION" in os.environ


def test_a_failed_sam_expansion_blocks(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: ./src}\n"
    )
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP019", "template.yaml", 2, "")})
    assert "Runtime and Handler" in report["findings"][0]["message"]


def test_limits_are_configurable(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    nested = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {Tags: " + "[" * 8 + "]" * 8 + "}\n"
    (tmp_path / "t.yaml").write_text(nested)
    assert scan(tmp_path, *NATIVE)[0] == 0
    (tmp_path / ".idp-scan.yaml").write_text("limits: {max_depth: 6}\n")
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP011", "t.yaml", 5, "")})
    assert "limits.max_depth" in report["findings"][0]["message"]
    (tmp_path / ".idp-scan.yaml").write_text("limits: {max_file_bytes: 100}\n")
    assert finding_set(scan(tmp_path, *NATIVE)[1]) == {("IDP012", "t.yaml", 1, "")}
    (tmp_path / ".idp-scan.yaml").write_text("limits: {max_file_byte: 100}\n")
    assert scan(tmp_path, *NATIVE)[0] == 2


def test_anchors_within_the_limits_are_fine(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  A:\n    Type: AWS::S3::Bucket\n    Properties: &props {AccessControl: PublicRead}\n"
        "  B:\n    Type: AWS::S3::Bucket\n    Properties: *props\n"
    )
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP-DATA-001", "t.yaml", 5, "A"), ("IDP-DATA-001", "t.yaml", 5, "B")})


def test_broken_templates_outside_helm_charts_still_block(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "stack.yaml").write_text((HOSTILE / "charts/app/templates/stack.yaml").read_text())
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP001", "templates/stack.yaml", 1, "")})


def test_valid_yaml_named_like_a_template_that_is_not_one_is_ignored(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "issue_template.yml").write_text("name: Bug report\nbody: []\n")
    assert scan(tmp_path, *NATIVE)[0:1] == (0,)


def test_deep_json_with_tabs_is_refused_before_parsing(tmp_path):
    from scanner.inputs.guard import Limits, yaml_shape

    text = '{\t"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"T": {"Properties": ' + "[" * 50_000 + "]" * 50_000 + "}}}"
    started = time.monotonic()
    finding = yaml_shape(text, "t.json", Limits())
    assert finding is not None and finding.rule_id == "IDP011"
    assert time.monotonic() - started < 5


def test_repo_has_no_stray_outputs():
    assert not (REPO / "idp-scan-was-here").exists()


def test_plans_and_terraform_files_have_their_own_size_limits(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n' + "# padding\n" * 300)
    plan = '{"format_version": "1.2", "terraform_version": "1.6.0", "planned_values": {"root_module": {"resources": []}}}' + " " * 3000
    (tmp_path / "plan.json").write_text(plan)
    (tmp_path / ".idp-scan.yaml").write_text("limits: {max_file_bytes: 2000, max_plan_bytes: 4000}\n")
    code, report = scan(tmp_path, *NATIVE)
    assert (code, finding_set(report)) == (1, {("IDP012", "infra/main.tf", 1, "")})
    (tmp_path / ".idp-scan.yaml").write_text("limits: {max_file_bytes: 2000, max_plan_bytes: 3000}\n")
    assert finding_set(scan(tmp_path, *NATIVE)[1]) == {("IDP012", "infra/main.tf", 1, ""), ("IDP012", "plan.json", 1, "")}


def test_a_terraform_interpolation_that_is_no_expression_blocks_at_its_line(scan, tmp_path):
    """Found by the property test: an interpolation that parses as a string but not as an
    expression. It is a syntax error at its line; the rest of the module is still checked."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.tf").write_text(
        'locals {\n  prefix = "shop-${:var.environment}"\n  open = "${var.x == "" ? "a" : "${var.y}"}"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = local.prefix\n}\n'
        'resource "aws_s3_bucket_acl" "b" {\n  bucket = "b"\n  acl = "public-read"\n}\n')
    code, report = scan(tmp_path, *NATIVE)
    assert code == 1 and finding_set(report) == {
        ("IDP001", "main.tf", 2, ""),
        ("IDP-DATA-001", "main.tf", 10, "aws_s3_bucket_acl.b"),
    }
    [syntax] = [f for f in report["findings"] if f["rule_id"] == "IDP001"]
    assert syntax["message"] == "Terraform file could not be parsed: `${:var.environment}` is not an expression"
