"""Bad input is a finding with file and line: never a traceback, never a silent pass."""

from __future__ import annotations

from tests.conftest import finding_set


def test_unparseable_template_is_idp001_at_its_line(scan, tmp_path):
    bad = tmp_path / "repo" / "broken.yaml"
    bad.parent.mkdir()
    (bad.parent / ".git").mkdir()
    bad.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties: {a: [1, 2}\n")
    code, report = scan(bad.parent)
    assert code == 1
    assert {(r, u, line) for r, u, line, _ in finding_set(report)} == {("IDP001", "broken.yaml", 5)}


def test_invalid_structure_is_idp004(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "list.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  - Type: AWS::S3::Bucket\n")
    (tmp_path / "notype.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Bucket:\n    Properties: {}\n")
    code, report = scan(tmp_path, "--engines", "native")
    assert code == 1
    assert finding_set(report) == {("IDP004", "list.yaml", 2, ""), ("IDP004", "notype.yaml", 3, "Bucket")}


def test_other_yaml_is_ignored_quietly(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "values.yaml").write_text("replicas: 3\nimage: {{ .Values.image }}\n")
    (tmp_path / "package.json").write_text('{"name": "x"}')
    code, report = scan(tmp_path, "--engines", "native")
    assert (code, report["findings"], report["scanned"]) == (0, [], [])


def test_crashing_rule_becomes_idp005(scan, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "boom.py").write_text(
        "from scanner.rule import Rule\n"
        "class Boom(Rule):\n"
        "    '''Always crashes.'''\n"
        "    id = 'ORG-TEST-001'\n"
        "    resource_types = ('AWS::S3::Bucket',)\n"
        "    def check(self, resource, ctx):\n"
        "        raise ValueError('kaput')\n"
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".idp-scan.yaml").write_text("rules: [rules]\nengines: [native]\nselect: [ORG]\n")
    (tmp_path / "t.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n")
    code, report = scan(tmp_path)
    assert code == 1
    assert finding_set(report) == {("IDP005", "t.yaml", 3, "B")}
    assert "kaput" in report["findings"][0]["message"]
