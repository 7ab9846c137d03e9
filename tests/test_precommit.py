"""The pre-commit hook, run by the real `pre-commit try-repo`, and the cost of a one-file run."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, REPO

PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")


def test_hook_definition():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["idp-scan"]
    hook = hooks[0]
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    assert hook["entry"].startswith("idp-scan scan")


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """Tests make no network calls: the hook's environment installs only idp-scan itself (no
    index, no dependencies) and finds the dependencies on PYTHONPATH, from this interpreter."""
    site_dirs = [p for p in sys.path if p.endswith("site-packages")] or site.getsitepackages()
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's inverted spelling: do not isolate the build
        "PYTHONPATH": os.pathsep.join(site_dirs),
    }


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args], check=True, capture_output=True)


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit not installed (pip install -e '.[test]' installs it)")
@pytest.mark.skipif(not (REPO / ".git").exists(), reason="pre-commit try-repo clones the repository: needs a git checkout")
def test_pre_commit_try_repo_blocks_a_noncompliant_commit_and_passes_a_compliant_one(tmp_path):
    repo = tmp_path / "user-repo"
    repo.mkdir()
    shutil.copy(FIXTURES / "examples" / "noncompliant" / "service.yaml", repo / "bad.yaml")
    shutil.copy(FIXTURES / "examples" / "compliant" / "service.yaml", repo / "good.yaml")
    (repo / "README.md").write_text("# not infrastructure\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    env = _offline_env(tmp_path)

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        assert PRE_COMMIT is not None
        return subprocess.run([PRE_COMMIT, "try-repo", str(REPO), "idp-scan", "--files", *files],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=600)

    blocked = try_repo("bad.yaml", "README.md")
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "IDP-NET-001  BastionSecurityGroup allows SSH" in blocked.stdout
    assert "BLOCKED: 5 errors, 0 warnings, 0 notes (1 file scanned)" in blocked.stdout
    passed = try_repo("good.yaml", "README.md")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_a_one_file_run_imports_no_engine_the_file_does_not_need(tmp_path):
    """What pre-commit runs on a commit that touches no infrastructure: no engine library is imported."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "values.yaml").write_text("replicaCount: 2\n")
    probe = (
        "import sys\n"
        "from scanner.cli import main\n"
        f"code = main(['scan', '--quiet', {str(tmp_path / 'values.yaml')!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'checkov', 'cfnlint', 'hcl2'})\n"
        "print(code, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.strip().splitlines()[-1] == "0 []"
