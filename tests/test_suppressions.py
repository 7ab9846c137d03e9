"""Suppressions per the Contract: Metadata, comments, inputs' own (cdk-nag), the waivers file;
reasons, expiry, mandatory rules, unused suppressions, audits. The gate marks, never drops."""

from __future__ import annotations

# Scans here pass `--ignore IDP-TAG`: the gate fixtures carry no tags, and the pack's hygiene
# warning about that is not what these tests are about.

import datetime
import textwrap
from pathlib import Path

import pytest

from scanner.gate import mark
from scanner.inputs import cfn
from scanner.model import Finding, Location, ResourceId, Severity, Status, Suppression
from scanner.settings import Settings
from tests.conftest import FIXTURES

GATE = FIXTURES / "gate"
TODAY = datetime.date.today()
SG = textwrap.dedent("""\
    AWSTemplateFormatVersion: "2010-09-09"
    Resources:
      BastionSg:
        Type: AWS::EC2::SecurityGroup
    {metadata}    Properties:
          GroupDescription: ssh
          SecurityGroupIngress:
            - {{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}}
    """)


def statuses(report):
    """(rule, line, resource, status) of every finding."""
    return {
        (f["rule_id"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""), f["status"])
        for f in report["findings"]
    }


def template(tmp_path: Path, entry: str) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    metadata = f"    Metadata:\n      idp-scan:\n        suppress:\n          - {entry}\n" if entry else ""
    path = tmp_path / "sg.yaml"
    path.write_text(SG.format(metadata=metadata))
    return path


def test_every_inline_form_in_one_template(scan):
    code, report = scan(GATE / "suppressed.yaml", "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert statuses(report) == {
        ("IDP-NET-001", 10, "CommentAboveSg", "suppressed"),
        ("IDP-NET-001", 16, "TrailingCommentSg", "suppressed"),
        ("IDP-NET-001", 26, "MetadataSg", "suppressed"),
        ("IDP-NET-001", 37, "AliasSg", "suppressed"),
        ("IDP-NET-001", 47, "NoReasonSg", "open"),
        ("IDP031", 43, "", "open"),
        ("IDP-NET-001", 54, "OpenSg", "open"),
        ("IDP034", 53, "", "open"),
    }
    reasons = {f["resource"]["name"]: f["status_reason"] for f in report["findings"] if f["status"] == "suppressed"}
    assert reasons["MetadataSg"] == "Metadata suppression at fixtures/gate/suppressed.yaml:22: bastion for the on-call team, see SEC-1234"
    assert reasons["CommentAboveSg"] == "comment at fixtures/gate/suppressed.yaml:4: bastion is reachable only through the corporate VPN"


def test_no_suppressions_is_an_audit(scan):
    code, report = scan(GATE / "suppressed.yaml", "--engines", "native", "--ignore", "IDP-TAG", "--no-suppressions")
    assert code == 1
    assert {s for s in statuses(report)} == {
        ("IDP-NET-001", line, name, "open")
        for line, name in [(10, "CommentAboveSg"), (16, "TrailingCommentSg"), (26, "MetadataSg"), (37, "AliasSg"), (47, "NoReasonSg"), (54, "OpenSg")]
    }


@pytest.mark.parametrize(
    "days, expected_status, gate_finding",
    [
        (-3, "open", ("IDP032", "expired 3 days ago")),
        (0, "suppressed", ("IDP033", "expires in 0 days")),
        (14, "suppressed", ("IDP033", "expires in 14 days")),
        (15, "suppressed", None),
        (400, "suppressed", None),
    ],
)
def test_expiry_past_near_far(scan, tmp_path, days, expected_status, gate_finding):
    expires = (TODAY + datetime.timedelta(days=days)).isoformat()
    path = template(tmp_path, f'{{id: IDP-NET-001, reason: "jump host until the VPN lands", expires: {expires}}}')
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    sg = next(f for f in report["findings"] if f["rule_id"] == "IDP-NET-001")
    assert sg["status"] == expected_status
    assert code == (1 if expected_status == "open" else 0)
    about = [(f["rule_id"], f["message"]) for f in report["findings"] if f["rule_id"].startswith("IDP03")]
    if gate_finding is None:
        assert about == []
    else:
        assert len(about) == 1 and about[0][0] == gate_finding[0] and gate_finding[1] in about[0][1] and expires in about[0][1]


