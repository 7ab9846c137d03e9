"""docs/rules.md is generated from the catalogue and must be current; `rules show` and `rules test` work as documented."""

from __future__ import annotations

from scanner.catalogue import build_catalogue
from scanner.cli import main
from scanner.ruledocs import render
from tests.conftest import REPO


def test_rule_reference_is_current():
    expected = render(build_catalogue(with_packs=False))
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == expected, "regenerate with: idp-scan rules docs --output docs/rules.md"


def test_rule_reference_documents_every_rule():
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule_id in build_catalogue(with_packs=False):
        assert f"\n## {rule_id}\n" in text


def test_rules_show_tells_where_a_rule_applies_and_its_examples(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["rules", "show", "IDP-LOG-001"]) == 0
    out = capsys.readouterr().out
    assert "Aliases: CKV_AWS_66" in out
    assert "Applies to (CloudFormation and CDK): AWS::Logs::LogGroup" in out
    assert "Applies to (Terraform): aws_cloudwatch_log_group" in out
    assert "Example (fail): fixtures/rules/IDP-LOG-001/fail.yaml" in out
    assert "**Terraform:**" in out


def test_rules_show_of_a_checkov_id_names_the_native_rule_covering_it(capsys):
    assert main(["rules", "show", "CKV_AWS_66"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CKV_AWS_66  [")
    assert "Covered by native rule(s): IDP-LOG-001 (listed among their aliases)" in out


def test_rules_show_finds_a_native_rule_by_alias_when_the_engine_is_not_asked(capsys):
    assert main(["rules", "show", "CKV_AWS_66", "--engines", "native"]) == 0
    assert capsys.readouterr().out.startswith("IDP-LOG-001  [warning, engine native]")


def test_rules_show_unknown_rule_is_a_usage_error():
    assert main(["rules", "show", "IDP-NOPE-001"]) == 2


def test_rules_list_filters_by_tag_and_severity(capsys):
    assert main(["rules", "list", "--tag", "finops", "--severity", "warning"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ids == ["IDP-LOG-001", "IDP-TAG-001"]


def test_rules_test_runs_the_bundled_fixtures(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["rules", "test", "--rule", "IDP-NET-002", "--rule", "IDP-TF-001"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "OK      IDP-NET-002      fixtures/rules/IDP-NET-002/fail.yaml  (3 failing resource(s) as expected)" in out
    assert "OK      IDP-TF-001       fixtures/rules/IDP-TF-001/fail-terraform  (3 failing resource(s) as expected)" in out
    assert out[-1] == "2 rule(s): 6 fixture(s) passed, 0 failed, 0 skipped"


def test_rules_test_reports_what_differs(tmp_path, capsys):
    rules = tmp_path / "rules"
    (rules / "fixtures" / "ACME-S3-001").mkdir(parents=True)
    (rules / "versioning.yaml").write_text(
        "id: ACME-S3-001\ntitle: Buckets keep versions\nseverity: warning\n"
        "resource_types: [AWS::S3::Bucket]\ncondition: {path: VersioningConfiguration/Status, equals: Enabled}\n"
    )
    template = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  {name}:\n    Type: AWS::S3::Bucket\n"
    (rules / "fixtures" / "ACME-S3-001" / "fail.yaml").write_text(template.format(name="UnversionedFail"))
    (rules / "fixtures" / "ACME-S3-001" / "pass.yaml").write_text(template.format(name="AlsoUnversionedPass"))
    assert main(["rules", "test", str(rules)]) == 1
    out = capsys.readouterr().out
    assert "FAILED  ACME-S3-001" in out and "found but not expected: AlsoUnversionedPass" in out
    assert out.splitlines()[-1] == "1 rule(s): 1 fixture(s) passed, 1 failed, 0 skipped"


def test_rules_test_requires_both_fixtures(tmp_path, capsys):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text("id: ACME-S3-002\ntitle: t\nresource_types: [AWS::S3::Bucket]\ncondition: {path: A, exists: true}\n")
    (rules / "fixtures").mkdir()
    assert main(["rules", "test", str(rules)]) == 1
    assert "ACME-S3-002      needs both a fail* and a pass* fixture" in capsys.readouterr().out

