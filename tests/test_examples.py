"""The bundled examples: what the README's quick start shows."""

from __future__ import annotations

from tests.conftest import FIXTURES, finding_set

NONCOMPLIANT = "fixtures/examples/noncompliant/service.yaml"


def test_noncompliant_example_blocks_with_exact_findings(scan):
    code, report = scan(FIXTURES / "examples/noncompliant", "--engines", "native")
    assert code == 1
    assert finding_set(report) == {
        ("IDP-NET-001", NONCOMPLIANT, 12, "BastionSecurityGroup"),
        ("IDP-IAM-001", NONCOMPLIANT, 27, "DeployRole"),
        ("IDP-DATA-001", NONCOMPLIANT, 34, "AssetsBucket"),
        ("IDP-DATA-002", NONCOMPLIANT, 38, "OrdersDatabase"),
        ("IDP-ECS-001", NONCOMPLIANT, 47, "OrdersService"),
    }
    assert report["scanned"] == [NONCOMPLIANT]


def test_compliant_example_passes(scan):
    code, report = scan(FIXTURES / "examples/compliant", "--engines", "native")
    assert (code, report["findings"]) == (0, [])
    assert report["scanned"] == ["fixtures/examples/compliant/service.yaml"]
