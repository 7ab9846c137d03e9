"""--changed-since REF on account files, proven on a real temporary git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scanner.engines.schema import SchemaEngine
from scanner.inputs import accounts
from scanner.settings import build_settings
from tests.conftest import finding_set


def _account(name: str, email: str) -> str:
    return (f"  - name: {name}\n    email: {email}\n    organizational_unit: Workloads/Dev\n    environment: dev\n"
            f"    owner: team-a\n    cost_center: CC-0001\n    regions: [eu-west-1]\n    budget_usd: 100\n")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@corp.example", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "accounts").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    (root / ".idp-scan.yaml").write_text("engines: [schema]\naccounts: {organizational_units: [Workloads/Dev]}\n")
    (root / "accounts" / "team.yaml").write_text("accounts:\n" + "".join(
        _account(n, f"aws+{n}@corp.example") for n in ("alpha", "beta", "gamma", "delta")))
    (root / "accounts" / "old.yaml").write_text("# retired team\naccounts:\n" + _account("omega", "aws+omega@corp.example"))
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def test_changed_email_renamed_and_removed_accounts_are_reported(repo, scan, monkeypatch):
    team = "accounts/team.yaml"
    (repo / "accounts" / team.split("/")[1]).write_text("accounts:\n" + "".join([
        _account("alpha", "aws+alpha-new@corp.example"),   # e-mail changed: line 3
        _account("beta-new", "aws+beta@corp.example"),     # renamed: line 10
    ]))
    (repo / "accounts" / "moved.yaml").write_text("accounts:\n" + _account("delta", "aws+delta@corp.example"))
    (repo / "accounts" / "old.yaml").unlink()
    monkeypatch.chdir(repo)
    code, report = scan(repo, "--changed-since", "main")
    assert code == 1
    assert finding_set(report) == {
        ("IDP-ACCT-018", team, 3, "alpha"),
        ("IDP-ACCT-019", team, 10, "beta-new"),
        ("IDP-ACCT-020", team, 1, "gamma"),             # at the `accounts:` list it left
        ("IDP-ACCT-020", "accounts/old.yaml", 3, "omega"),  # deleted file: its line at the ref
    }
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert "changed from `aws+alpha@corp.example` (at main) to `aws+alpha-new@corp.example`" in messages["alpha"]


def test_unchanged_repository_gives_nothing(repo, scan):
    code, report = scan(repo, "--changed-since", "main")
    assert (code, finding_set(report)) == (0, set())


def test_unknown_ref_is_a_usage_error_not_a_pass(repo, scan):
    # Discovery cannot tell what changed without the ref: the run stops before any check (exit 2).
    code, report = scan(repo, "--changed-since", "no-such-branch")
    assert (code, report) == (2, {})


def test_new_duplicate_of_an_account_in_an_unchanged_file_is_still_found(repo, scan):
    """With --changed-since, discovery hands the run only the changed files; uniqueness is
    still checked against every account file under the scanned paths, which the pipeline
    loads and hands to the engine."""
    (repo / "accounts" / "new.yaml").write_text("accounts:\n" + _account("new-one", "aws+omega@corp.example"))
    code, report = scan(repo, "--changed-since", "main")
    assert (code, finding_set(report)) == (1, {("IDP-ACCT-005", "accounts/new.yaml", 3, "new-one")})


def test_the_engine_judges_uniqueness_against_the_reference_it_is_handed(repo):
    new = repo / "accounts" / "new.yaml"
    new.write_text("accounts:\n" + _account("new-one", "aws+omega@corp.example"))
    settings = build_settings([repo], cli={"changed_since": "main"})
    engine = SchemaEngine(settings)
    assert engine.reference_kinds() == ("accounts",)
    assert SchemaEngine(build_settings([repo])).reference_kinds() == ()
    artifact, _ = accounts.load(new, "accounts/new.yaml", new.read_text())
    old = repo / "accounts" / "old.yaml"
    reference, _ = accounts.load(old, "accounts/old.yaml", old.read_text())
    assert artifact is not None and reference is not None
    findings = engine.scan_against([artifact], [reference])
    assert {(f.rule_id, f.location.uri, f.location.start_line, f.resource.name if f.resource else "") for f in findings} == {
        ("IDP-ACCT-005", "accounts/new.yaml", 3, "new-one")}
    assert list(engine.scan([artifact])) == []  # no reference handed: nothing to be a duplicate of


def test_an_unchanged_account_file_that_does_not_load_is_reported_not_skipped(repo, scan):
    """The reference is loaded like every scanned file: one that does not parse (IDP070) is a
    finding, not a file silently left out of the uniqueness check."""
    (repo / "accounts" / "old.yaml").write_text("accounts:\n  - name: [\n")
    _git(repo, "commit", "-q", "-am", "broken on main")
    (repo / "accounts" / "new.yaml").write_text("accounts:\n" + _account("new-one", "aws+new@corp.example"))
    code, report = scan(repo, "--changed-since", "main")
    assert code == 1
    assert {(f["rule_id"], f["location"]["uri"]) for f in report["findings"]} == {("IDP070", "accounts/old.yaml")}


def test_base_version_that_does_not_parse_is_noted_not_blocking(repo, scan):
    broken = repo / "accounts" / "broken.yaml"
    broken.write_text("accounts:\n  - name: [\n")
    (repo / "notes.yaml").write_text("just: [broken\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "broken files")
    broken.write_text("accounts:\n" + _account("fixed", "aws+fixed@corp.example"))
    (repo / "notes.yaml").unlink()
    code, report = scan(repo, "--changed-since", "main")
    assert code == 0
    assert [(f["rule_id"], f["location"]["uri"], f["severity"]) for f in report["findings"]] == [
        ("IDP076", "accounts/broken.yaml", "note")]


def test_engine_fails_closed_when_the_base_cannot_be_read(repo):
    """Discovery refuses an unknown ref first (exit 2); the engine still never passes silently."""
    settings = build_settings([repo], cli={"changed_since": "no-such-branch"})
    path = repo / "accounts" / "team.yaml"
    artifact, _ = accounts.load(path, "accounts/team.yaml", path.read_text())
    assert artifact is not None
    assert [(f.rule_id, f.location.uri) for f in SchemaEngine(settings).scan([artifact])] == [("IDP072", "accounts/team.yaml")]


def test_the_reference_is_loaded_with_the_configured_limits(repo, scan):
    """The unchanged file is over the configured size limit: it is not parsed (IDP012), as it
    would not be in a full scan, so its account is no duplicate of the new one."""
    (repo / ".idp-scan.yaml").write_text("engines: [schema]\naccounts: {organizational_units: [Workloads/Dev]}\n"
                                         "limits: {max_file_bytes: 1000}\n")
    (repo / "accounts" / "old.yaml").write_text("# retired team" + " " * 1200 + "\naccounts:\n" + _account("omega", "aws+omega@corp.example"))
    _git(repo, "commit", "-q", "-am", "a large account file and a size limit")
    (repo / "accounts" / "new.yaml").write_text("accounts:\n" + _account("new-one", "aws+omega@corp.example"))
    code, report = scan(repo, "--changed-since", "main")
    assert (code, finding_set(report)) == (1, {("IDP012", "accounts/old.yaml", 1, "")})


def test_the_reference_is_loaded_through_the_cache(repo, scan):
    (repo / "accounts" / "new.yaml").write_text("accounts:\n" + _account("new-one", "aws+omega@corp.example"))
    first = scan(repo, "--changed-since", "main", "--stats")
    second = scan(repo, "--changed-since", "main", "--stats")
    assert first[0] == second[0] == 1 and finding_set(first[1]) == finding_set(second[1]) == {
        ("IDP-ACCT-005", "accounts/new.yaml", 3, "new-one")}
    # new.yaml scanned; the reference: team.yaml, old.yaml and .idp-scan.yaml (claimed as an account file, loads to nothing)
    assert first[1]["timings"]["cache.load.misses"] == 4
    assert second[1]["timings"]["cache.load.hits"] == 4 and "cache.load.misses" not in second[1]["timings"]


def test_a_comment_in_an_unchanged_account_file_is_not_called_unused(repo, scan):
    """The run loads unchanged account files only to judge uniqueness against them: a waiver
    written there for a finding of that file is neither used nor unused in this run (IDP034 would
    warn about a file the change never touched), and a whole run still judges it."""
    old = repo / "accounts" / "old.yaml"
    old.write_text(old.read_text().replace("accounts:\n", 'accounts:\n  # idp-scan:ignore IDP-ACCT-011 reason="renamed in the Q1 reorg"\n'))
    _git(repo, "commit", "-q", "-am", "waiver")
    (repo / "accounts" / "new.yaml").write_text("accounts:\n" + _account("new-one", "aws+new-one@corp.example"))
    code, report = scan(repo, "--changed-since", "main")
    assert (code, finding_set(report)) == (0, set())
    code, report = scan(repo)
    assert ("IDP034", "accounts/old.yaml", 3, "") in finding_set(report)
