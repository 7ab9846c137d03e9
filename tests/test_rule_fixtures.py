"""Every bundled rule has metadata and failing and passing fixtures whose resource names say the outcome.

In `fixtures/rules/<RULE-ID>/`, `fail*` must produce findings of that rule on exactly the
resources whose names contain `Fail` (any case: `ssh_from_world_fail` in Terraform), and `pass*`
none at all; the harness behind `idp-scan rules test` (scanner/ruletest.py) runs them. A
Terraform fixture is a module directory (`fail-terraform/`, `pass-terraform/`).
"""

from __future__ import annotations

import pytest

from scanner.catalogue import build_catalogue
from scanner.model import Severity
from scanner.ruletest import fixture_files, run_fixture
from tests.conftest import FIXTURES, finding_set, own_config

CATALOGUE = build_catalogue(with_packs=False)
RULE_IDS = sorted(CATALOGUE)
FIXTURE_CASES = [(rule_id, outcome, path) for rule_id in RULE_IDS for outcome, path in fixture_files(FIXTURES / "rules", rule_id)]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_metadata(rule_id):
    meta = CATALOGUE[rule_id].rule.meta()
    assert meta.title and len(meta.title) <= 120
    assert len(meta.help_markdown) > 200, "help explains why and how to fix"
    for words in ("CloudFormation", "CDK", "Terraform"):
        assert f"**{words}:**" in meta.help_markdown, f"help shows the fix in {words}"
    assert 1 <= len(meta.tags) <= 20
    assert isinstance(meta.aliases, tuple) and all(a.startswith(("CKV", "E", "W", "AwsSolutions")) for a in meta.aliases)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_pass_and_fail_fixtures_per_format(rule_id):
    names = {path.name for _, path in fixture_files(FIXTURES / "rules", rule_id)}
    assert {"fail-terraform", "pass-terraform"} <= names, "every rule reads Terraform"
    if rule_id != "IDP-TF-001":  # Terraform only
        assert {"fail.yaml", "pass.yaml"} <= names, "every rule reads CloudFormation"


@pytest.mark.parametrize("rule_id, outcome, path", FIXTURE_CASES, ids=[f"{r}/{p.name}" for r, _, p in FIXTURE_CASES])
def test_fixture_fails_exactly_the_named_resources(rule_id, outcome, path):
    result = run_fixture(rule_id, outcome, path, ())
    assert (result.status, result.problems) == ("ok", ()), (result.missing, result.unexpected, result.problems)
    assert (outcome == "fail") == bool(result.found)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_exit_code_follows_severity(rule_id, scan):
    """A failing fixture blocks exactly when its rule is an error (hygiene rules warn)."""
    path = next(p for o, p in fixture_files(FIXTURES / "rules", rule_id) if o == "fail")
    code, report = scan(path, "--engines", "native", "--select", rule_id, *own_config(path))
    blocking = CATALOGUE[rule_id].rule.meta().severity is Severity.ERROR
    assert finding_set(report) and code == (1 if blocking else 0)
