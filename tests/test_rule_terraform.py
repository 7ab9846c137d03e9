"""The rules' Terraform readers on the `.tf` fixtures, through a stand-in reader (tests/tf_stub.py).

The fixture harness (`idp-scan rules test`) runs the same files end to end once a Terraform
input is installed; until then it reports them as skipped and this test holds the readers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.catalogue import build_catalogue
from scanner.ruletest import expected_failures
from scanner.settings import read_config
from tests import tf_stub
from tests.conftest import FIXTURES

CATALOGUE = build_catalogue(with_packs=False)
TF_FIXTURES = sorted((FIXTURES / "rules").glob("*/*.tf"))


def options_for(path: Path) -> dict[str, object]:
    config = path.parent / ".idp-scan.yaml"
    return read_config(config) if config.is_file() else {}


@pytest.mark.parametrize("path", TF_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_terraform_fixture(path: Path) -> None:
    rule = CATALOGUE[path.parent.name].rule
    found = tf_stub.failing_resources(rule, path, options_for(path))
    expected = expected_failures(path) if path.name.startswith("fail") else set()
    assert set(found) == expected, found
    if path.name.startswith("fail"):
        assert expected


# Rules owned by issue 4's Terraform work (NET-001, IAM-001, DATA-001/002, ECS-001) get their .tf fixtures there.
OWN_RULES = sorted(set(CATALOGUE) - {"IDP-NET-001", "IDP-IAM-001", "IDP-DATA-001", "IDP-DATA-002", "IDP-ECS-001"})


@pytest.mark.parametrize("rule_id", OWN_RULES)
def test_every_new_rule_has_terraform_fixtures(rule_id: str) -> None:
    names = {p.name for p in (FIXTURES / "rules" / rule_id).glob("*.tf")}
    assert {"fail.tf", "pass.tf"} <= names
