"""Every bundled rule has failing and passing fixtures whose resource names say the outcome.

In `fixtures/rules/<RULE-ID>/`, `fail.*` must produce findings of that rule on exactly the
resources whose names contain `Fail`, and `pass.*` none at all. A Terraform module is a
directory (`fail-terraform/`, `pass-terraform/`); its resource names say the outcome in
Terraform's style (`resource "aws_security_group" "ssh_from_world_fail"`), and every instance
of a counted resource counts as that resource.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.catalogue import build_catalogue
from scanner.terraform_helpers import base_address
from tests.conftest import FIXTURES, finding_set

CATALOGUE = build_catalogue(with_packs=False)
RULE_IDS = sorted(CATALOGUE)


def fixture_files(rule_id: str, outcome: str) -> list[Path]:
    return sorted((FIXTURES / "rules" / rule_id).glob(f"{outcome}*"))


TF_RESOURCE = re.compile(r'^resource\s+"([^"]+)"\s+"([^"]+)"', re.MULTILINE)


def resource_names(path: Path) -> set[str]:
    if path.is_dir():
        return {f"{t}.{n}" for tf in path.glob("*.tf") for t, n in TF_RESOURCE.findall(tf.read_text())}
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    document = yaml.load(path.read_text(), Loader=Loader)
    return set(document.get("Resources", {}))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_metadata(rule_id):
    meta = CATALOGUE[rule_id].rule.meta()
    assert meta.title and len(meta.title) <= 120
    assert len(meta.help_markdown) > 200, "help explains why and how to fix"
    for words in ("CloudFormation", "CDK", "Terraform"):
        assert words in meta.help_markdown, f"help shows the fix in {words}"
    assert len(meta.tags) <= 20


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_failing_fixture_fails_exactly_the_named_resources(rule_id, scan):
    files = fixture_files(rule_id, "fail")
    assert files, f"{rule_id} has no failing fixture"
    for path in files:
        code, report = scan(path, "--engines", "native", "--select", rule_id)
        expected = {name for name in resource_names(path) if "Fail" in name or name.endswith("_fail")}
        found = {base_address(resource) for rule, _, _, resource in finding_set(report) if rule == rule_id}
        assert expected and found == expected, path
        assert code == 1


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_passing_fixture_passes(rule_id, scan):
    files = fixture_files(rule_id, "pass")
    assert files, f"{rule_id} has no passing fixture"
    for path in files:
        code, report = scan(path, "--engines", "native", "--select", rule_id)
        assert (code, finding_set(report)) == (0, set()), path


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_terraform_fixtures(rule_id):
    assert fixture_files(rule_id, "fail-terraform") and fixture_files(rule_id, "pass-terraform"), f"{rule_id} reads Terraform too"