@pytest.mark.parametrize("entry", ["{id: IDP-NET-001}", '{id: IDP-NET-001, reason: "too short"}', "{id: IDP-NET-001, reason: 42}"])
def test_a_reason_of_ten_characters_is_required(scan, tmp_path, entry):
    code, report = scan(template(tmp_path, entry), "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert statuses(report) == {("IDP-NET-001", 12, "BastionSg", "open"), ("IDP031", 8, "", "open")}


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{reason: no rule id given here}", "must be a mapping with an `id`"),
        ('{id: IDP-NET-001, reason: "a good long reason", expires: someday}', "is not a date"),
        ('{id: IDP-NET-001, reason: "a good long reason", until: 2030-01-01}', "unknown key(s) until"),
    ],
)
def test_malformed_metadata_is_a_blocking_finding(scan, tmp_path, entry, message):
    code, report = scan(template(tmp_path, entry), "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    gate = [f for f in report["findings"] if f["rule_id"] == "IDP030"]
    assert len(gate) == 1 and message in gate[0]["message"] and gate[0]["severity"] == "error"
    assert ("IDP-NET-001", 12, "BastionSg", "open") in statuses(report)


@pytest.mark.parametrize(
    "comment, problem",
    [
        ("# idp-scan:ignore reason=\"no rule named\"", "must start with a rule id"),
        ("# idp-scan:ignore IDP-NET-001 reason=unquoted words here", "unexpected text"),
        ("# idp-scan:ignore IDP-NET-001 expires=2027-13-01 reason=\"bad month in the date\"", "is not a date"),
        ("# idp-scan:ignore IDP-NET-001 because=\"an unknown key\"", "unknown key(s) because"),
    ],
)
def test_malformed_comment_is_reported_and_does_not_suppress(scan, tmp_path, comment, problem):
    path = template(tmp_path, "")
    path.write_text(path.read_text().replace("  BastionSg:\n", f"  {comment}\n  BastionSg:\n"))
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    gate = [f for f in report["findings"] if f["rule_id"] == "IDP030"]
    assert len(gate) == 1 and problem in gate[0]["message"] and gate[0]["location"]["start_line"] == 3
    assert ("IDP-NET-001", 9, "BastionSg", "open") in statuses(report)


def test_mandatory_rules_cannot_be_suppressed_inline(scan, tmp_path):
    path = template(tmp_path, '{id: CKV_AWS_24, reason: "an alias of a mandatory rule"}')
    (tmp_path / ".idp-scan.yaml").write_text("mandatory: [IDP-NET]\n")
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert statuses(report) == {("IDP-NET-001", 12, "BastionSg", "open"), ("IDP035", 8, "", "open")}


def test_the_waivers_file_can_waive_a_mandatory_rule(scan, tmp_path):
    path = template(tmp_path, "")
    (tmp_path / ".idp-scan.yaml").write_text("mandatory: [IDP-NET-001]\nwaivers: policy/waivers.yaml\n")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "waivers.yaml").write_text(textwrap.dedent("""\
        waivers:
          - rule: IDP-NET-001
            files: ["*.yaml"]
            resources: [Bastion*]
            reason: Reachable only through the corporate VPN (SEC-1234)
            owner: team-network
          - rule: IDP-DATA-001
            files: [other/**]
            reason: Public website assets, reviewed by security
            owner: team-web
        """))
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 0
    assert statuses(report) == {("IDP-NET-001", 8, "BastionSg", "suppressed"), ("IDP034", 7, "", "open")}
    sg = next(f for f in report["findings"] if f["rule_id"] == "IDP-NET-001")
    assert sg["status_reason"] == "waiver at policy/waivers.yaml:2, owner team-network: Reachable only through the corporate VPN (SEC-1234)"
    unused = next(f for f in report["findings"] if f["rule_id"] == "IDP034")
    assert unused["location"]["uri"] == "policy/waivers.yaml"


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("- {rule: IDP-NET-001, files: ['*'], reason: Reviewed by the security team}", "`owner` is required"),
        ("- {rule: IDP-NET-001, owner: team-a, reason: Reviewed by the security team}", "a scope is required"),
        ("- {rule: IDP-NET-001, files: ['*'], owner: team-a, reason: Reviewed by the team, scope: all}", "unknown key(s) scope"),
        ("- just a string", "must be a mapping"),
    ],
)
def test_bad_waivers_are_blocking_findings(scan, tmp_path, entry, problem):
    path = template(tmp_path, "")
    (tmp_path / ".idp-scan.yaml").write_text("waivers: waivers.yaml\n")
    (tmp_path / "waivers.yaml").write_text(f"waivers:\n  {entry}\n")
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert statuses(report) == {("IDP-NET-001", 8, "BastionSg", "open"), ("IDP030", 2, "", "open")}
    assert problem in next(f["message"] for f in report["findings"] if f["rule_id"] == "IDP030")


