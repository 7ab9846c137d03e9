"""`Fn::If` per branch: every rule sees each condition's outcomes; violating branches name the condition."""

from __future__ import annotations

from scanner.branches import choose, condition_names, variants, with_label
from scanner.model import Resource, ResourceId

PROPS = {
    "A": {"Fn::If": ["IsProd", "prod", "dev"]},
    "B": [{"Fn::If": ["IsDemo", {"X": 1}, {"Ref": "AWS::NoValue"}]}, 2],
    "C": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "c"]},
}


def test_condition_names_in_document_order():
    assert condition_names(PROPS) == ["IsProd", "IsDemo"]


def test_choose_replaces_only_that_condition_and_drops_no_value():
    assert choose(PROPS, "IsProd", True) == {"A": "prod", "B": [PROPS["B"][0], 2]}
    assert choose(PROPS, "IsProd", False) == {"A": "dev", "B": [PROPS["B"][0], 2], "C": "c"}
    assert choose(PROPS, "IsDemo", False)["B"] == [2]


def test_variants_are_linear_in_conditions():
    resource = Resource(ResourceId("cloudformation", "R"), "AWS::S3::Bucket", PROPS, ("Resources", "R", "Properties"))
    labels = [label for label, _ in variants(resource)]
    assert labels == [
        "when condition `IsProd` is true", "when condition `IsProd` is false",
        "when condition `IsDemo` is true", "when condition `IsDemo` is false",
    ]


def test_with_label():
    assert with_label("R is public.", "when condition `C` is true") == "R is public when condition `C` is true."


def test_violating_branch_of_a_python_rule_is_a_finding(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Conditions:\n  Open: !Equals [a, a]\n"
        "Resources:\n"
        "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n"
        "      SecurityGroupIngress:\n"
        "        - !If [Open, {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}, !Ref AWS::NoValue]\n"
    )
    code, report = scan(tmp_path / "t.yaml", "--engines", "native", "--select", "IDP-NET-001")
    assert code == 1
    assert [f["message"] for f in report["findings"]] == ["Sg allows SSH (22) from 0.0.0.0/0 when condition `Open` is true."]
