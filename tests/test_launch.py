"""The console script runs every scan with one hash seed: the same files give the same
findings whatever seed the caller's environment has (checkov's Terraform rendering follows
set order, bridgecrewio/checkov#7680)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "idp-scan"

# A rule whose message shows the worker's string hashing: it differs between two processes
# unless both run with the same seed.
HASH_RULE = '''\
from scanner.model import Severity
from scanner.rule import Rule, Violation


class HashOrder(Rule):
    """Shows the string hash of the process that judged the bucket."""

    id = "ACME-HASH-001"
    severity = Severity.NOTE
    resource_types = ("AWS::S3::Bucket",)

    def check(self, resource, ctx):
        yield Violation((), f"hash {hash('idp-scan')}")
'''


@pytest.mark.skipif(not SCRIPT.is_file(), reason="the console script is not installed beside this interpreter")
def test_two_runs_with_different_seeds_in_the_environment_give_the_same_report(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "hash_rule.py").write_text(HASH_RULE)
    (tmp_path / ".idp-scan.yaml").write_text("engines: [native]\nrules: [policy]\nselect: [ACME-HASH]\n")
    (tmp_path / "bucket.yaml").write_text("Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n")
    messages = []
    for seed in ("1", "2", "random"):
        out = tmp_path / f"report-{seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": seed, "IDP_SCAN_CACHE_DIR": str(tmp_path / f"cache-{seed}")}
        done = subprocess.run([str(SCRIPT), "scan", str(tmp_path), "--format", f"json={out}"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        messages.append([f["message"] for f in json.loads(out.read_text())["findings"] if f["rule_id"] == "ACME-HASH-001"])
    assert len(messages[0]) == 1
    assert messages[0] == messages[1] == messages[2]


def test_starting_again_keeps_the_interpreters_options(tmp_path: Path) -> None:
    """`python -P -m scanner` (the Action's command) must not import a checkout's own `scanner/`
    when it starts itself again."""
    (tmp_path / "scanner").mkdir()
    (tmp_path / "scanner" / "__init__.py").write_text("")
    (tmp_path / "scanner" / "__main__.py").write_text("print('the checkout ran its own code')\n")
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    done = subprocess.run([sys.executable, "-P", "-m", "scanner", "--version"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.split(",")[0]) == (0, "idp-scan")
