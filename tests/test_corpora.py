"""Real templates nobody here wrote scan to completion: no crash, and no file silently dropped.

Every file discovery claims is either scanned or carries one of the scanner's own findings
(a parse error, a limit, ...): what was not scanned is said, never passed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.discovery import discover
from scanner.inputs import input_kinds
from scanner.model import Severity
from scanner.pipeline import run
from scanner.settings import build_settings
from tests.conftest import SHARED, needs_shared

def parses(path: Path) -> bool:
    from cfnlint.decode import decode_str

    decoded, matches = decode_str(path.read_text(encoding="utf-8"))
    return decoded is not None and not matches


# corpus -> files discovery must claim at least (guards against the corpus moving silently)
CORPORA = {"cfn": 180, "cfn-lint-fixtures": 220, "checkov-cfn-fixtures": 420, "tfplan": 45, "accounts": 10}


@needs_shared
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_corpus_scans_to_completion_and_reports_every_file_it_could_not_scan(corpus):
    settings = build_settings([SHARED / "corpus" / corpus], cli={"engines": ["native"]})
    units, _ = discover(list(settings.paths), settings.root, input_kinds())
    result = run(settings)

    assert len(units) >= CORPORA[corpus]
    crashes = [f for f in result.findings if f.rule_id in ("IDP002", "IDP005")]
    assert crashes == []
    loader_bugs = [f for f in result.findings if "could not be loaded" in f.message]
    assert loader_bugs == []
    reported = {f.location.uri for f in result.findings if f.engine == "idp-scan"}
    silent = [u for u in units if u.uri not in result.scanned and u.uri not in reported]
    # Claimed by name only (`not_cloudformation.yaml`) and valid YAML that is not a template: fine.
    assert [u.uri for u in silent if not parses(u.path)] == []
    unparsed_errors = {
        f.location.uri for f in result.findings
        if f.engine == "idp-scan" and f.severity is Severity.ERROR and f.location.uri not in result.scanned
    }
    assert unparsed_errors <= {u.uri for u in units}
