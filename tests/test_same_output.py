"""scripts/same_output.py, the proof that a restructuring kept behaviour, tells same from different."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IDP_SCAN = str(Path(sys.executable).with_name("idp-scan"))


def _same_output(argv: list[str]) -> int:
    module = runpy.run_path(str(ROOT / "scripts" / "same_output.py"))
    return int(module["main"](argv))


def _args(after: str) -> list[str]:
    return ["--before", IDP_SCAN, "--after", after, "--repo", str(ROOT), "--no-fixtures",
            "--corpus", str(ROOT / "fixtures" / "examples" / "noncompliant"), "--engines", "native"]


def test_one_install_against_itself_is_identical(capsys: pytest.CaptureFixture[str]) -> None:
    assert _same_output(_args(IDP_SCAN)) == 0
    assert "1 of 1 scans byte-identical" in capsys.readouterr().out


def test_a_changed_finding_set_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An "after" install that reports less: it leaves the ingress rules out.
    changed = tmp_path / "idp-scan"
    changed.write_text(f'#!/bin/sh\nexec "{IDP_SCAN}" "$@" --ignore IDP-NET\n')
    changed.chmod(0o755)
    assert _same_output(_args(str(changed))) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT corpus-noncompliant" in out and "allows SSH (22)" in out
    assert "0 of 1 scans byte-identical" in out
