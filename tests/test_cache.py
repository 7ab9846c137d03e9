"""The content cache: warm runs reuse results, and nothing stale can hide a finding.

Each staleness test runs twice to fill the cache, changes one input to the result (a rule,
a configuration value, an engine version, the file), and expects the new finding at once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner import engines as engine_registry
from scanner.cache.store import FORMAT
from scanner.inputs import cfn
from scanner.model import ScanResult
from scanner.pipeline import run
from scanner.settings import build_settings
from tests import fake_engines

BUCKET = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  LogsBucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: owner, Value: team-a}]
      VersioningConfiguration: {Status: Suspended}
"""

VERSIONING_RULE = """\
id: ACME-S3-001
title: Buckets must keep object versions
severity: warning
help: Versions protect against deletes.
resource_types: [AWS::S3::Bucket]
message: "{resource} does not version its objects."
condition:
  path: VersioningConfiguration/Status
  in: [Enabled, Suspended]
"""

TAG_RULE = '''\
from scanner.model import Severity
from scanner.rule import Rule, Violation


class RequiredTags(Rule):
    """Resources carry the required tags.

    Configured by tags.required.
    """

    id = "ACME-TAG-001"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)

    def check(self, resource, ctx):
        required = ctx.options.get("tags", {}).get("required", [])
        present = {t.get("Key") for t in resource.properties.get("Tags", [])}
        for key in required:
            if key not in present:
                yield Violation(("Tags",), f"{resource.id.name} has no {key} tag.")
'''


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfn.prepare()
    monkeypatch.setenv("IDP_SCAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(engine_registry.BUILTIN_ENGINES, "sleepy", "tests.fake_engines:create")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "policy").mkdir()
    (root / "policy" / "versioning.yaml").write_text(VERSIONING_RULE)
    (root / "policy" / "tags.py").write_text(TAG_RULE)
    (root / "bucket.yaml").write_text(BUCKET)
    configure(root, "owner")
    return root


def configure(root: Path, *required_tags: str) -> None:
    tags = ", ".join(required_tags)
    (root / ".idp-scan.yaml").write_text(f"engines: [native, sleepy]\nrules: [policy]\ntags: {{required: [{tags}]}}\n")


def scan(root: Path) -> ScanResult:
    return run(build_settings([root], cli={"jobs": 2}))


def ids(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.rule_id, f.message) for f in result.findings}


def warm(root: Path) -> ScanResult:
    """Fill the cache, and prove that the second run took everything from it."""
    first = scan(root)
    second = scan(root)
    assert ids(first) == ids(second)
    assert second.timings["cache.load.hits"] == 1 and "load" not in second.timings
    assert second.timings["cache.engine.native.hits"] == 1 and "engine.native" not in second.timings
    return second


def test_a_warm_run_gives_the_cold_results(repo):
    assert ids(warm(repo)) == {("T-SLOW-001", "seen by version 1")}


def test_a_changed_rule_is_not_hidden(repo):
    warm(repo)
    rule = repo / "policy" / "versioning.yaml"
    rule.write_text(rule.read_text().replace("in: [Enabled, Suspended]", "equals: Enabled"))
    assert ("ACME-S3-001", "LogsBucket does not version its objects.") in ids(scan(repo))


def test_a_changed_configuration_value_is_not_hidden(repo):
    warm(repo)
    configure(repo, "owner", "cost-center")
    assert ("ACME-TAG-001", "LogsBucket has no cost-center tag.") in ids(scan(repo))


def test_a_new_engine_version_is_not_served_old_results(repo, monkeypatch):
    warm(repo)
    monkeypatch.setattr(fake_engines, "VERSION", "2")
    assert ids(scan(repo)) == {("T-SLOW-001", "seen by version 2")}


def test_a_changed_file_is_not_hidden(repo):
    warm(repo)
    template = repo / "bucket.yaml"
    template.write_text(template.read_text() + "  OpenBucket:\n    Type: AWS::S3::Bucket\n    Properties: {AccessControl: PublicRead}\n")
    result = scan(repo)
    assert ("IDP-DATA-001", "OpenBucket has the public ACL PublicRead.") in ids(result)
    assert result.timings["cache.load.misses"] == 1


