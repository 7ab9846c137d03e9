"""The core's rooms: engines declare their capabilities, the cache owns its keys and entries,
findings are stamped with their artifact by one helper, and nothing calls back up into the pipeline."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest

from scanner.cache import ResultCache
from scanner.engines import EngineBase, as_engine
from scanner.failures import failure
from scanner.findings.stamping import stamp_artifacts
from scanner.inputs import Loaded, Unit
from scanner.model import Artifact, Finding, Location, RuleMeta, Severity
from tests.conftest import REPO

SCANNER = REPO / "scanner"
RULE = RuleMeta("T-CORE-001", "core", Severity.WARNING, "Seen by the core engine")


def _demo_engine() -> Any:
    """The entry-point fixture's engine: a third party's, with the four core members only."""
    source = REPO / "fixtures" / "engines" / "entry-point-engine" / "idp_scan_demo_engine" / "__init__.py"
    spec = importlib.util.spec_from_file_location("idp_scan_demo_engine", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create(None)


class Declared(EngineBase):
    name = "declared"
    version = "7"

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def rules(self) -> Sequence[RuleMeta]:
        return [RULE]

    def accepts(self, artifact: Artifact) -> bool:
        return True

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        return []

    def cache_token(self) -> str | None:
        return self.token


def _artifact(uri: str, kind: str = "cloudformation") -> Artifact:
    return Artifact(kind=kind, path=uri, uri=uri, data={"Resources": {}})


def _finding(uri: str, rule_id: str = "T-CORE-001", artifact: str = "") -> Finding:
    return Finding(rule_id, "core", Severity.WARNING, "m", Location(uri), artifact=artifact)


# -- the Engine Protocol ---------------------------------------------------------------------
def test_an_engine_with_the_core_members_only_gets_the_documented_defaults():
    plugin = _demo_engine()
    engine = as_engine(plugin)
    artifact = _artifact("a.yaml")
    assert (engine.name, engine.cross_file, engine.rules_from_scan, engine.version) == ("demo", False, False, "")
    assert (engine.prepare(), engine.cache_token(), engine.reference_kinds()) == (None, None, ())
    assert engine.module() == "idp_scan_demo_engine"  # its own distribution's version keys its cache entries
    assert list(engine.scan_against([artifact], [_artifact("other.yaml")])) == list(plugin.scan([artifact]))
    assert [meta.id for meta in engine.rules()] == ["DEMO-ANY-001"] and engine.accepts(artifact)


def test_an_engine_that_inherits_the_defaults_is_used_as_it_is():
    engine = Declared()
    assert as_engine(engine) is engine
    assert engine.module() == __name__


# -- stamping --------------------------------------------------------------------------------
def test_a_finding_names_the_artifact_at_its_file():
    stamped = stamp_artifacts([_finding("a.yaml"), _finding("b.yaml"), _finding("c.yaml")], [_artifact("a.yaml"), _artifact("b.yaml")])
    assert [f.artifact for f in stamped] == ["a.yaml", "b.yaml", ""]  # c.yaml: no artifact of the chunk


def test_a_terraform_root_judges_its_module_files_and_a_plan_its_root_module():
    module = [_finding("modules/db/main.tf")]
    assert [f.artifact for f in stamp_artifacts(module, [_artifact("live", "terraform")])] == ["live"]
    assert [f.artifact for f in stamp_artifacts(module, [_artifact("t.yaml")])] == [""]  # a template holds only itself
    beside = [_finding("plans/main.tf"), _finding("plans/plan.json")]
    assert [f.artifact for f in stamp_artifacts(beside, [_artifact("plans/plan.json", "terraform-plan")])] == ["plans", "plans/plan.json"]
    assert [f.artifact for f in stamp_artifacts([_finding("main.tf")], [_artifact("plan.json", "terraform-plan")])] == ["."]


def test_a_stamped_finding_keeps_its_artifact_and_the_default_takes_the_rest():
    findings = [_finding("live/main.tf", artifact="stack.template.json"), _finding("live/vars.tf")]
    assert [f.artifact for f in stamp_artifacts(findings, default="live")] == ["stack.template.json", "live"]
    assert stamp_artifacts(findings) == findings


# -- the result cache ------------------------------------------------------------------------
@pytest.fixture
def unit(tmp_path: Path) -> Unit:
    path = tmp_path / "t.yaml"
    path.write_text("Resources: {}\n")
    return Unit(kind="cloudformation", path=path, uri="t.yaml")


def test_a_load_comes_back_from_the_cache_with_its_digests(tmp_path, unit):
    loaded = Loaded(artifacts=(_artifact("t.yaml"),), findings=(_finding("t.yaml"),))
    digests = ResultCache(tmp_path / "cache", tmp_path).store_load(unit, loaded, finished=True)
    assert len(digests) == 1 and digests[0]
    assert ResultCache(tmp_path / "cache", tmp_path).cached_load(unit) == (loaded, digests)
    unit.path.write_text("Resources: {B: {Type: AWS::S3::Bucket}}\n")
    assert ResultCache(tmp_path / "cache", tmp_path).cached_load(unit) is None  # the file changed


def test_a_crashed_load_is_not_kept_but_its_artifacts_still_get_digests(tmp_path, unit):
    loaded = Loaded(artifacts=(_artifact("t.yaml"),))
    assert ResultCache(tmp_path / "cache", tmp_path).store_load(unit, loaded, finished=False)[0]
    assert ResultCache(tmp_path / "cache", tmp_path).cached_load(unit) is None


def test_without_a_directory_the_cache_never_hits_and_never_lists_rules(tmp_path, unit):
    class Unlisted(Declared):
        def rules(self) -> Sequence[RuleMeta]:
            raise AssertionError("listing rules is for cache keys only")

    cache = ResultCache(None, tmp_path)
    assert cache.store_load(unit, Loaded(artifacts=(_artifact("t.yaml"),)), finished=True) == (None,)
    assert cache.cached_load(unit) is None
    assert cache.engine_key(Unlisted(), "content") is None
    assert cache.counts() == {}


def test_an_engine_key_changes_with_the_engine_version_and_its_token(tmp_path):
    def key(engine: EngineBase) -> str | None:
        return ResultCache(tmp_path / "cache", tmp_path).engine_key(engine, "content")

    newer = Declared()
    newer.version = "8"
    keys = {key(Declared()), key(newer), key(Declared(token="as_of=2026-11-22"))}
    assert len(keys) == 3 and None not in keys
    assert key(Declared()) == key(Declared())
    assert ResultCache(tmp_path / "cache", tmp_path).engine_key(Declared(), None) is None  # no content digest, no key


def test_only_results_that_recur_are_kept(tmp_path):
    cache = ResultCache(tmp_path / "cache", tmp_path)
    engine = Declared()
    a, b = _artifact("a.yaml"), _artifact("b.yaml")
    key_a, key_b = cache.engine_key(engine, "a"), cache.engine_key(engine, "b")
    assert key_a and key_b
    timed_out = failure("IDP041", "Stopped", Location("b.yaml"))
    cache.store_findings([a, b], [_finding("a.yaml"), timed_out], [key_a, key_b])
    assert cache.cached_findings(engine, key_a) == [_finding("a.yaml")]
    assert cache.cached_findings(engine, key_b) is None  # a timeout may pass next time
    cache.store_findings([a, b], [_finding("elsewhere.yaml")], [key_a, key_b])  # belongs to neither: nothing kept
    assert cache.cached_findings(engine, key_a) == [_finding("a.yaml")]
    assert json.loads(next((tmp_path / "cache").rglob(f"{key_a}.json")).read_text())["key"] == key_a


# -- one direction ---------------------------------------------------------------------------
COMMANDS = {"cli.py", "ruletest.py", "pipeline.py"}  # and the command modules the CLI dispatches to


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_below_the_commands_imports_the_pipeline():
    offenders = [
        path.relative_to(SCANNER).as_posix()
        for path in sorted(SCANNER.rglob("*.py"))
        if path.relative_to(SCANNER).as_posix() not in COMMANDS and path.parent.name != "commands"
        and "scanner.pipeline" in _imports(path)
    ]
    assert offenders == []


def test_the_pipeline_the_plan_and_the_cache_ask_engines_by_method_only():
    modules = [SCANNER / "pipeline.py", SCANNER / "plan.py", *sorted((SCANNER / "cache").glob("*.py"))]
    asked = {
        (path.name, node.lineno)
        for path in modules
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
        and "engine" in ast.unparse(node.args[0]).lower()
    }
    assert asked == set()


def test_a_module_can_be_read_in_one_sitting():
    """No module of the scanner or the bundled rules over 400 lines (data tables are JSON)."""
    modules = [*SCANNER.rglob("*.py"), *(SCANNER.parent / "rules").rglob("*.py")]
    long = {path.relative_to(SCANNER.parent).as_posix(): n for path in modules
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
