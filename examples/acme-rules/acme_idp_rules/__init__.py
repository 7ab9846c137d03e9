"""ACME's idp-scan rule pack: one Python rule, one YAML rule, exported through `rules()`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scanner.rule import NativeRule
from scanner.yamlrule import load_yaml_rule

from .default_vpc import NoDefaultVpc


def rules() -> list[NativeRule]:
    """The entry point `idp_scan.rules: acme = acme_idp_rules:rules` names this function."""
    yaml_rules = [load_yaml_rule(Path(str(f))) for f in resources.files(__name__).iterdir() if f.name.endswith(".yaml")]
    return [NoDefaultVpc(), *yaml_rules]
