"""The fast template decoder gives exactly what cfn-lint's decoder gives, or leaves the template to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.inputs import cfn, cfn_fast, guard
from tests.conftest import FIXTURES, SHARED, needs_shared


def cfn_lint_decoding(text: str):  # type: ignore[no-untyped-def]
    from cfnlint.decode import decode_str

    decoded, matches = decode_str(text)
    return None if decoded is None or matches else cfn.plain_with_lines(decoded)


def templates(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in cfn.SUFFIXES and p.is_file())


def assert_same(paths: list[Path]) -> int:
    """Every template the fast path decodes is decoded identically; returns how many it took."""
    taken = 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if guard.yaml_shape(text, path.name, guard.Limits()) is not None:
            continue  # as in the loader: over-limit files (fixtures/hostile) never reach a decoder
        fast = cfn_fast.decode(text)
        if fast is None:
            continue
        taken += 1
        expected = cfn_lint_decoding(text)
        assert expected is not None, f"{path}: cfn-lint rejects what the fast path accepted"
        assert fast[0] == expected[0], f"{path}: data differs"
        assert fast[1] == expected[1], f"{path}: lines differ"
    return taken


def test_the_fixtures_decode_identically():
    assert assert_same(templates(FIXTURES)) > 10


@needs_shared
@pytest.mark.parametrize("corpus", ["cfn", "cfn-lint-fixtures", "checkov-cfn-fixtures"])
def test_the_shared_corpora_decode_identically(corpus):
    paths = templates(SHARED / "corpus" / corpus)
    taken = assert_same(paths)
    assert taken > len(paths) / 2


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                      # duplicate key: cfn-lint's error message and line
    "base: &b {x: 1}\nother:\n  <<: *b\n",  # merge key
    "a: [1, 2\n",                        # syntax error
    "a: !Sub {x: 1}\n",                  # short form over a mapping
    "? [1, 2]\n: x\n",                   # non-string key
    "",                                  # empty
])
def test_what_it_does_not_reproduce_is_left_to_cfn_lint(text):
    assert cfn_fast.decode(text) is None


def test_short_forms_become_the_long_forms():
    data, lines = cfn_fast.decode("A: !Ref B\nC: !GetAtt D.Arn\nE: !Join ['', [!Ref F, x]]\nG: !Condition H\n")  # type: ignore[misc]
    assert data == {"A": {"Ref": "B"}, "C": {"Fn::GetAtt": ["D", "Arn"]}, "E": {"Fn::Join": ["", [{"Ref": "F"}, "x"]]},
                    "G": {"Condition": "H"}}
    assert lines[("C",)] == (2, 2) and lines[("E", "Fn::Join", 1, 0)] == (3, 3)


def test_a_one_file_run_does_not_import_cfn_lint(tmp_path):
    import subprocess
    import sys

    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text((FIXTURES / "examples" / "noncompliant" / "service.yaml").read_text())
    code = ("import sys; from scanner.cli import main; rc = main(['scan', sys.argv[1], '--engines', 'native', '--no-cache', '-q']);"
            "assert 'cfnlint' not in sys.modules, 'cfn-lint was imported'; print(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "t.yaml")], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "1", proc.stderr
