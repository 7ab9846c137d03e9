from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
# The shared corpus sits beside the clone on developer machines and in CI, never on a user's:
# tests that read it skip with a visible reason when it is absent.
SHARED = Path(os.environ.get("IDP_SCAN_SHARED", REPO.parent / "shared"))
needs_shared = pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason=f"shared corpus not found at {SHARED} (set IDP_SCAN_SHARED)")


def scan_json(*args: str | Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """Run `idp-scan scan ARGS --format json` and return (exit code, report)."""
    out = tmp_path / "report.json"
    code = main(["scan", *map(str, args), "--format", f"json={out}"])
    report = json.loads(out.read_text()) if out.exists() else {}
    return code, report


def finding_set(report: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    """(rule, file, line, resource) of every open finding."""
    return {
        (f["rule_id"], f["location"]["uri"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""))
        for f in report["findings"]
        if f["status"] == "open"
    }


def own_config(fixture: Path) -> list[str]:
    """`--config` for a fixture directory's own `.idp-scan.yaml` (below the root, it applies
    only when named)."""
    directory = fixture if fixture.is_dir() and not any(fixture.glob("*.tf")) else fixture.parent
    config = directory / ".idp-scan.yaml"
    return ["--config", str(config)] if config.is_file() else []


@pytest.fixture
def scan(tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str | Path) -> tuple[int, dict[str, Any]]:
        return scan_json(*args, tmp_path=tmp_path)

    return run


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts cold with a cache of its own: no result leaks between tests or runs."""
    monkeypatch.setenv("IDP_SCAN_CACHE_DIR", str(tmp_path / "idp-scan-cache"))
