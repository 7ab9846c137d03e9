"""Changed-only scans (a real git repository) and shards that merge back into a single run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import FIXTURES

SERVICE = FIXTURES / "examples" / "noncompliant" / "service.yaml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in ("infra/a.yaml", "infra/b.yaml", "tf/main.tf", "tf/vars.tf", "other/c.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SERVICE, root / name) if name.endswith(".yaml") else (root / name).write_text("# terraform\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def scanned(repo: Path, tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / "r.json"
    code = main(["scan", str(repo), "--engines", "native", "--format", f"json={out}", *args])
    assert code in (0, 1)
    return json.loads(out.read_text())["scanned"]


def test_changed_since_scans_changed_committed_uncommitted_and_untracked(repo, tmp_path):
    assert scanned(repo, tmp_path, "--changed-since", "main") == []
    (repo / "infra/a.yaml").write_text((repo / "infra/a.yaml").read_text() + "\n")  # uncommitted change
    shutil.copy(SERVICE, repo / "infra/new.yaml")  # untracked
    (repo / "other/c.yaml").unlink()  # deleted: nothing to scan
    assert scanned(repo, tmp_path, "--changed-since", "main") == ["infra/a.yaml", "infra/new.yaml"]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    assert scanned(repo, tmp_path, "--changed-since", "main") == ["infra/a.yaml", "infra/new.yaml"]
    assert scanned(repo, tmp_path, "--changed-since", "HEAD") == []


def test_changed_since_uses_the_merge_base(repo, tmp_path):
    """Commits on main after the branch point are not this branch's changes."""
    git(repo, "checkout", "-q", "main")
    (repo / "infra/b.yaml").write_text((repo / "infra/b.yaml").read_text() + "\n")
    git(repo, "commit", "-q", "-am", "main moves on")
    git(repo, "checkout", "-q", "feature")
    (repo / "infra/a.yaml").write_text((repo / "infra/a.yaml").read_text() + "\n")
    assert scanned(repo, tmp_path, "--changed-since", "main") == ["infra/a.yaml"]


def test_a_directory_unit_is_scanned_whole_when_any_file_changed(repo, tmp_path, monkeypatch):
    """A Terraform module or a cdk.out is one unit: stands in for the inputs other issues add."""
    from scanner.inputs import Unit
    from scanner.scope import changed_files, select_changed

    (repo / "tf/vars.tf").write_text("# changed\n")
    units = [Unit("terraform", repo / "tf", "tf"), Unit("cloudformation", repo / "infra/a.yaml", "infra/a.yaml"),
             Unit("terraform-file", repo / "tf/main.tf", "tf/main.tf")]
    changed = changed_files(repo, "main")
    assert [u.uri for u in select_changed(units, repo, changed)] == ["tf", "tf/main.tf"]
    (repo / "cdk.out").mkdir()
    (repo / "cdk.out/manifest.json").write_text("{}")
    (repo / ".gitignore").write_text("cdk.out/\n")
    generated = [Unit("cdk", repo / "cdk.out", "cdk.out")]
    assert [u.uri for u in select_changed(generated, repo, changed_files(repo, "main"))] == ["cdk.out"]


def test_changed_since_with_a_bad_ref_is_a_usage_error(repo, capsys):
    assert main(["scan", str(repo), "--changed-since", "no-such-ref"]) == 2
    assert "--changed-since" in capsys.readouterr().err


@pytest.mark.parametrize("shard", ["0/2", "3/2", "x", "1/0"])
def test_bad_shard_is_a_usage_error(repo, shard):
    assert main(["scan", str(repo), "--shard", shard]) == 2


def test_shards_cover_every_unit_once(repo, tmp_path):
    slices = [scanned(repo, tmp_path, "--shard", f"{k}/3") for k in (1, 2, 3)]
    flat = [uri for part in slices for uri in part]
    assert sorted(flat) == scanned(repo, tmp_path) and len(flat) == len(set(flat)) == 4  # 3 templates, 1 module


def test_shards_merged_equal_a_single_run(repo, tmp_path):
    (repo / ".idp-scan.yaml").write_text("waivers: waivers.yaml\nbaseline: baseline.json\n")
    (repo / "waivers.yaml").write_text(
        "waivers:\n"
        "  - {rule: IDP-NET-001, files: [infra/b.yaml], reason: Bastion behind the VPN (SEC-1), owner: team-net}\n"
        "  - {rule: IDP-NET-001, files: [nowhere/*], reason: Matches nothing at all, owner: team-net}\n"
    )
    assert main(["baseline", "write", str(repo / "baseline.json"), str(repo / "other"), "--engines", "native"]) == 0
    (repo / "other/c.yaml").write_text((repo / "other/c.yaml").read_text().replace("PublicRead", "Private"))
    single = tmp_path / "single.sarif"
    single_code = main(["scan", str(repo), "--engines", "native", "--format", f"sarif={single}", "--format", f"json={tmp_path / 's.json'}"])
    shards = []
    for k in (1, 2):
        out = tmp_path / f"shard{k}.sarif"
        main(["scan", str(repo), "--engines", "native", "--shard", f"{k}/2", "--format", f"sarif={out}"])
        shards.append(str(out))
    merged = tmp_path / "all.sarif"
    # The merged run reads the same configuration: run it from the repository.
    merge_code = main(["merge", *shards, "--config", str(repo / ".idp-scan.yaml"), "--output", str(merged)])
    assert merge_code == single_code == 1
    assert json.loads(merged.read_text()) == json.loads(single.read_text())
    single_rules = {f["rule_id"] for f in json.loads((tmp_path / "s.json").read_text())["findings"]}
    assert {"IDP034", "IDP036"} <= single_rules, "the comparison covers unused waivers and stale baseline entries"


def test_merge_of_something_else_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "x.sarif").write_text("{}")
    assert main(["merge", str(tmp_path / "x.sarif")]) == 2
    assert "not an idp-scan SARIF log" in capsys.readouterr().err
