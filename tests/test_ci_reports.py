"""JUnit XML, GitHub workflow-command annotations and the Markdown job summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from scanner.model import Finding, Location, ResourceId, ScanResult, Severity, Status
from scanner.reports import ReportOptions, github, junit, markdown
from scanner.cli import main
from tests.conftest import FIXTURES

GATE = FIXTURES / "gate" / "suppressed.yaml"


def finding(n: int, severity: Severity = Severity.ERROR, status: Status = Status.OPEN, message: str = "msg") -> Finding:
    return Finding(f"IDP-T-{n:03d}", "native", severity, message, Location(f"f{n % 3}.yaml", n, n), ResourceId("cloudformation", f"R{n}"),
                   status=status, status_reason="a reason" if status is not Status.OPEN else "")


def result(*findings: Finding, scanned: tuple[str, ...] = ()) -> ScanResult:
    return ScanResult(findings=tuple(sorted(findings, key=lambda f: f.sort_key)), rules={}, scanned=scanned)


def test_junit_one_suite_per_file_failures_for_blocking_skipped_for_suppressed(tmp_path):
    out = tmp_path / "r.xml"
    assert main(["scan", str(GATE), "--engines", "native", "--format", f"junit={out}"]) == 1
    root = ET.parse(out).getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("skipped")) == ("testsuites", "8", "2", "4")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "fixtures/gate/suppressed.yaml"
    cases = {(c.get("name"), c.get("line")): [child.tag for child in c] for c in suite.iter("testcase")}
    assert cases[("IDP-NET-001 OpenSg", "54")] == ["failure"]
    assert cases[("IDP-NET-001 MetadataSg", "26")] == ["skipped"]
    assert cases[("IDP034 file", "53")] == ["system-out"]


def test_junit_compliant_file_is_a_passing_case():
    xml = junit.render(result(scanned=("ok.yaml",)), ReportOptions())
    root = ET.fromstring(xml.split("\n", 1)[1])
    assert [(c.get("name"), list(c)) for c in root.iter("testcase")] == [("compliant", [])]
    assert root.get("tests") == "1" and root.get("failures") == "0"


def test_github_annotations_are_capped_at_ten_per_level_with_a_count():
    findings = [finding(n) for n in range(1, 14)] + [finding(20 + n, Severity.WARNING) for n in range(3)] + [finding(40, status=Status.SUPPRESSED)]
    lines = github.render(result(*findings), ReportOptions()).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 3
    assert "idp-scan: 3 more errors not annotated (GitHub shows at most 10 per level per step); see the job summary or the SARIF report." in lines
    assert not any("IDP-T-040" in line for line in lines), "suppressed findings are not annotated"
    assert lines[-1].startswith("BLOCKED: 13 errors, 3 warnings")


def test_github_annotation_escapes_data_and_properties():
    weird = Finding("IDP-X-001", "native", Severity.NOTE, "100% bad\nsecond line", Location("a,b:c.yaml", 7, 9), ResourceId("cdk", "App/Res"))
    assert github.annotation(weird) == "::notice file=a%2Cb%3Ac.yaml,line=7,endLine=9,title=IDP-X-001 App/Res::100%25 bad%0Asecond line"


def test_markdown_summary_counts_and_links():
    findings = [finding(1, message="a | pipe"), finding(2, Severity.WARNING), finding(3, status=Status.BASELINED)]
    text = markdown.render(result(*findings, scanned=("f1.yaml",)), ReportOptions(link_base="https://github.com/o/r/blob/abc/"))
    assert text.startswith("## :x: idp-scan: blocked\n\n1 blocking finding in 1 scanned file.\n")
    assert "| error | 1 | 0 | 1 |" in text and "| warning | 1 | 0 | 0 |" in text
    assert "| [f1.yaml:1](https://github.com/o/r/blob/abc/f1.yaml#L1) | IDP-T-001 | R1 | a \\| pipe |" in text
    passed = markdown.render(result(scanned=("f1.yaml",)), ReportOptions())
    assert passed.startswith("## :white_check_mark: idp-scan: passed") and "Blocking findings" not in passed


def test_markdown_table_is_capped():
    text = markdown.render(result(*[finding(n) for n in range(1, 60)]), ReportOptions())
    assert text.count("| `f") == markdown.MAX_ROWS and "… and 9 more" in text


def test_several_ci_outputs_in_one_run(tmp_path, capsys):
    code = main(["scan", str(GATE), "--engines", "native", "--format", "github",
                 "--format", f"markdown={tmp_path / 's.md'}", "--format", f"junit={tmp_path / 'j.xml'}"])
    assert code == 1
    assert capsys.readouterr().out.count("::error ") == 2
    assert (tmp_path / "s.md").read_text().startswith("## :x: idp-scan: blocked")
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
