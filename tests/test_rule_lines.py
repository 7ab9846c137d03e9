"""Exact findings (rule, file, line, resource) of every bundled rule's failing fixture."""

from __future__ import annotations

from tests.conftest import FIXTURES, finding_set

R = "fixtures/rules"

EXPECTED = {
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 6, "PublicReadAclFail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 12, "BlockPolicyOffFail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 18, "PartialBlockFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 5, "UnencryptedInstanceFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 15, "ExplicitlyOffInstanceFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 20, "UnencryptedClusterFail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail.yaml", 5, "NoDeploymentConfigFail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail.yaml", 16, "BreakerWithoutRollbackFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 12, "InlineAdminRoleFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 19, "ManagedNotActionFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 28, "StandalonePolicyFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 13, "SshFromWorldFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 22, "RdpRangeIpv6Fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 28, "AllProtocolsFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 36, "ParameterDefaultFail"),
}


def test_foundation_rules_report_exact_lines(scan):
    code, report = scan(*(FIXTURES / "rules" / rule for rule in sorted({e[0] for e in EXPECTED})), "--engines", "native")
    assert code == 1
    assert finding_set(report) == EXPECTED


def test_one_finding_per_rule_and_resource(scan):
    _, report = scan(FIXTURES / "rules" / "IDP-NET-001" / "fail.yaml", "--engines", "native")
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages["AllProtocolsFail"] == "AllProtocolsFail allows SSH (22) and RDP (3389) from 0.0.0.0/0."
    fingerprints = [f["fingerprint"] for f in report["findings"]]
    assert len(fingerprints) == len(set(fingerprints))
