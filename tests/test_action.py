"""The composite GitHub Action: action.yml against the public schema, and its step scripts run
in a harness with the GITHUB_* environment files, as the runner would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
SCHEMA = json.loads((Path(__file__).parent / "github-action.schema.json").read_text())  # json.schemastore.org/github-action.json
STEPS = REPO / "action" / "steps.py"


def test_action_yml_is_valid_under_the_public_schema():
    errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(ACTION)]
    assert errors == []


def test_schema_check_can_fail():
    broken = {**ACTION, "runs": {"using": "composite", "steps": [{"run": "echo missing shell"}]}}
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken)) != []


def test_inputs_outputs_and_step_order():
    assert set(ACTION["inputs"]) >= {"paths", "config", "fail-on", "budget", "baseline", "sarif-file", "upload-sarif", "category", "policy-ref"}
    assert set(ACTION["outputs"]) >= {"sarif-file", "exit-code", "findings", "blocking", "errors", "warnings", "notes"}
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    names = [s.get("uses", "").split("@")[0] or s.get("name") for s in steps]
    assert names.index("github/codeql-action/upload-sarif") < names.index("Gate") == len(steps) - 1
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["category"] == "${{ inputs.category }}"
    assert "$GITHUB_ACTION_PATH" in steps[1]["run"], "installs idp-scan from the action's own checkout"
    for step in steps:
        assert "${{" not in step.get("run", ""), "inputs reach scripts as environment variables, never spliced into shell"


class Runner:
    """The GitHub runner's side of a step: environment files and variables."""

    def __init__(self, tmp_path: Path, workspace: Path) -> None:
        self.workspace = workspace
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.output = tmp_path / "github-output"
        self.summary = tmp_path / "step-summary"

    def run(self, step: str, **inputs: str) -> subprocess.CompletedProcess[str]:
        self.output.write_text("")
        env = {**os.environ, "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary),
               "RUNNER_TEMP": str(self.temp), "GITHUB_WORKSPACE": str(self.workspace), **inputs}
        return subprocess.run([sys.executable, str(STEPS), step], cwd=self.workspace, env=env, capture_output=True, text=True, timeout=300)

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A base branch with a strict policy, and a pull request that adds an open security group
    and tries to weaken the policy that judges it."""
    repo = tmp_path / "repo"
    (repo / "policy").mkdir(parents=True)
    (repo / ".idp-scan.yaml").write_text("engines: [native]\nwaivers: policy/waivers.yaml\n")
    (repo / "policy" / "waivers.yaml").write_text("waivers: []\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "policy")
    git(repo, "checkout", "-q", "-b", "pr")
    shutil.copy(FIXTURES / "examples" / "noncompliant" / "service.yaml", repo / "service.yaml")
    (repo / ".idp-scan.yaml").write_text("engines: [native]\nwaivers: policy/waivers.yaml\nfail_on: never\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "pr")
    return repo


def test_scan_step_writes_outputs_summary_and_never_fails(pull_request, tmp_path):
    runner = Runner(tmp_path, pull_request)
    done = runner.run("scan", INPUT_PATHS=".", INPUT_FAIL_ON="error", INPUT_SARIF_FILE="out.sarif")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("::error file=service.yaml") == 5
    outputs = runner.outputs()
    assert outputs == {"exit-code": "1", "sarif-file": "out.sarif", "findings": "5", "blocking": "5", "errors": "5", "warnings": "0", "notes": "0"}
    assert json.loads((pull_request / "out.sarif").read_text())["version"] == "2.1.0"
    assert runner.summary.read_text().startswith("## :x: idp-scan: blocked")
    gate = runner.run("gate", EXIT_CODE=outputs["exit-code"])
    assert gate.returncode == 1 and "exit code 1 (blocking findings)" in gate.stdout


def test_the_pull_request_cannot_weaken_the_policy(pull_request, tmp_path):
    runner = Runner(tmp_path, pull_request)
    weakened = runner.run("scan", INPUT_PATHS=".")
    assert weakened.returncode == 0 and runner.outputs()["exit-code"] == "0", "the PR's own config says fail_on: never"
    policy = runner.run("policy", INPUT_POLICY_REF="main")
    assert policy.returncode == 0, policy.stderr
    config = Path(runner.outputs()["config"])
    assert config.parent == runner.temp / "idp-scan-policy"
    assert "fail_on" not in config.read_text() and (config.parent / "policy" / "waivers.yaml").is_file()
    runner.run("scan", INPUT_PATHS=".", INPUT_CONFIG=str(config))
    assert runner.outputs()["exit-code"] == "1"


def test_policy_without_a_config_on_the_base_uses_zero_configuration(pull_request, tmp_path):
    git(pull_request, "checkout", "-q", "--orphan", "empty")
    git(pull_request, "rm", "-rq", "--cached", ".")
    (pull_request / "x").write_text("x")
    git(pull_request, "add", "x")
    git(pull_request, "commit", "-q", "-m", "nothing")
    runner = Runner(tmp_path, pull_request)
    assert runner.run("policy", INPUT_POLICY_REF="empty").returncode == 0
    assert Path(runner.outputs()["config"]).read_text() == "{}\n"
    assert runner.run("policy", INPUT_POLICY_REF="no-such-ref").returncode != 0


def test_scan_step_reports_a_usage_error_and_gate_fails(pull_request, tmp_path):
    runner = Runner(tmp_path, pull_request)
    assert runner.run("scan", INPUT_PATHS="does-not-exist").returncode == 0
    outputs = runner.outputs()
    assert outputs == {"exit-code": "2", "sarif-file": ""}
    assert "could not run (exit code 2)" in runner.summary.read_text()
    assert runner.run("gate", EXIT_CODE="2").returncode == 2
    assert runner.run("gate", EXIT_CODE="").returncode == 1, "no exit code: fail closed"


def test_readme_workflows_parse_and_use_this_action_and_permissions():
    import re

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)]
    workflows = [b for b in blocks if isinstance(b, dict) and "jobs" in b]
    assert len(workflows) == 2
    single, matrix = workflows
    assert single["permissions"]["security-events"] == "write"
    assert any(step.get("uses", "").startswith("idp-scan/idp-scan@") for step in single["jobs"]["idp-scan"]["steps"])
    assert matrix["jobs"]["shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert matrix["jobs"]["merge"]["permissions"]["security-events"] == "write"
