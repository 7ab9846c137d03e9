"""The README's worked example: an organisation's rule pack, tested with `rules test`, shipped by entry point."""

from __future__ import annotations

import sys

import pytest

from scanner.catalogue import CatalogueError, _rules_from_object, build_catalogue
from scanner.cli import main
from tests.conftest import REPO

PACK = REPO / "examples" / "acme-rules"


def test_example_pack_fixtures_pass(capsys):
    assert main(["rules", "test", str(PACK / "acme_idp_rules"), "--fixtures", str(PACK / "fixtures")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 rule(s): 4 fixture(s) passed, 0 failed, 0 skipped"


def test_example_pack_entry_point_object_yields_its_rules(monkeypatch):
    monkeypatch.syspath_prepend(str(PACK))
    import acme_idp_rules

    try:
        rules = list(_rules_from_object(acme_idp_rules.rules))
    finally:
        sys.modules.pop("acme_idp_rules", None)
        sys.modules.pop("acme_idp_rules.default_vpc", None)
    assert sorted(rule.id for rule in rules) == ["ACME-NET-001", "ACME-S3-001"]


def test_example_pack_as_a_configured_directory(tmp_path, scan):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".idp-scan.yaml").write_text(f"rules: ['{PACK / 'acme_idp_rules'}']\nselect: [ACME]\n")
    (tmp_path / "t.yaml").write_text((PACK / "fixtures" / "ACME-NET-001" / "fail.yaml").read_text())
    code, report = scan(tmp_path / "t.yaml", "--engines", "native")
    assert code == 1
    assert [(f["rule_id"], f["resource"]["name"]) for f in report["findings"]] == [("ACME-NET-001", "DefaultVpcInstanceFail")]


def test_a_pack_redefining_a_bundled_id_is_an_error(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "dup.yaml").write_text("id: IDP-LOG-001\ntitle: t\nresource_types: [AWS::S3::Bucket]\ncondition: {path: A, exists: true}\n")
    with pytest.raises(CatalogueError, match="duplicate rule id IDP-LOG-001: defined in bundled:log_retention.yaml and in .*dup.yaml"):
        build_catalogue([rules], with_packs=False)
