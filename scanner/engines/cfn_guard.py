"""The `guard` engine: CloudFormation Guard rules (AWS Control Tower's proactive controls, the
Guard Rules Registry, a team's own) on CloudFormation templates and cdk.out stacks.

Evaluator: the cfn-guard 3.1.1 binary (see `cfn_guard_binary`), chosen by measurement over
PyPI's cfn-guard-rs (benchmarks/guard_evaluators.py): it passes every registry test case and
reports the path of each failing clause. One process per batch of files: every configured rule
file and every template of the batch. Templates are handed over as idp-scan decoded them (SAM
expanded, short-form tags in long form), as JSON, so the paths cfn-guard reports are paths in
the artifact and idp-scan's own line maps turn them into lines.

Findings: one per (rule, resource), at the line of the first property a clause failed on (else
the resource), with the rule's own message. Guard's `Metadata.guard.SuppressedRules` on a
resource (a rule name or the control id) marks the finding SUPPRESSED; the rules never see it,
so the suppressed finding still shows (cfn-guard itself would just skip the resource).
No binary, a rule file cfn-guard cannot parse, a crash or a timeout: a finding on each file
the rules did not run on, never a pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from scanner.engines import cfn_guard_binary as guard
from scanner.engines.cfn_guard_rules import CONTROL_TOWER, GuardRule, GuardRulesError, load_rules, metadata_file, rule_files
from scanner.failures import failure
from scanner.inputs import cfn
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, PropertyPath, ResourceId, RuleMeta, Severity, Status
from scanner.settings import ConfigError, Settings

log = logging.getLogger(__name__)

NAME = "guard"
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class GuardOptions:
    """The `guard:` section of the configuration, resolved against the configuration's folder."""

    rules: tuple[str, ...] = ()  # paths, or `control-tower`
    binary: Path | None = None
    parameters: Mapping[str, Any] | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds for one cfn-guard process (one batch of files)
    base: Path = Path(".")
    search_from: tuple[Path, ...] = ()  # where node_modules may hold the npm package


