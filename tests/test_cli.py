"""Exit codes and the command line's behaviour, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES, REPO

NONCOMPLIANT = FIXTURES / "examples" / "noncompliant"
COMPLIANT = FIXTURES / "examples" / "compliant"


def test_exit_codes(tmp_path):
    assert main(["scan", str(NONCOMPLIANT), "--engines", "native", "-o", str(tmp_path / "a")]) == 1
    assert main(["scan", str(COMPLIANT), "--engines", "native", "-o", str(tmp_path / "b")]) == 0
    assert main(["scan", str(NONCOMPLIANT), "--engines", "native", "--fail-on", "never", "-o", str(tmp_path / "c")]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--no-such-flag"],
        ["scan", "--fail-on", "sometimes"],
        ["scan", "--format", "pdf"],
        ["scan", "does/not/exist"],
        ["scan", "--engines", "nope"],
        ["scan", "--config", "missing.yaml"],
        ["rules", "show", "IDP-NOPE-001"],
        ["frobnicate-this-is-no-path"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_plain_path_is_an_alias_for_scan(tmp_path):
    assert main([str(NONCOMPLIANT), "--engines", "native", "-o", str(tmp_path / "x")]) == 1


def test_bad_config_exits_2_with_did_you_mean(tmp_path, capsys):
    (tmp_path / ".idp-scan.yaml").write_text("fail_onn: warning\n")
    (tmp_path / "t.yaml").write_text("Resources: {}\n")
    assert main(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'fail_onn'" in err and "did you mean 'fail_on'" in err


def test_text_report_groups_by_file_and_ends_with_summary(capsys):
    assert main(["scan", str(FIXTURES / "examples"), "--engines", "native"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "fixtures/examples/noncompliant/service.yaml"
    assert out[-1] == "BLOCKED: 5 errors, 0 warnings, 0 notes (2 files scanned)"
    assert "\x1b[" not in "".join(out), "no colour when not a terminal"


def test_several_outputs_in_one_run(tmp_path):
    code = main(["scan", str(NONCOMPLIANT), "--engines", "native", "--format", f"sarif={tmp_path / 'o.sarif'}", "--format", f"json={tmp_path / 'o.json'}"])
    assert code == 1
    assert json.loads((tmp_path / "o.sarif").read_text())["version"] == "2.1.0"
    assert len(json.loads((tmp_path / "o.json").read_text())["findings"]) == 5


def test_version_and_rules_commands(capsys):
    assert main(["--version"]) == 0
    assert "idp-scan, version" in capsys.readouterr().out
    assert main(["rules", "list"]) == 0
    listing = capsys.readouterr().out
    assert "IDP-NET-001" in listing and "IDP001" in listing
    assert main(["rules", "show", "IDP-ECS-001"]) == 0
    shown = capsys.readouterr().out
    assert "circuit breaker" in shown and "Terraform" in shown


def test_console_script_runs_without_traceback_on_bad_template(tmp_path):
    (tmp_path / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A: [unclosed\n")
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--engines", "native"], capture_output=True, text=True, env=env, cwd=REPO)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "IDP001" in proc.stdout


def test_quiet_shows_only_blocking(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("severity: {IDP-ECS-001: warning}\n")
    assert main(["scan", str(NONCOMPLIANT), "--engines", "native", "--config", str(config), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "IDP-ECS-001" not in out and "IDP-NET-001" in out
    assert out.splitlines()[-1].startswith("BLOCKED: 4 errors, 1 warning")


def test_options_scan_and_merge_share_are_one_declaration():
    from scanner.commands.merge import merge_command
    from scanner.commands.scan import scan

    def declared(command):
        return {p.name: (tuple(p.opts), type(p.type).__name__, p.multiple, getattr(p, "is_flag", False)) for p in command.params}

    in_scan, in_merge = declared(scan), declared(merge_command)
    shared_names = {"formats", "output", "config_path", "fail_on", "baseline", "no_suppressions", "include_suppressed"}
    assert set(in_scan) & set(in_merge) == shared_names
    assert {name: in_scan[name] for name in shared_names} == {name: in_merge[name] for name in shared_names}


def test_scan_values_reach_the_settings(tmp_path):
    from scanner.commands.options import PolicyChoice, ScanChoice, load_settings

    (tmp_path / ".git").mkdir()
    choice = ScanChoice(engines="native, checkov,", select=("IDP",), budget=5.0, shard="2/3", no_cache=True, var_files=())
    settings = load_settings([tmp_path], None, {**PolicyChoice(fail_on="never", no_suppressions=True).values(), **choice.values()})
    assert (settings.engines, settings.select, settings.budget, settings.shard, settings.fail_on, settings.no_suppressions) == (
        ("native", "checkov"), ("IDP",), 5.0, (2, 3), None, True)
    assert settings.options["cache"] is False and "baseline" not in settings.options


def test_engine_libraries_do_not_log_into_the_users_terminal(tmp_path):
    """cfn-lint logs "Template file not found" for a nested stack it cannot open; idp-scan
    reports what the engine finds, so the library's own log line is noise unless --debug."""
    import subprocess
    import sys

    (tmp_path / ".git").mkdir()
    (tmp_path / "parent.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n"
        "    Properties:\n      TemplateURL: ./missing-child.yaml\n")
    done = subprocess.run([sys.executable, "-m", "scanner", "scan", "parent.yaml", "--engines", "cfn-lint", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1)
    assert "cfnlint" not in done.stderr
