"""Configuration: found by walking up, pyproject section, validation, precedence, selection."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from scanner.gate import is_selected
from scanner.model import Severity
from scanner.config_sections import (AccountsSettings, CacheSettings, CfnLintSettings, CheckovSettings, GuardSettings, Limits,
                                     TerraformSettings, VarFile)
from scanner.settings import ConfigError, build_settings


def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / "infra" / "app").mkdir(parents=True)
    return tmp_path


def test_zero_config_works(tmp_path):
    settings = build_settings([repo(tmp_path) / "infra"])
    assert settings.config_file is None and settings.fail_on is Severity.ERROR and settings.budget == 180


def test_config_found_by_walking_up_to_the_repo_root(tmp_path):
    root = repo(tmp_path)
    (root / ".idp-scan.yaml").write_text("fail_on: warning\nselect: [IDP]\n")
    settings = build_settings([root / "infra" / "app"])
    assert settings.config_file == root / ".idp-scan.yaml"
    assert settings.fail_on is Severity.WARNING and settings.select == ("IDP",)


def test_config_above_the_repo_root_is_not_used(tmp_path):
    (tmp_path / ".idp-scan.yaml").write_text("fail_on: never\n")
    inner = repo(tmp_path / "checkout")
    assert build_settings([inner]).config_file is None


def test_pyproject_section(tmp_path):
    root = repo(tmp_path)
    (root / "pyproject.toml").write_text('[tool.idp-scan]\nfail_on = "never"\nengines = ["native"]\n')
    settings = build_settings([root / "infra"])
    assert settings.fail_on is None and settings.engines == ("native",)


def test_command_line_beats_file(tmp_path):
    root = repo(tmp_path)
    (root / ".idp-scan.yaml").write_text("fail_on: warning\nbudget: 60\n")
    settings = build_settings([root], cli={"fail_on": "note", "budget": None})
    assert settings.fail_on is Severity.NOTE and settings.budget == 60


@pytest.mark.parametrize(
    "text, expected",
    [
        ("engine: [native]\n", "unknown key 'engine' (did you mean 'engines'?)"),
        ("ttl: {max_dayz: 3}\n", "unknown key 'ttl.max_dayz' (did you mean 'ttl.max_days'"),
        ("fail_on: sometimes\n", "'fail_on': 'sometimes' is not one of"),
        ("budget: -1\n", "'budget': -1 is less than or equal to the minimum"),
        ("- a\n- b\n", "must be a mapping"),
        ("a: [\n", "cannot be read"),
    ],
)
def test_invalid_config_is_explained(tmp_path, text, expected):
    root = repo(tmp_path)
    (root / ".idp-scan.yaml").write_text(text)
    with pytest.raises(ConfigError) as error:
        build_settings([root])
    assert expected.replace("'ttl.max_days'", "'max_days'") in str(error.value) or expected in str(error.value)


@pytest.mark.parametrize(
    "rule_id, select, ignore, selected",
    [
        ("CKV_AWS_18", [], [], True),
        ("CKV_AWS_18", [], ["CKV_AWS_18"], False),
        ("CKV_AWS_18", [], ["CKV"], False),
        ("CKV_AWS_18", ["CKV_AWS_1"], ["CKV"], True),
        ("CKV_AWS_18", ["CKV"], ["CKV_AWS_1"], False),
        ("E3012", ["IDP"], [], False),
        ("IDP-NET-001", ["IDP"], ["IDP-NET"], False),
        ("IDP-NET-001", ["IDP-NET-001"], ["IDP-NET"], True),
        ("IDP-NET-001", ["IDP-NET"], ["IDP-NET"], True),
        ("IDP001", ["CKV"], ["IDP"], True),
    ],
)
def test_selection_longest_prefix_wins(rule_id, select, ignore, selected):
    assert is_selected(rule_id, select, ignore) is selected


def test_typed_sections_are_built_once_from_the_file(tmp_path):
    root = repo(tmp_path)
    (root / "infra" / "app" / "prod.tfvars").write_text('x = 1\n')
    (root / ".idp-scan.yaml").write_text(
        "limits: {max_depth: 40, max_plan_bytes: 1000}\n"
        "terraform: {var_files: {infra/app: [prod.tfvars]}}\n"
        "regions: {allowed: [eu-west-1]}\n"
        "accounts: {email_domains: [Corp.example], max_ttl_days: {sandbox: 30}, cost_center_pattern: '^X$', as_of: 2026-01-02}\n"
        "guard: {rules: [policy/guard], binary: bin/cfn-guard, timeout: 5}\n"
        "cfn_lint: {regions: [us-west-2], as_of: 2025-06-01}\n"
        "checkov: {timeout: 7.5}\n"
        "severity: {IDP-NET-001: warning}\n"
        "cache_dir: .cache/idp\n"
    )
    settings = build_settings([root])
    assert settings.limits == Limits(max_file_bytes=1024 * 1024, max_depth=40, max_nodes=500_000, max_plan_bytes=1000)
    app = (root / "infra" / "app").resolve()
    assert settings.terraform == TerraformSettings((VarFile(app, app / "prod.tfvars"),))
    assert settings.terraform.files_for(app) == [app / "prod.tfvars"] and settings.terraform.files_for(root) == []
    assert settings.allowed_regions == ("eu-west-1",)
    assert settings.accounts == AccountsSettings(email_domains=("Corp.example",), cost_center_pattern="^X$",
                                                 max_ttl_days={"sandbox": 30}, as_of=datetime.date(2026, 1, 2))
    assert settings.guard == GuardSettings(rules=("policy/guard",), binary=root / "bin/cfn-guard", timeout=5.0, base=root)
    assert settings.cfn_lint == CfnLintSettings(regions=("us-west-2",), as_of=datetime.date(2025, 6, 1), timeout=120.0)
    assert settings.checkov == CheckovSettings(timeout=7.5)
    assert settings.severity_overrides == {"IDP-NET-001": "warning"}
    assert settings.cache == CacheSettings(enabled=True, directory=".cache/idp")
    assert build_settings([root], cli={"cache": False}).cache == CacheSettings(enabled=False, directory=".cache/idp")


def test_typed_sections_default_without_a_file_and_take_the_command_line(tmp_path):
    root = repo(tmp_path)
    settings = build_settings([root], cli={"as_of": datetime.date(2027, 3, 4)})
    assert (settings.limits, settings.terraform, settings.accounts, settings.guard.rules, settings.cfn_lint, settings.checkov) == (
        Limits(), TerraformSettings(), AccountsSettings(), (), CfnLintSettings(), CheckovSettings())
    assert settings.allowed_regions is None and settings.severity_overrides == {} and settings.as_of == datetime.date(2027, 3, 4)
    assert settings.cache == CacheSettings()


@pytest.mark.parametrize(("accounts", "regions", "cli_as_of", "expected_regions", "expected_as_of"), [
    ({}, {}, None, None, datetime.date(2026, 5, 5)),
    ({}, {"allowed": ["eu-west-1"]}, None, ("eu-west-1",), datetime.date(2026, 5, 5)),
    ({"allowed_regions": ["us-east-1"], "as_of": "2026-01-01"}, {"allowed": ["eu-west-1"]}, None, ("us-east-1",), datetime.date(2026, 1, 1)),
    ({"allowed_regions": [], "as_of": "2026-01-01"}, {"allowed": ["eu-west-1"]}, datetime.date(2025, 2, 2), None, datetime.date(2025, 2, 2)),
])
def test_account_policy_reads_the_typed_sections(tmp_path, accounts, regions, cli_as_of, expected_regions, expected_as_of):
    from scanner.engines.account_checks import DEFAULT_ENVIRONMENTS, Policy

    root = repo(tmp_path)
    (root / ".idp-scan.yaml").write_text(json.dumps({"accounts": accounts, "regions": regions}))
    policy = Policy.from_settings(build_settings([root], cli={"as_of": cli_as_of}), today=datetime.date(2026, 5, 5))
    assert (policy.allowed_regions, policy.as_of, policy.environments) == (expected_regions, expected_as_of, DEFAULT_ENVIRONMENTS)
    assert policy.max_ttl_days == {"sandbox": 90, "preview": 14} and policy.cost_center.pattern == "^CC-[0-9]{4}$"


def test_the_raw_options_are_read_only_by_the_cache_key_and_the_rules():
    """Everything reads the typed sections; only the cache (a digest of the configuration as
    written, part of every key) and the native engine (the rules' `ctx.options`) read `settings.options`."""
    import ast

    from tests.conftest import REPO

    def reads_options(node: ast.AST) -> bool:
        if not (isinstance(node, ast.Attribute) and node.attr == "options"):
            return False
        owner = node.value
        return (isinstance(owner, ast.Name) and owner.id == "settings") or (isinstance(owner, ast.Attribute) and owner.attr.endswith("settings"))

    readers = {path.relative_to(REPO).as_posix() for path in sorted((REPO / "scanner").rglob("*.py"))
               if any(reads_options(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))}
    assert readers == {"scanner/cache/__init__.py", "scanner/engines/native.py"}