class GuardEngine(EngineBase):
    name = NAME

    def __init__(self, options: GuardOptions) -> None:
        self._options = options
        self._loaded: tuple[list[GuardRule], list[Path], str] | None = None  # rules, files, why none
        self._found: tuple[Path | None, str] | None = None  # binary and version, or None and why

    @property
    def options(self) -> GuardOptions:
        return self._options

    # -- what the pipeline asks ----------------------------------------------------------
    def rules(self) -> Sequence[RuleMeta]:
        by_id = {rule.meta.id: rule.meta for rule in self._rules()[0]}
        return [by_id[i] for i in sorted(by_id)]

    def accepts(self, artifact: Artifact) -> bool:
        return bool(self._options.rules) and artifact.kind == cfn.KIND

    def prepare(self) -> None:
        """Find the binary and read the rules once, before the workers fork."""
        self._rules()
        self._binary()

    def cache_token(self) -> str:
        """Results hold for one binary and the rule files' bytes (metadata included) and parameters."""
        _, files, _ = self._rules()
        digest = hashlib.sha256()
        for path in files:
            for part in (path, metadata_file(path)):
                if part is not None and part.is_file():
                    digest.update(str(part).encode() + b"\0" + part.read_bytes())
        binary, version_or_error = self._binary()
        digest.update(f"{binary}\0{version_or_error}\0{json.dumps(self._options.parameters, sort_keys=True, default=str)}".encode())
        return digest.hexdigest()

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        rules, files, why_none = self._rules()
        binary, version_or_error = self._binary()
        if binary is None or not files:
            reason = why_none or version_or_error
            return [failure("IDP026", f"Guard rules did not run on this file: {reason}", Location(a.uri)) for a in artifacts]
        with tempfile.TemporaryDirectory(prefix="idp-scan-guard-") as folder:
            return self._evaluate(binary, rules, files, artifacts, Path(folder))

    # -- running cfn-guard ---------------------------------------------------------------
    def _evaluate(self, binary: Path, rules: list[GuardRule], files: list[Path], artifacts: Sequence[Artifact],
                  folder: Path, copy: bool = False) -> list[Finding]:
        files = applicable(rules, files, artifacts)
        if not files:
            return []  # every rule is about resource types these templates do not have: all SKIP
        data = [guard_input(folder, artifact, copy) for artifact in artifacts]
        parameters = _write_parameters(folder / "parameters.json", self._options.parameters)
        try:
            result = guard.validate(binary, files, data, parameters, timeout=self._options.timeout)
        except subprocess.TimeoutExpired:
            return [failure("IDP021", f"cfn-guard did not finish {a.uri} and {len(artifacts) - 1} other file(s) within "
                            f"{self._options.timeout:g} s (guard.timeout); its rules did not run on it.", Location(a.uri))
                    for a in artifacts]
        except (guard.GuardFailed, guard.GuardUnavailable) as exc:
            if len(artifacts) > 1:  # one file must not take the others' results with it
                return [f for a in artifacts for f in self._evaluate(binary, rules, files, [a], folder)]
            if not copy and data[0] == Path(artifacts[0].path):  # cfn-guard cannot read the file: give it ours
                return self._evaluate(binary, rules, files, artifacts, folder, copy=True)
            return [failure("IDP020", f"cfn-guard failed on {artifacts[0].uri}: {exc}; its rules did not run on this file.",
                            Location(artifacts[0].uri))]
        by_name = {rule.name: rule for rule in rules}
        findings: list[Finding] = []
        for artifact, verdict in zip(artifacts, result.verdicts):
            findings.extend(to_findings(artifact, verdict, by_name))
            if result.rule_errors:
                findings.append(failure("IDP027", f"A Guard rule file did not parse, so its rules did not run on this file: "
                                        f"{guard.tail(result.rule_errors)}", Location(artifact.uri)))
        return findings

    def _rules(self) -> tuple[list[GuardRule], list[Path], str]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _load(self) -> tuple[list[GuardRule], list[Path], str]:
        paths: list[Path] = []
        for entry in self._options.rules:
            if entry != CONTROL_TOWER:
                paths.append(self._options.base / entry)
                continue
            packages = guard.package_dirs(self._options.search_from)
            if not packages:
                return [], [], f"`{CONTROL_TOWER}` names the rules of {guard.PACKAGE}, which is not installed (npm install {guard.PACKAGE})"
            paths.append(packages[0] / "rules" / CONTROL_TOWER / "cfn-guard")
        try:
            files = rule_files(paths)
            return load_rules(files), files, "" if files else "no Guard rule file in guard.rules"
        except GuardRulesError as exc:
            raise ConfigError(str(exc)) from exc

    def _binary(self) -> tuple[Path | None, str]:
        """(binary, its version) or (None, why there is none)."""
        if self._found is None:
            try:
                binary = guard.find_binary(self._options.binary, self._options.search_from)
                self._found = (binary, guard.version(binary))
            except guard.GuardUnavailable as exc:
                self._found = (None, str(exc))
        return self._found


def applicable(rules: Sequence[GuardRule], files: Sequence[Path], artifacts: Sequence[Artifact]) -> list[Path]:
    """The rule files that can decide something on these templates. A control evaluates only its
    `EvaluatedResourceTypes` (every Control Tower rule is SKIP on a template without them), so a
    batch pays for parsing only the controls of its resource types; a rule file without that
    metadata always runs."""
    present = {body.get("Type") for a in artifacts for body in _resource_bodies(a.data)}
    wanted = {rule.file for rule in rules if not rule.resource_types or rule.resource_types & present}
    named = {rule.file for rule in rules}
    return [f for f in files if f in wanted or f not in named]


def _resource_bodies(data: Any) -> list[Mapping[str, Any]]:
    resources = data.get("Resources") if isinstance(data, Mapping) else None
    return [b for b in resources.values() if isinstance(b, Mapping)] if isinstance(resources, Mapping) else []


def guard_input(folder: Path, artifact: Artifact, copy: bool = False) -> Path:
    """The file cfn-guard reads: the template itself where idp-scan read it as written (so the
    verdicts are cfn-guard's own: `!GetAtt a.b` stays a string for it), else idp-scan's decoded
    document as JSON — expanded by a transform, or without its `Metadata.guard.SuppressedRules`."""
    source = Path(artifact.path)
    cleaned = without_guard_suppressions(artifact.data)
    if not copy and cleaned is artifact.data and source.is_file() and not declares_transform(source):
        return source
    path = folder / f"{hashlib.sha256(artifact.uri.encode()).hexdigest()[:16]}-{artifact.kind}.json"
    path.write_text(json.dumps(cleaned, default=str), encoding="utf-8")
    return path


_TRANSFORM = re.compile(rb"""^["']?Transform["']?\s*:|"Transform"\s*:""", re.MULTILINE)


