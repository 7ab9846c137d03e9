from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


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


@pytest.fixture
def scan(tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str | Path) -> tuple[int, dict[str, Any]]:
        return scan_json(*args, tmp_path=tmp_path)

    return run
