"""`idp-scan rules test`: run a rule directory's fixtures, like `cfn-guard test` or `conftest verify`.

Fixtures of a rule live in `<fixtures>/<RULE-ID>/`: every `fail*` file must produce findings of
that rule on exactly the resources whose names contain `fail` (any case), every `pass*` file
none. A `.idp-scan.yaml` in that directory is the configuration the fixtures are scanned with
(an allow-list, a fixed date). A Terraform fixture is a module directory (`fail-terraform/`);
every instance of a counted resource counts as that resource. A fixture no input reads is
reported as skipped; a fixture that cannot be parsed fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from scanner.engines.cfn_guard_binary import CaseResult
from scanner.failures import is_blocking_failure
from scanner.model import Finding
from scanner.terraform_helpers import base_address

_TF_BLOCK = re.compile(r'^\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"|^\s*module\s+"([^"]+)"', re.MULTILINE)


@dataclass(frozen=True)
class FixtureResult:
    rule_id: str
    path: Path
    outcome: str  # "fail" or "pass": what the fixture expects
    status: str  # "ok", "failed", "skipped"
    expected: frozenset[str] = frozenset()
    found: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def missing(self) -> frozenset[str]:
        return self.expected - self.found

    @property
    def unexpected(self) -> frozenset[str]:
        return self.found - self.expected


def resource_names(path: Path) -> set[str]:
    """Names of the resources a fixture declares: logical ids, or Terraform addresses
    (a Terraform fixture is a module directory, `fail-terraform/`)."""
    if path.is_dir():
        names = set()
        for tf in sorted(path.glob("*.tf")):
            for match in _TF_BLOCK.finditer(tf.read_text(encoding="utf-8")):
                kind, type_, name, module = match.groups()
                names.add(f"module.{module}" if module else f"{'data.' if kind == 'data' else ''}{type_}.{name}")
        return names
    text = path.read_text(encoding="utf-8")
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    document: Any = yaml.load(text, Loader=Loader)
    resources = document.get("Resources") if isinstance(document, dict) else None
    return set(resources) if isinstance(resources, dict) else set()


def expected_failures(path: Path) -> set[str]:
    return {name for name in resource_names(path) if "fail" in name.rsplit(".", 1)[-1].lower()}


def fixture_files(fixtures: Path, rule_id: str) -> list[tuple[str, Path]]:
    directory = fixtures / rule_id
    if not directory.is_dir():
        return []
    return [
        (outcome, path)
        for outcome in ("fail", "pass")
        for path in sorted(directory.glob(f"{outcome}*"))
        if path.is_file() or any(path.glob("*.tf"))
    ]


def run_fixture(rule_id: str, outcome: str, path: Path, rule_dirs: Sequence[Path]) -> FixtureResult:
    from scanner.pipeline import run
    from scanner.settings import build_settings

    own = path.parent / ".idp-scan.yaml"  # the rule's fixture configuration, named: it lies below the root
    settings = build_settings([path], own if own.is_file() else None, {"engines": ["native"], "fail_on": "note"})
    settings = replace(settings, rule_dirs=tuple(rule_dirs), select=(rule_id,), ignore=())
    result = run(settings)
    if not result.scanned and not result.findings:
        return FixtureResult(rule_id, path, outcome, "skipped", problems=("no installed input reads this file",))
    ours = [f for f in result.findings if f.rule_id == rule_id]
    # The scanner's own errors (a parse failure) spoil a fixture; its notes (a remote module) do not.
    failures = tuple(
        f"{f.rule_id} at line {f.location.start_line}: {f.message}"
        for f in result.findings
        if is_blocking_failure(f)
    )
    found = frozenset(base_address(f.resource.name) if f.resource else f.location.uri for f in ours)
    expected = frozenset(expected_failures(path)) if outcome == "fail" else frozenset()
    problems = list(failures)
    if outcome == "fail" and not expected:
        problems.append("a fail fixture must declare at least one resource named ...Fail")
    status = "ok" if found == expected and not problems else "failed"
    return FixtureResult(rule_id, path, outcome, status, expected, found, tuple(problems), tuple(ours))


def run_rule_tests(rule_ids: Sequence[str], fixtures: Path, rule_dirs: Sequence[Path] = ()) -> tuple[list[FixtureResult], list[str]]:
    """Results of every fixture of the rules, and the rules lacking a pass or a fail fixture."""
    results: list[FixtureResult] = []
    incomplete: list[str] = []
    for rule_id in sorted(rule_ids):
        files = fixture_files(fixtures, rule_id)
        if {outcome for outcome, _ in files} != {"fail", "pass"}:
            incomplete.append(rule_id)
        results.extend(run_fixture(rule_id, outcome, path, rule_dirs) for outcome, path in files)
    return results, incomplete


def describe(result: FixtureResult) -> str:
    """One line per fixture, and what differs when it failed."""
    head = f"{result.status.upper():<7} {result.rule_id:<16} {result.path}"
    if result.status == "skipped":
        return f"{head}  ({'; '.join(result.problems)})"
    if result.status == "ok":
        return f"{head}  ({len(result.found)} failing resource(s) as expected)" if result.outcome == "fail" else head
    details = []
    if result.missing:
        details.append(f"expected but not found: {', '.join(sorted(result.missing))}")
    if result.unexpected:
        details.append(f"found but not expected: {', '.join(sorted(result.unexpected))}")
    details.extend(result.problems)
    return head + "".join(f"\n          {line}" for line in details)


# -- Guard rule tests (`*_tests.yml` beside a `.guard` file or in `tests/`), run by `cfn-guard test` --


def has_guard_rules(path: Path) -> bool:
    from scanner.engines.cfn_guard_rules import RULE_SUFFIXES

    return path.suffix in RULE_SUFFIXES if path.is_file() else any(p.suffix in RULE_SUFFIXES for p in path.rglob("*"))


@dataclass(frozen=True)
class GuardFileResult:
    """The cases of one rule file's test file, or why they could not run."""

    rule_file: Path
    test_file: Path
    cases: tuple[CaseResult, ...] = ()
    error: str = ""

    @property
    def failed(self) -> int:
        return sum(not case.passed for case in self.cases) + (1 if self.error else 0)


def run_guard_tests(path: Path, binary: Path) -> list[GuardFileResult]:
    """Every rule file under `path` that has a test file, with cfn-guard's own test semantics."""
    from scanner.engines import cfn_guard_binary as guard
    from scanner.engines.cfn_guard_rules import rule_test_pairs

    results = []
    for rule_file, test_file in rule_test_pairs([path]):
        try:
            cases = tuple(guard.run_tests(binary, rule_file, test_file))
            results.append(GuardFileResult(rule_file, test_file, cases, "" if cases else "no test case in the test file"))
        except guard.GuardFailed as exc:
            results.append(GuardFileResult(rule_file, test_file, error=str(exc)))
    return results


def describe_guard(result: GuardFileResult) -> list[str]:
    """One line per case, with the expectations that did not hold."""
    if result.error:
        return [f"FAILED  {result.rule_file}: {result.error}"]
    lines = []
    for case in result.cases:
        lines.append(f"{'OK' if case.passed else 'FAILED':<7} {result.rule_file}: {case.name}")
        lines.extend(f"          {failure}" for failure in case.failures)
    return lines