@pytest.mark.parametrize("text", ["", "waivers: {}\n", "- rule: x\n", "waivers: [\n"])
def test_unreadable_waivers_file_is_a_blocking_finding(scan, tmp_path, text):
    path = template(tmp_path, "")
    (tmp_path / ".idp-scan.yaml").write_text("waivers: waivers.yaml\n")
    (tmp_path / "waivers.yaml").write_text(text)
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]].count("IDP030") == 1


def test_missing_waivers_file_is_reported(scan, tmp_path):
    path = template(tmp_path, "")
    (tmp_path / ".idp-scan.yaml").write_text("waivers: nowhere.yaml\n")
    code, report = scan(path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert ("IDP030", 1, "", "open") in statuses(report)


def _settings(root: Path) -> Settings:
    return Settings(paths=(root,), root=root)


def _finding(uri: str, line: int, rule: str = "IDP-NET-001", resource: str = "aws_security_group.bastion") -> Finding:
    return Finding(rule, "native", Severity.ERROR, "open to the world", Location(uri, line, line), ResourceId("terraform", resource))


def test_comments_in_any_file_based_input(tmp_path):
    """Terraform: the comments read when the module was loaded, matched by the finding's line."""
    from scanner.inputs import Unit
    from scanner.inputs.loading import load_unit

    (tmp_path / "main.tf").write_text(textwrap.dedent("""\
        # idp-scan:ignore IDP-NET-001 expires=2099-01-01 reason="bastion behind the VPN"
        resource "aws_security_group" "bastion" {
          ingress {
            cidr_blocks = ["0.0.0.0/0"]  // idp-scan:ignore CKV_AWS_25 reason="second rule on the same line"
          }
        }
        """))
    findings = [_finding("main.tf", 2), _finding("main.tf", 4, "CKV_AWS_25"), _finding("main.tf", 4, "CKV_AWS_24")]
    unread = mark(findings, [], _settings(tmp_path), {})
    assert {f.status for f in unread} == {Status.OPEN}  # the gate reads no file: comments come with the load
    marked = mark(findings, [], _settings(tmp_path), {}, comments=load_unit(Unit("terraform", tmp_path, ".")).comments)
    assert [(f.rule_id, f.location.start_line, f.status) for f in marked] == [
        ("IDP-NET-001", 2, Status.SUPPRESSED), ("CKV_AWS_25", 4, Status.SUPPRESSED), ("CKV_AWS_24", 4, Status.OPEN),
    ]


def test_suppressions_from_inputs_match_rule_aliases(tmp_path):
    """cdk-nag suppressions that a CDK input passes on name cdk-nag ids; the catalogue knows them as aliases."""
    from scanner.pipeline import rule_metas
    from scanner.engines import create_engines

    rules = rule_metas(create_engines(Settings(paths=(tmp_path,), root=tmp_path, engines=("native",))))
    rules = {**rules, "IDP-NET-001": __import__("dataclasses").replace(rules["IDP-NET-001"], aliases=("AwsSolutions-EC23",))}
    nag = Suppression("AwsSolutions-EC23", "Bastion is reachable only through SSM", Location("cdk.out/App.template.json", 1), resource="App/Bastion", origin="cdk-nag")
    unused = Suppression("AwsSolutions-IAM5", "Wildcards needed for the log group", Location("cdk.out/App.template.json", 1), resource="App/Nothing")
    artifact, _ = cfn.load_text('{"Resources": {}}', tmp_path / "t.json", "cdk.out/App.template.json", {"suppressions": [nag, unused]})
    assert artifact is not None
    findings = [
        Finding("IDP-NET-001", "native", Severity.ERROR, "ssh", Location("cdk.out/App.template.json", 3), ResourceId("cdk", "App/Bastion/Resource")),
        Finding("IDP-NET-001", "native", Severity.ERROR, "ssh", Location("cdk.out/App.template.json", 9), ResourceId("cdk", "App/Other/Resource")),
    ]
    marked = mark(findings, [artifact], _settings(tmp_path), rules)
    assert [(f.rule_id, f.resource.name if f.resource else "", f.status) for f in marked] == [
        ("IDP-NET-001", "App/Bastion/Resource", Status.SUPPRESSED),
        ("IDP-NET-001", "App/Other/Resource", Status.OPEN),
        ("IDP034", "", Status.OPEN),
    ]
    assert marked[0].status_reason.startswith("cdk-nag suppression at cdk.out/App.template.json:1")


@pytest.mark.parametrize("include", [False, True])
def test_sarif_with_gate_findings_is_valid_and_leaves_suppressed_out_by_default(tmp_path, include):
    import json

    from scanner.cli import main
    from tests.sarif_validation import multitool, multitool_errors, schema_errors

    out = tmp_path / "o.sarif"
    main(["scan", str(GATE / "suppressed.yaml"), "--engines", "native", "--ignore", "IDP-TAG", "--format", f"sarif={out}", *(["--include-suppressed"] if include else [])])
    log = json.loads(out.read_text())
    results = log["runs"][0]["results"]
    assert len(results) == (8 if include else 4)
    assert {r.get("properties", {}).get("status", "open") for r in results} == ({"open", "suppressed"} if include else {"open"})
    assert schema_errors(log) == []
    tool = multitool()
    if tool is not None:
        assert multitool_errors(out, tool) == []


def test_comment_above_a_terraform_resource_covers_it_and_not_its_neighbour(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    module = tmp_path / "network"
    module.mkdir()
    (module / "main.tf").write_text(textwrap.dedent("""\
        # idp-scan:ignore IDP-NET-001 reason="bastion reachable only through the VPN"
        resource "aws_security_group" "bastion" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

        resource "aws_security_group" "other" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
        """))
    code, report = scan(tmp_path, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert statuses(report) == {
        ("IDP-NET-001", 7, "aws_security_group.bastion", "suppressed"),
        ("IDP-NET-001", 16, "aws_security_group.other", "open"),
    }


def test_comment_above_an_account_request_covers_it(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".idp-scan.yaml").write_text("accounts:\n  organizational_units: [Workloads/Dev]\n  email_domains: [corp.example]\n")
    account = textwrap.dedent("""\
          - name: {name}
            email: aws+{name}@corp.example
            organizational_unit: Workloads/Dev
            environment: dev
            cost_center: CC-0001
            workload: {name}
            regions: [eu-west-1]
            budget_usd: 100
        """)
    comment = '  # idp-scan:ignore IDP-ACCT-001 expires=2099-12-31 reason="owner is assigned in the next reorg"\n'
    (tmp_path / "accounts.yaml").write_text("accounts:\n" + comment + account.format(name="waived-one") + account.format(name="open-one"))
    code, report = scan(tmp_path, "--engines", "schema")
    assert code == 1
    assert {(rule, resource, status) for rule, _, resource, status in statuses(report) if rule == "IDP-ACCT-001"} == {
        ("IDP-ACCT-001", "waived-one", "suppressed"), ("IDP-ACCT-001", "open-one", "open"),
    }


def test_comment_parser_never_raises_and_every_waiver_names_a_rule():
    from hypothesis import given, settings, strategies as st

    from scanner.inputs import comments

    pieces = st.sampled_from(["# idp-scan:ignore ", "// idp-scan:ignore", " IDP-NET-001", ",", " reason=", '"', "'", "expires=", "2027-03-31",
                              "\n", " ", "x=y", "resource", "#", "é", "\t"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=25).map("".join))
    def check(text: str) -> None:
        found, problems = comments.parse(text, "f.tf")
        assert all(w.suppression.rule_id and "," not in w.suppression.rule_id for w in found)
        assert all(p.rule_id == "IDP030" for p in problems)
        lines = text.splitlines()
        assert all(w.target_line is None or 1 <= w.target_line <= len(lines) for w in found)

    check()


def test_comments_in_a_template_that_does_not_parse_are_still_read(tmp_path):
    """The template is reported (IDP001) and its comments are still read: a malformed one is
    reported too (IDP030), as it would be in a template that parses."""
    from tests.conftest import finding_set, scan_json

    (tmp_path / ".git").mkdir()
    (tmp_path / "broken.yaml").write_text(textwrap.dedent("""\
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          # idp-scan:ignore reason="no rule id"
          Bucket:
            Type: AWS::S3::Bucket
            Properties: {BucketName: [unclosed
        """))
    code, report = scan_json(tmp_path, "--no-cache", "--engines", "native", tmp_path=tmp_path)
    assert (code, {(rule, uri, line) for rule, uri, line, _ in finding_set(report)}) == (1, {("IDP001", "broken.yaml", 7), ("IDP030", "broken.yaml", 3)})
