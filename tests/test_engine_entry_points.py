"""A third-party engine installed as its own package, found through `idp_scan.engines`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO

COMPLIANT = FIXTURES / "examples" / "compliant"


def install(package: Path, work: Path) -> Path:
    """`pip install` a fixture package (a copy: building writes beside the sources) into a target."""
    source, target = work / "src" / package.name, work / "site" / package.name
    shutil.copytree(package, source)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    return target


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("packages")
    return {
        "demo": install(FIXTURES / "engines" / "entry-point-engine", work),
        "duplicate": install(FIXTURES / "engines" / "entry-point-engine-duplicate", work),
    }


PROBE = """
import sys
from scanner.cli import main
code = main(sys.argv[1:])
print("LOADED", "idp_scan_demo_engine" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def idp_scan(*args: str, path: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*path, REPO]))}
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_an_installed_engine_runs_when_selected(sites, tmp_path):
    out = tmp_path / "r.json"
    proc = idp_scan("scan", str(COMPLIANT), "--engines", "native,demo", "--format", f"json={out}", path=[sites["demo"]])
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(out.read_text())["findings"]
    assert [(f["rule_id"], f["engine"], f["location"]["uri"]) for f in findings] == [
        ("DEMO-ANY-001", "demo", "fixtures/examples/compliant/service.yaml")
    ]
    assert "LOADED True" in proc.stderr


def test_an_installed_engine_is_listed_without_being_imported_unless_selected(sites, tmp_path):
    proc = idp_scan("scan", str(COMPLIANT), "--engines", "native", "-o", str(tmp_path / "o.txt"), path=[sites["demo"]])
    assert proc.returncode == 0 and "LOADED False" in proc.stderr
    proc = idp_scan("scan", str(COMPLIANT), "--engines", "nope", path=[sites["demo"]])
    assert proc.returncode == 2 and "demo" in proc.stderr  # named among the available engines


def test_two_packages_registering_one_engine_name_are_an_error(sites):
    proc = idp_scan("scan", str(COMPLIANT), "--engines", "native", path=[sites["demo"], sites["duplicate"]])
    assert proc.returncode == 2
    assert "engine name 'demo' is registered twice" in proc.stderr
