"""The bundled rules ship inside the wheel (CI also installs it into a fresh venv: scripts/test.sh)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True, capture_output=True,
    )
    return next(out.glob("idp_scan-*.whl"))


def test_wheel_contains_rules_schemas_and_entry_point(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"idp_scan_rules/__init__.py", "idp_scan_rules/net_admin_ports.py", "idp_scan_rules/ecs_circuit_breaker.yaml"} <= names
    assert {"scanner/schemas/config.schema.json", "scanner/schemas/rule.schema.json", "scanner/py.typed"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "idp-scan = scanner.launch:entrypoint" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_contains_every_scanner_package(wheel):
    """pyproject.toml lists the packages: a new one left off the list is missing from the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {path.relative_to(REPO).as_posix() for path in (REPO / "scanner").rglob("__init__.py")}
    assert packages - names == set()


def test_installed_wheel_lists_rules_from_another_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, capture_output=True)
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import scanner, idp_scan_rules; from scanner.cli import main; print(scanner.__file__); sys.exit(main(['rules', 'list']))"
    proc = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, *listing = proc.stdout.splitlines()
    assert first.startswith(str(target))
    assert any(line.startswith("IDP-ECS-001") for line in listing)
