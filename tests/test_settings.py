"""Configuration: found by walking up, pyproject section, validation, precedence, selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.gate import is_selected
from scanner.model import Severity
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
