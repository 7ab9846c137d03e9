"""Validate SARIF the two ways the Contract names: OASIS schema, and Microsoft's validator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema

from tests.conftest import REPO

SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0.json").read_text())
MULTITOOL_IN_REPO = REPO / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


def schema_errors(log: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def multitool() -> str | None:
    configured = os.environ.get("SARIF_MULTITOOL")
    if configured:
        return configured
    if MULTITOOL_IN_REPO.is_file():
        return str(MULTITOOL_IN_REPO)
    return shutil.which("Sarif.Multitool")


def multitool_errors(sarif_file: Path, tool: str) -> list[str]:
    """Results of `Sarif.Multitool validate --rule-kind "Gh;Sarif"` at level error."""
    out = sarif_file.with_suffix(".validation.sarif")
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [tool, "validate", "--rule-kind", "Gh;Sarif", "-o", str(out), str(sarif_file)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    if not out.exists():
        raise AssertionError(f"validator produced no output: {proc.stdout}\n{proc.stderr}")
    report = json.loads(out.read_text(encoding="utf-8-sig"))
    return [
        f"{r.get('ruleId')}: {r.get('message', {}).get('text') or r.get('message')}"
        for run in report.get("runs", [])
        for r in run.get("results", [])
        if r.get("level", "warning") == "error"
    ]
