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
    assert set(ACTION["inputs"]) >= {"paths", "config", "fail-on", "budget", "baseline", "sarif-file", "upload-sarif", "category", "policy-ref",
                                     "comment", "github-token"}
    assert ACTION["inputs"]["policy-ref"]["default"] == "" and ACTION["inputs"]["comment"]["default"] == "false"
    assert ACTION["inputs"]["fail-on"]["default"] == "", "the policy's fail_on applies unless the workflow overrides it"
    assert set(ACTION["outputs"]) >= {"sarif-file", "exit-code", "findings", "blocking", "errors", "warnings", "notes"}
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    names = [s.get("uses", "").split("@")[0] or s.get("name") for s in steps]
    assert names.index("github/codeql-action/upload-sarif") < names.index("Gate") == len(steps) - 1
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["category"] == "${{ inputs.category }}"
    install = next(s for s in steps if s.get("name", "").startswith("Install idp-scan"))
    assert '"$GITHUB_ACTION_PATH"' in install["run"], "installs idp-scan from the action's own checkout"
    assert upload["continue-on-error"] is True, "the upload never decides the job"
    said = next(s for s in steps if s.get("name") == "Say that the SARIF upload failed")
    assert said["if"] == "steps.upload.outcome == 'failure'" and names.index(said["name"]) > names.index("github/codeql-action/upload-sarif")
    policy = next(s for s in steps if s.get("id") == "policy")
    assert "if" not in policy, "the policy step always runs: on a pull request it reads the base branch by default"
    comment = next(s for s in steps if s.get("name") == "Comment on the pull request")
    assert comment["continue-on-error"] is True and comment["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert comment["env"]["INPUT_REVIEW_COMMENTS"] == "${{ inputs.review-comments }}" and ACTION["inputs"]["review-comments"]["default"] == "0"
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
        # The runner's own variables (when the suite itself runs in GitHub Actions) must not leak in.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
        env = {**inherited, "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary),
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
    report = str(runner.temp / "idp-scan.json")
    assert outputs == {"exit-code": "1", "sarif-file": "out.sarif", "json-report": report, "findings": "5", "blocking": "5", "errors": "5", "warnings": "0", "notes": "0"}
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


def test_on_a_pull_request_the_policy_comes_from_the_base_branch_by_default(pull_request, tmp_path):
    runner = Runner(tmp_path, pull_request)
    base = git(pull_request, "rev-parse", "main")
    event = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}
    assert runner.run("policy", **event).returncode == 0
    outputs = runner.outputs()
    assert outputs["commit"] == base and outputs["source"] == f"`main` at {base[:12]}"
    assert "fail_on" not in Path(outputs["config"]).read_text()
    runner.run("scan", INPUT_PATHS=".", INPUT_CONFIG=outputs["config"], INPUT_POLICY_SOURCE=outputs["source"])
    assert runner.outputs()["exit-code"] == "1", "the pull request's fail_on: never does not apply"
    assert f"read from `main` at {base[:12]}." in runner.summary.read_text()


@pytest.mark.parametrize("inputs, reason", [
    ({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main", "INPUT_POLICY_REF": "none"}, "policy-ref: none"),
    ({"GITHUB_EVENT_NAME": "push"}, "push event"),
])
def test_the_checkout_policy_only_when_asked_or_not_a_pull_request(pull_request, tmp_path, inputs, reason):
    runner = Runner(tmp_path, pull_request)
    assert runner.run("policy", **inputs).returncode == 0
    head = git(pull_request, "rev-parse", "HEAD")
    assert runner.outputs() == {"commit": head, "source": f"the checkout ({reason}) at {head[:12]}"}


def test_a_failed_upload_is_said_and_the_scan_decides(pull_request, tmp_path):
    runner = Runner(tmp_path, pull_request)
    done = runner.run("upload-failed")
    assert done.returncode == 0 and done.stdout.startswith("::warning title=idp-scan::SARIF upload failed")
    assert "code scanning is not enabled for this repository" in runner.summary.read_text()
    assert runner.run("gate", EXIT_CODE="0").returncode == 0
    assert runner.run("gate", EXIT_CODE="1").returncode == 1


def test_prepare_keys_pips_cache_on_the_actions_own_pyproject(pull_request, tmp_path):
    import hashlib

    runner = Runner(tmp_path, pull_request)
    assert runner.run("prepare", GITHUB_ACTION_PATH=str(REPO)).returncode == 0
    outputs = runner.outputs()
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    assert outputs["pip-key"].startswith(f"idp-scan-pip-{sys.platform}-py3.") and outputs["pip-key"].endswith(digest)
    assert Path(outputs["pip-dir"]).is_absolute()


def test_policy_paths_include_guard_rules(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("action_steps", STEPS)
    assert spec and spec.loader
    steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(steps)
    config = tmp_path / ".idp-scan.yaml"
    config.write_text("rules: [policy/rules]\nguard: {rules: [policy/guard, control-tower]}\nwaivers: w.yaml\nbaseline: b.json\n")
    assert steps.policy_paths(config) == ["policy/rules", "policy/guard", "control-tower", "w.yaml", "b.json"]


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
    assert outputs == {"exit-code": "2", "sarif-file": "", "json-report": ""}
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
