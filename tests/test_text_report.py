"""The text report: a finding's `why:` line appears only when the rule's title adds to the message."""

from __future__ import annotations

from scanner.model import Finding, Location, ResourceId, RuleMeta, ScanResult, Severity
from scanner.reports import ReportOptions
from scanner.reports.text import render

LOGGING = RuleMeta("CKV_AWS_18", "checkov", Severity.NOTE, "Ensure the S3 bucket has access logging enabled")
SSH = RuleMeta("IDP-NET-001", "native", Severity.ERROR, "Security groups must not open SSH or RDP to the whole internet")


def _lines(finding: Finding, meta: RuleMeta) -> list[str]:
    result = ScanResult(findings=(finding,), rules={meta.id: meta}, scanned=("t.yaml",))
    return render(result, ReportOptions()).splitlines()[1:-2]


def test_a_checkov_finding_whose_message_is_its_title_has_no_why_line():
    finding = Finding("CKV_AWS_18", "checkov", Severity.NOTE, "Bucket: Ensure the S3 bucket has access logging enabled.",
                      Location("t.yaml", 3, 3), ResourceId("cloudformation", "Bucket"))
    assert _lines(finding, LOGGING) == [
        "      3  note    CKV_AWS_18  Bucket: Ensure the S3 bucket has access logging enabled.",
        "                resource: Bucket",
    ]


def test_a_native_finding_keeps_the_why_line_that_says_more_than_its_message():
    finding = Finding("IDP-NET-001", "native", Severity.ERROR, "Sg allows SSH (22) from 0.0.0.0/0.",
                      Location("t.yaml", 9, 9), ResourceId("cloudformation", "Sg"))
    assert _lines(finding, SSH) == [
        "      9  error   IDP-NET-001  Sg allows SSH (22) from 0.0.0.0/0.",
        "                resource: Sg",
        "                why:      Security groups must not open SSH or RDP to the whole internet",
    ]