def declares_transform(path: Path) -> bool:
    """The file names a Transform: idp-scan expanded it (SAM, LanguageExtensions), cfn-guard would not."""
    try:
        return bool(_TRANSFORM.search(path.read_bytes()))
    except OSError:
        return True


def _write_parameters(path: Path, parameters: Mapping[str, Any] | None) -> Path | None:
    if not parameters:
        return None
    path.write_text(json.dumps(parameters, default=str), encoding="utf-8")
    return path


def without_guard_suppressions(template: Any) -> Any:
    """The template without resources' `Metadata.guard.SuppressedRules` (applied by us, after)."""
    resources = template.get("Resources") if isinstance(template, Mapping) else None
    if not isinstance(resources, Mapping) or not any(suppressed_rules(body) for body in resources.values()):
        return template
    cleaned = {}
    for logical_id, body in resources.items():
        if suppressed_rules(body):
            metadata = dict(body["Metadata"])
            metadata["guard"] = {k: v for k, v in metadata["guard"].items() if k != "SuppressedRules"}
            body = {**body, "Metadata": metadata}
        cleaned[logical_id] = body
    return {**template, "Resources": cleaned}


def suppressed_rules(body: Any) -> tuple[str, ...]:
    metadata = body.get("Metadata") if isinstance(body, Mapping) else None
    settings = metadata.get("guard") if isinstance(metadata, Mapping) else None
    names = settings.get("SuppressedRules") if isinstance(settings, Mapping) else None
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def to_findings(artifact: Artifact, verdict: guard.FileVerdict, by_name: Mapping[str, GuardRule]) -> list[Finding]:
    """One finding per failed rule and resource; a failed rule without a located clause, one on the file."""
    grouped: dict[tuple[str, str], list[tuple[Location, str]]] = {}
    for violation in verdict.violations:
        path = typed_path(artifact.data, violation.path)
        logical_id = str(path[1]) if len(path) >= 2 and path[0] == "Resources" else ""
        grouped.setdefault((violation.rule, logical_id), []).append((artifact.locate(path), violation.message))
    for name, status in verdict.statuses.items():
        if status == guard.FAIL and not any(rule == name for rule, _ in grouped):
            grouped[(name, "")] = [(Location(artifact.uri), "")]
    return [_finding(artifact, by_name.get(rule), rule, logical_id, sorted(places)) for (rule, logical_id), places in grouped.items()]


def _finding(artifact: Artifact, rule: GuardRule | None, name: str, logical_id: str,
             places: list[tuple[Location, str]]) -> Finding:
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    body = resources.get(logical_id) if logical_id and isinstance(resources, Mapping) else None
    type_ = body.get("Type") if isinstance(body, Mapping) else ""
    resource: ResourceId | None = cfn.resource_identity(artifact, logical_id, type_ if isinstance(type_, str) else "") if body is not None else None
    rule_id = rule.meta.id if rule else name
    messages = list(dict.fromkeys(m.removeprefix(f"[{rule_id}]:").strip() for _, m in places if m))
    message = " ".join(messages) or f"Guard rule {name} failed" + (f" on {logical_id}" if logical_id else "")
    finding = Finding(
        rule_id=rule_id,
        engine=NAME,
        severity=rule.meta.severity if rule else Severity.ERROR,
        message=message,
        location=places[0][0],
        resource=resource,
    )
    names = rule.suppression_names if rule else (name,)
    if body is not None and set(names) & set(suppressed_rules(body)):
        return finding.with_status(Status.SUPPRESSED, f"cfn-guard: Metadata.guard.SuppressedRules of {logical_id}")
    return finding


def typed_path(data: Any, parts: Sequence[str]) -> PropertyPath:
    """A Guard path (strings) as an artifact path: list indices as ints, where the data has lists."""
    path: list[str | int] = []
    node = data
    for part in parts:
        if isinstance(node, list) and part.isdigit():
            index = int(part)
            path.append(index)
            node = node[index] if index < len(node) else None
        else:
            path.append(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return tuple(path)


def _options(settings: Settings) -> GuardOptions:
    section = settings.guard
    timeout = section.timeout or max(10.0, 0.9 * (settings.unit_timeout or max(30.0, settings.budget / 2)))
    search = (section.base, settings.root, *(p if p.is_dir() else p.parent for p in settings.paths))
    return GuardOptions(
        rules=section.rules,
        binary=section.binary,
        parameters=section.parameters,
        timeout=float(timeout),
        base=section.base,
        search_from=tuple(dict.fromkeys(search)),
    )


def create(settings: Settings) -> GuardEngine:
    return GuardEngine(_options(settings))