CRASHING_RULE = '''\
from scanner.model import Severity
from scanner.rule import Rule


class Crashes(Rule):
    """Raises on one bucket, as a rule with a bug does."""

    id = "ACME-BUG-001"
    severity = Severity.WARNING
    resource_types = ("AWS::S3::Bucket",)

    def check(self, resource, ctx):
        if resource.id.name == "Crashy":
            raise KeyError("Tags")
        return ()
'''


def test_a_failure_that_recurs_is_served_from_the_cache_and_still_blocks(repo):
    """A rule that raises on one file's resource raises again on the same bytes: its IDP005, and
    the results of the other file in the same unit of work, come from the cache."""
    (repo / "policy" / "crashes.py").write_text(CRASHING_RULE)
    (repo / "crashy.yaml").write_text(BUCKET.replace("LogsBucket", "Crashy"))
    first, second = scan(repo), scan(repo)
    assert ids(first) == ids(second)
    assert ("IDP005", "Rule ACME-BUG-001 failed on Crashy: KeyError: 'Tags'") in ids(second)
    assert second.timings["cache.engine.native.hits"] == 2 and "engine.native" not in second.timings


def test_a_timed_out_file_is_not_cached_but_its_neighbours_are(repo):
    (repo / "hang.yaml").write_text(BUCKET)
    settings = build_settings([repo], cli={"jobs": 1, "unit_timeout": 1.5})
    run(settings)
    second = run(build_settings([repo], cli={"jobs": 1, "unit_timeout": 1.5}))
    assert {(f.rule_id, f.location.uri) for f in second.findings if f.rule_id.startswith("IDP04")} == {("IDP041", "hang.yaml")}
    assert second.timings["cache.engine.sleepy.hits"] == 1 and second.timings["cache.engine.sleepy.misses"] == 1


def test_damaged_and_foreign_entries_are_ignored(repo, tmp_path):
    cold = ids(warm(repo))
    entries = sorted((tmp_path / "cache").rglob("*.json"))
    entries = [e for e in entries if '"RuleMeta"' not in e.read_text()]  # the rule lists aside
    assert len(entries) == 3  # load, native, sleepy (not the rule lists)
    entries[0].write_text("{not json")
    foreign = json.loads(entries[1].read_text())
    entries[1].write_text(json.dumps({**foreign, "key": "0" * 64}))
    payload = json.loads(entries[2].read_text())
    entries[2].write_text(json.dumps({**payload, "format": "other-tool/1"}))
    result = scan(repo)
    assert ids(result) == cold
    assert not any(k.endswith(".hits") for k in result.timings if not k.startswith("cache.rules"))


def test_entries_are_json_and_repeat_their_key(repo, tmp_path):
    warm(repo)
    for entry in (tmp_path / "cache").rglob("*.json"):
        document = json.loads(entry.read_text())
        assert document["format"] == FORMAT and entry.stem == document["key"]
    assert (tmp_path / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_no_cache_reads_and_writes_nothing(repo, tmp_path):
    (repo / ".idp-scan.yaml").write_text((repo / ".idp-scan.yaml").read_text() + "cache: false\n")
    scan(repo)
    assert not (tmp_path / "cache").exists()


def test_the_cache_directory_is_not_scanned(tmp_path, monkeypatch):
    monkeypatch.delenv("IDP_SCAN_CACHE_DIR", raising=False)
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "bucket.yaml").write_text(BUCKET)
    settings = build_settings([root], cli={"engines": ["native"], "jobs": 1})
    first = run(settings)
    assert (root / ".idp-scan-cache" / "CACHEDIR.TAG").is_file()
    (root / "custom").mkdir()
    (root / ".idp-scan.yaml").write_text("cache_dir: custom/cache\n")
    second = run(build_settings([root], cli={"engines": ["native"], "jobs": 1}))
    third = run(build_settings([root], cli={"engines": ["native"], "jobs": 1}))
    assert (root / "custom" / "cache" / "CACHEDIR.TAG").is_file()
    assert first.scanned == second.scanned == third.scanned == ("bucket.yaml",)


