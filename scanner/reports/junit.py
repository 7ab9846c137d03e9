"""JUnit XML for CI test tabs: one test suite per file, one test case per finding.

A blocking finding is a failure; a suppressed or baselined one is skipped (with its reason); an
open finding below the fail-on threshold passes with its message as output. A scanned file
without findings is one passing test case, so the report shows what was proven compliant.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from scanner.model import Finding, ScanResult, Status
from scanner.reports import ReportOptions


def _case(suite: ET.Element, finding: Finding, blocking: set[Finding]) -> None:
    resource = finding.resource.display if finding.resource else "file"
    case = ET.SubElement(suite, "testcase", name=f"{finding.rule_id} {resource}", classname=finding.location.uri,
                         file=finding.location.uri, line=str(finding.location.start_line))
    text = f"{finding.location.uri}:{finding.location.start_line}: {finding.message}"
    if finding in blocking:
        failure = ET.SubElement(case, "failure", message=finding.message, type=finding.severity.value)
        failure.text = text
    elif finding.status is not Status.OPEN:
        ET.SubElement(case, "skipped", message=f"{finding.status.value}: {finding.status_reason}")
    else:
        ET.SubElement(case, "system-out").text = f"{finding.severity.value}: {text}"


def render(result: ScanResult, options: ReportOptions) -> str:
    blocking = set(result.blocking)
    by_file = {uri: list(group) for uri, group in groupby(result.findings, key=lambda f: f.location.uri)}
    root = ET.Element("testsuites", name="idp-scan")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for uri in sorted(set(by_file) | set(result.scanned)):
        findings = by_file.get(uri, [])
        suite = ET.SubElement(root, "testsuite", name=uri)
        for finding in findings:
            _case(suite, finding, blocking)
        if not findings:
            ET.SubElement(suite, "testcase", name="compliant", classname=uri, file=uri)
        counts = {
            "tests": max(len(findings), 1),
            "failures": sum(1 for f in findings if f in blocking),
            "skipped": sum(1 for f in findings if f.status is not Status.OPEN),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
