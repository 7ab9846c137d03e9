"""One finding per concern: the owning native rule decides, other engines fold in or are superseded."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.findings import dedupe
from scanner.findings.concerns import EQUIVALENCES, owners
from scanner.model import Finding, Location, ResourceId, RuleMeta, Severity, Status
from tests.conftest import FIXTURES

BUCKET = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Assets:
    Type: AWS::S3::Bucket
"""
OPEN_FLAGS = BUCKET + """    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: false
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
"""
UNKNOWN_FLAGS = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Acls:
    Type: String
Resources:
  Assets:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: !Ref Acls
        BlockPublicPolicy: !Ref Acls
        IgnorePublicAcls: !Ref Acls
        RestrictPublicBuckets: !Ref Acls
"""
LAMBDA = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Old:
    Type: AWS::Lambda::Function
    %s
    Properties:
      Handler: app.handler
      Runtime: python3.7
      Role: arn:aws:iam::123456789012:role/x
      Code:
        ZipFile: "def handler(e, c): pass"
"""
SUPPRESS = 'Metadata: {idp-scan: {suppress: [{id: IDP-LAMBDA-001, reason: "moving to 3.12 in JIRA-123"}]}}'
SG = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Open:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: open
      SecurityGroupIngress:
        - IpProtocol: %s
          FromPort: %s
          ToPort: %s
          CidrIp: 0.0.0.0/0
"""
TF_BUCKET = """variable "public" {
  default = false
}
resource "aws_s3_bucket" "assets" {
  bucket = "assets"
}
resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = !var.public
  block_public_policy     = !var.public
  ignore_public_acls      = !var.public
  restrict_public_buckets = !var.public
}
"""


def statuses(report: dict, prefix: str = "") -> dict[str, str]:
    return {f["rule_id"]: f["status"] for f in report["findings"] if f["rule_id"].startswith(prefix)}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path.parent


def test_a_bucket_the_owner_finds_compliant_supersedes_checkovs_public_access_checks(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", BUCKET), "--engines", "native,checkov", "--select", "IDP-DATA-001",
                        "--select", "CKV_AWS_5")
    assert code == 0
    assert statuses(report) == {f"CKV_AWS_{n}": "superseded" for n in (53, 54, 55, 56)}
    assert all("IDP-DATA-001" in f["status_reason"] for f in report["findings"])


def test_where_the_owner_fires_the_others_fold_into_it(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", OPEN_FLAGS), "--engines", "native,checkov", "--select", "IDP-DATA-001",
                        "--select", "CKV_AWS_5")
    assert code == 1
    assert [(f["rule_id"], f["status"], f["also_reported_as"]) for f in report["findings"]] == [
        ("IDP-DATA-001", "open", ["CKV_AWS_53"])]


def test_where_the_owner_cannot_decide_the_others_stand(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", UNKNOWN_FLAGS), "--engines", "native,checkov", "--select", "IDP-DATA-001",
                        "--select", "CKV_AWS_5")
    assert code == 1  # fail closed: what the owner could not decide blocks
    assert statuses(report) == {f"CKV_AWS_{n}": "open" for n in (53, 54, 55, 56)}


def test_terraform_the_owner_evaluated_supersedes_checkov(tmp_path, scan):
    code, report = scan(write(tmp_path, "main.tf", TF_BUCKET), "--engines", "native,checkov", "--select", "IDP-DATA-001",
                        "--select", "CKV_AWS_5", "--select", "CKV2_AWS_6", "--ignore", "CKV2_AWS_61", "--ignore", "CKV2_AWS_62")
    assert code == 0
    assert statuses(report) == {rule: "superseded" for rule in ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6")}


def test_a_deprecated_runtime_is_one_finding_and_one_suppression_covers_it(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", LAMBDA % ""), "--engines", "native,cfn-lint", "--select", "IDP-LAMBDA",
                        "--select", "E253", "--select", "W253")
    assert code == 1
    assert [(f["rule_id"], f["status"], f["also_reported_as"]) for f in report["findings"]] == [("IDP-LAMBDA-001", "open", ["E2531"])]
    code, report = scan(write(tmp_path, "template.yaml", LAMBDA % SUPPRESS), "--engines", "native,cfn-lint", "--select", "IDP-LAMBDA",
                        "--select", "E253", "--select", "W253")
    assert code == 0
    assert [(f["rule_id"], f["status"]) for f in report["findings"]] == [("IDP-LAMBDA-001", "suppressed")]


def test_all_traffic_from_the_world_is_one_finding_saying_all_ports(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", SG % ('"-1"', "-1", "-1")), "--engines", "native", "--select", "IDP-NET")
    assert code == 1
    assert [(f["rule_id"], f["location"]["start_line"]) for f in report["findings"]] == [("IDP-NET-001", 11)]
    assert "all ports" in report["findings"][0]["message"]


def test_port_80_from_the_world_is_not_an_admin_port_concern(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", SG % ("tcp", 80, 80)), "--engines", "native,checkov", "--select", "IDP-NET",
                        "--select", "CKV_AWS_260")
    assert statuses(report) == {"CKV_AWS_260": "open"}


# -- the table, row by row ------------------------------------------------------------------------

def _finding(rule_id: str, engine: str, status: Status = Status.OPEN, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(rule_id, engine, severity, f"{rule_id} says so", Location("t.yaml", 3), ResourceId("cloudformation", "R"),
                   status=status, artifact="t.yaml")


@pytest.mark.parametrize("row", EQUIVALENCES, ids=lambda r: f"{r.owner}~{r.other}")
def test_each_equivalence_folds_into_its_owner(row):
    owner = _finding(row.owner, "native", severity=Severity.WARNING)
    other = _finding(row.other, "other", severity=Severity.ERROR)
    merged = dedupe([owner, other], {})
    assert [(f.rule_id, f.also_reported_as, f.severity) for f in merged] == [(row.owner, (row.other,), Severity.ERROR)]


@pytest.mark.parametrize("row", EQUIVALENCES, ids=lambda r: f"{r.owner}~{r.other}")
def test_each_equivalence_is_settled_by_its_owners_pass_only_when_declared(row):
    passed = _finding(row.owner, "native", status=Status.PASSED)
    other = _finding(row.other, "other")
    merged = dedupe([passed, other], {})
    assert [(f.rule_id, f.status) for f in merged] == [(row.other, Status.SUPERSEDED if row.settles else Status.OPEN)]


def test_a_pass_of_another_resource_settles_nothing():
    passed = Finding("IDP-LAMBDA-001", "native", Severity.ERROR, "ok", Location("t.yaml", 3), ResourceId("cloudformation", "Other"),
                     status=Status.PASSED, artifact="t.yaml")
    merged = dedupe([passed, _finding("E2531", "cfn-lint")], {})
    assert [(f.rule_id, f.status) for f in merged] == [("E2531", Status.OPEN)]


def test_native_aliases_settle_and_fold():
    meta = RuleMeta("IDP-X-001", "native", Severity.ERROR, "x", aliases=("CKV_X",))
    table = owners([meta], ())
    assert table.folds == {"CKV_X": ("IDP-X-001",)} and table.settles == {"CKV_X": ("IDP-X-001",)}


# -- scope-wide concerns, once per scope --------------------------------------------------------

SAM_FUNCTION = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://bucket/key.zip
"""
TWO_QUEUES = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Dead:
    Type: AWS::SQS::Queue