def test_git_add_all_after_a_run_commits_no_cache_file(tmp_path, monkeypatch):
    monkeypatch.delenv("IDP_SCAN_CACHE_DIR", raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "bucket.yaml").write_text(BUCKET)
    run(build_settings([root], cli={"engines": ["native"], "jobs": 1}))
    assert len(list((root / ".idp-scan-cache").rglob("*.json"))) >= 1
    assert (root / ".idp-scan-cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    staged = subprocess.run(["git", "-C", str(root), "diff", "--cached", "--name-only"], check=True, capture_output=True, text=True)
    assert staged.stdout.split() == ["bucket.yaml"]


def test_stats_on_stderr_name_stages_engines_and_cache_hits(repo, tmp_path, capsys):
    from scanner.cli import main

    assert main(["scan", str(repo), "--stats", "--jobs", "1"]) == 0
    main(["scan", str(repo), "--stats", "--jobs", "1"])
    err = capsys.readouterr().err.splitlines()
    warm = err[err.index(next(line for line in err[1:] if line.startswith("stats:"))):]
    assert warm[0].startswith("stats:") and "budget 180 s, 1 worker process(es)" in warm[0]
    assert [line.split()[:2] for line in warm if "(cached)" in line] == [["engine", "native"], ["engine", "sleepy"], ["load", "(cached)"], ["rules", "(cached)"]]
    assert all(line.split()[-2:] in (["1", "0"], ["2", "0"]) for line in warm if "(cached)" in line)


def test_no_cache_flag(repo, tmp_path):
    from scanner.cli import main

    assert main(["scan", str(repo), "--no-cache", "--format", f"json={tmp_path / 'r.json'}"]) == 0
    assert not (tmp_path / "cache").exists()


def test_a_changed_local_module_outside_the_scanned_directory_is_not_hidden(tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_SCAN_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    module, env = root / "modules" / "bucket", root / "envs" / "prod"
    module.mkdir(parents=True)
    env.mkdir(parents=True)
    (module / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n  acl    = var.acl\n}\n')
    (module / "variables.tf").write_text('variable "acl" {\n  default = "private"\n}\n')
    (env / "main.tf").write_text('module "logs" {\n  source = "../../modules/bucket"\n}\n')

    def findings() -> set[tuple[str, str]]:
        result = run(build_settings([env], cli={"engines": ["native"], "jobs": 1, "select": ["IDP-DATA"]}))
        return {(f.rule_id, f.location.uri) for f in result.findings}

    assert findings() == findings() == set()
    (module / "variables.tf").write_text('variable "acl" {\n  default = "public-read"\n}\n')
    assert findings() == {("IDP-DATA-001", "modules/bucket/main.tf")}


def test_stats_in_the_json_report_only_on_request(repo, tmp_path):
    from scanner.cli import main

    out = tmp_path / "r.json"
    main(["scan", str(repo), "--format", f"json={out}"])
    assert "timings" not in json.loads(out.read_text())
    main(["scan", str(repo), "--format", f"json={out}", "--stats"])
    timings = json.loads(out.read_text())["timings"]
    assert timings["cache.load.hits"] == 1 and timings["budget"] == 180 and timings["total"] > 0


def test_artifacts_survive_the_cache_exactly(tmp_path):
    """Every artifact of every fixture, cdk.out stacks with their source frames included."""
    from scanner.cache.codec import artifact_json, decode, encode_artifact
    from scanner.inputs.loading import load_units
    from scanner.discovery import discover
    from scanner.inputs import input_kinds
    from tests.conftest import FIXTURES

    units, _ = discover([FIXTURES], FIXTURES.parent, input_kinds())
    artifacts = load_units(units).artifacts
    for artifact in artifacts:
        text = artifact_json(artifact)
        assert decode(json.loads(text)) == artifact
        assert json.loads(text) == encode_artifact(artifact)
    assert len(artifacts) > 20 and sum("cdk" in a.context for a in artifacts) >= 3


def test_terraform_modules_that_share_files_are_cached_each_on_its_own(repo):
    """Examples calling their module through `source = "../../"` all read its files; each module
    directory is its own unit of work (never a chunk of several, whose findings could not be
    told apart by file), so every result is stored and reused."""
    (repo / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    examples = ("a", "b", "c", "d", "e")
    for example in examples:
        (repo / "examples" / example).mkdir(parents=True)
        (repo / "examples" / example / "main.tf").write_text('module "queue" {\n  source = "../../"\n}\n')
    first, second = (run(build_settings([repo], cli={"jobs": 1})) for _ in range(2))
    assert ids(first) == ids(second)
    assert second.timings["cache.engine.sleepy.hits"] == 1 + len(examples) and "engine.sleepy" not in second.timings


def test_a_cdk_app_is_served_from_the_cache_with_its_source_lines():
    from tests.conftest import FIXTURES

    def cdk_scan() -> ScanResult:
        return run(build_settings([FIXTURES / "cdk" / "app"], cli={"engines": ["native"], "jobs": 2}))

    cold, warm = cdk_scan(), cdk_scan()
    assert warm.timings["cache.load.hits"] >= 1 and "load" not in warm.timings and "engine.native" not in warm.timings
    assert [(f.rule_id, f.location, f.related) for f in warm.findings] == [(f.rule_id, f.location, f.related) for f in cold.findings]
    assert any(f.location.uri.endswith(".ts") for f in warm.findings)  # the construct's line, not the template's


def test_a_comment_added_to_a_plans_tf_file_is_not_hidden_by_the_cached_plan(tmp_path, monkeypatch):
    """A plan's findings stand on the `.tf` lines it was planned from; the comments there are
    read with the plan's load, so a cached load must notice that the `.tf` file changed."""
    from tests.conftest import FIXTURES

    monkeypatch.setenv("IDP_SCAN_CACHE_DIR", str(tmp_path / "cache"))
    infra = tmp_path / "repo" / "infra"
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    shutil.copytree(FIXTURES / "terraform" / "tree", infra)
    shutil.copy(FIXTURES / "terraform" / "plans" / "tree.tfplan.json", infra / "plan.json")

    def statuses() -> set[tuple[str, str, int, str]]:
        result = run(build_settings([infra / "plan.json"], cli={"engines": ["native"], "jobs": 1, "select": ["IDP-DATA-002"]}))
        return {(f.rule_id, f.location.uri, f.location.start_line, f.status.value) for f in result.findings}

    assert statuses() == statuses() == {("IDP-DATA-002", "infra/main.tf", 55, "open")}
    main = infra / "main.tf"
    main.write_text(main.read_text().replace("storage_encrypted = var.encrypt_db",
                                             'storage_encrypted = var.encrypt_db # idp-scan:ignore IDP-DATA-002 reason="scratch database"'))
    assert statuses() == {("IDP-DATA-002", "infra/main.tf", 55, "suppressed")}


def test_a_comment_removed_from_a_cached_template_reopens_its_finding(repo):
    """Comments are part of the cached load: removing one is a change of the file, never served stale."""
    commented = BUCKET.replace("  LogsBucket:\n", '  # idp-scan:ignore ACME-TAG-001 reason="shared bucket"\n  LogsBucket:\n')
    (repo / "bucket.yaml").write_text(commented)
    configure(repo, "owner", "cost-centre")

    def statuses() -> set[tuple[str, str]]:
        return {(f.rule_id, f.status.value) for f in scan(repo).findings if f.rule_id == "ACME-TAG-001"}

    assert statuses() == statuses() == {("ACME-TAG-001", "suppressed")}
    (repo / "bucket.yaml").write_text(BUCKET)
    assert statuses() == {("ACME-TAG-001", "open")}