%s"""
TAGGED = """    Properties:
      Tags:
        - {Key: owner, Value: team-a}
        - {Key: cost-center, Value: CC-1234}
"""


def test_a_sam_function_and_its_generated_role_are_one_tag_finding(tmp_path, scan):
    code, report = scan(write(tmp_path, "template.yaml", SAM_FUNCTION), "--engines", "native", "--select", "IDP-TAG")
    assert [(f["rule_id"], f["location"]["start_line"], f["resource"]["name"]) for f in report["findings"]] == [("IDP-TAG-001", 4, "Api")]
    assert "It covers ApiRole, generated from it." in report["findings"][0]["message"]


def test_a_tag_every_resource_of_a_template_lacks_is_one_finding_for_the_stack(tmp_path, scan):
    _, report = scan(write(tmp_path, "template.yaml", TWO_QUEUES % ""), "--engines", "native", "--select", "IDP-TAG")
    assert [(f["rule_id"], f["location"]["start_line"], f["resource"]["type"]) for f in report["findings"]] == [
        ("IDP-TAG-001", 1, "AWS::CloudFormation::Stack")]
    assert "all 2 resources" in report["findings"][0]["message"]


def test_a_tag_only_some_resources_lack_is_reported_on_each_of_them(tmp_path, scan):
    _, report = scan(write(tmp_path, "template.yaml", TWO_QUEUES % TAGGED), "--engines", "native", "--select", "IDP-TAG")
    assert [(f["rule_id"], f["resource"]["name"]) for f in report["findings"]] == [("IDP-TAG-001", "Jobs")]


def test_a_preview_stack_without_a_valid_expiry_is_one_finding_per_stack(tmp_path, scan):
    config = tmp_path / "ttl.yaml"
    config.write_text('ttl:\n  as_of: "2027-06-20"\ntags:\n  required: []\n')
    _, report = scan(FIXTURES / "cdk" / "app", "--engines", "native", "--select", "IDP-TTL", "--config", config)
    (ttl,) = [f for f in report["findings"] if f["rule_id"] == "IDP-TTL-001"]
    assert (ttl["resource"]["name"], ttl["resource"]["type"]) == ("PreviewPr123/Service", "AWS::CloudFormation::Stack")
    # Shown where the stack is created (where its tags are added), the template as related location.
    assert (ttl["location"]["uri"], ttl["location"]["start_line"]) == ("fixtures/cdk/app/lib/stacks.ts", 54)
    assert ttl["related"] == [{"uri": "fixtures/cdk/app/cdk.out/assembly-PreviewPr123/PreviewPr123ServiceBECCD267.template.json",
                               "start_line": 1, "end_line": 1}]


def test_resources_generated_from_generated_ones_fold_into_the_written_resource(tmp_path, scan):
    schedule = SAM_FUNCTION + """      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 hour)
"""
    _, report = scan(write(tmp_path, "template.yaml", schedule), "--engines", "native", "--select", "IDP-TAG")
    assert [(f["rule_id"], f["resource"]["name"]) for f in report["findings"]] == [("IDP-TAG-001", "Api")]
    assert "It covers ApiHourlyRole, ApiRole, generated from it." in report["findings"][0]["message"]


def test_one_instance_reported_several_times_reads_the_same_whatever_the_order():
    """cfn-lint's E3043 reports one nested stack's parameter problems per condition scenario, in
    the order of a set (the process's hash seed): the combined finding must not follow it."""
    where = ResourceId("cloudformation", "Child", "AWS::CloudFormation::Stack", "Child")
    parts = [Finding(rule_id="E3043", engine="cfn-lint", severity=Severity.ERROR, message=text,
                     location=Location("stack.yaml", 4, 9), resource=where, key="Resources/Child/Properties")
             for text in ("Parameter A when IsProd is True", "Parameter B when IsProd is False", "Parameter C when IsDev is True")]
    one, other = dedupe(parts, {}), dedupe(list(reversed(parts)), {})
    assert one == other
    assert [f.message for f in one] == [
        "Parameter A when IsProd is True Parameter B when IsProd is False Parameter C when IsDev is True"]
