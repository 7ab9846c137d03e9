"""The checkov engine: checkov's bundled checks over the artifacts idp-scan discovered.

In-process, warm: checkov is imported (and its ~180 CloudFormation checks registered) once per
process, on the first scan; every scan then builds fresh runners, so a second call, or a call in
another worker process on any subset of artifacts, sees no state from the first. Measured on
this machine (see the issue note): the CLI pays 4-7 s of start-up per call, the warm in-process
runner ~0.1 s per template.

Offline, with its parsers patched once per process: `checkov_setup`. Its checks as rules, with
their reviewed severities: `checkov_checks`.

Isolated: all files of a framework run as one batch; when the batch raises (one template with
`Type: !Ref AWS::Region` makes checkov raise for the whole batch), each file runs on its own and
the one that raises becomes an IDP020 finding. A check that raises (checkov logs it and drops
its result) becomes an IDP022 finding on that resource; a file checkov cannot parse, IDP023.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from scanner.engines.checkov_checks import SeverityTable, bundled_checks, categories, check_url, rule_meta, severity_table
from scanner.engines.checkov_setup import FRAMEWORKS, NAME, runner_class
from scanner.engines.limits import EngineTimeout, time_limit
from scanner.failures import failure
from scanner.inputs import cfn
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, ResourceId, RuleMeta, Status
from scanner.settings import Settings

log = logging.getLogger(__name__)

# checkov reads CloudFormation files only with these suffixes and silently skips the rest.
_CFN_SUFFIXES = (".json", ".yml", ".yaml", ".template")
_CHECK_ERROR = re.compile(r"^Failed to run check (?P<id>\S+) on (?P<file>.+?):(?P<type>.+)\.(?P<name>[^.]+)$")


class _CheckErrors(logging.Handler):
    """Collects checkov's "Failed to run check" records, which are otherwise only logged.

    While installed it is the root logger's only handler (checkov logs to the root logger and
    would print tracebacks for every template it dislikes), unless debugging is on.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.failed: list[tuple[str, str, str, str]] = []
        self._saved: list[logging.Handler] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = _CHECK_ERROR.match(record.getMessage())
        if match:
            error = f"{record.exc_info[0].__name__}: {record.exc_info[1]}" if record.exc_info and record.exc_info[0] else "raised"
            self.failed.append((match["id"], match["file"], match["name"], error))

    def __enter__(self) -> _CheckErrors:
        root = logging.getLogger()
        self._saved = list(root.handlers)
        if not root.isEnabledFor(logging.DEBUG):
            root.handlers = []
        root.addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger().handlers = self._saved


@dataclass
class _Batch:
    """Artifacts of one framework, with the path checkov reads for each."""

    framework: str
    artifacts: list[Artifact]
    staging: tempfile.TemporaryDirectory[str] | None = None
    by_path: dict[str, Artifact] = field(default_factory=dict)

    def paths(self) -> list[str]:
        out = []
        for number, artifact in enumerate(self.artifacts):
            path = os.path.abspath(artifact.path)
            if self.framework == "cloudformation" and not path.lower().endswith(_CFN_SUFFIXES):
                path = self._staged(number, path)
            self.by_path[path] = artifact
            out.append(path)
        return out

    def _staged(self, number: int, path: str) -> str:
        """A `.template` link to a file checkov would skip for its suffix (`.cfn`, no suffix)."""
        if self.staging is None:
            self.staging = tempfile.TemporaryDirectory(prefix="idp-scan-checkov-")
        link = os.path.join(self.staging.name, f"{number}.template")
        os.symlink(path, link)
        return link

    def artifact_for(self, checkov_path: str) -> Artifact | None:
        """The artifact a path checkov reports stands for: the file, or the module directory
        (with its local modules) a Terraform artifact was read from."""
        candidates = (checkov_path, os.path.normpath(checkov_path), os.path.abspath(checkov_path.lstrip("/")))
        for candidate in candidates:
            if candidate in self.by_path:
                return self.by_path[candidate]
        directories = [(path, a) for path, a in self.by_path.items() if os.path.isdir(path)]
        return directories[0][1] if len(directories) == 1 else None

    def close(self) -> None:
        if self.staging is not None:
            self.staging.cleanup()


class CheckovEngine(EngineBase):
    name = NAME

    def __init__(self, time_limit_per_file: float | None = 60.0) -> None:
        self._limit = time_limit_per_file

    def rules(self) -> Sequence[RuleMeta]:
        """Every check checkov runs for us (imports checkov: the pipeline asks only when an
        artifact for checkov exists, and caches the list)."""
        return [rule_meta(check_id, check.name, categories(check), check_url(check)) for check_id, check in sorted(bundled_checks().items())]

    def prepare(self) -> None:
        """Import checkov and register its checks once, before the worker processes fork."""
        bundled_checks()
        for kind in FRAMEWORKS:
            runner_class(kind)

    def accepts(self, artifact: Artifact) -> bool:
        return artifact.kind in FRAMEWORKS

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        by_kind: dict[str, list[Artifact]] = {}
        for artifact in artifacts:
            if artifact.kind in FRAMEWORKS:
                by_kind.setdefault(artifact.kind, []).append(artifact)
        findings: list[Finding] = []
        for kind, group in sorted(by_kind.items()):
            files = [a for a in group if not os.path.isdir(a.path)]
            if files:
                findings.extend(self._scan_batch(kind, files))
            for directory in (a for a in group if os.path.isdir(a.path)):
                findings.extend(self._scan_batch(kind, [directory]))
        return findings

    def _scan_batch(self, kind: str, artifacts: list[Artifact]) -> list[Finding]:
        batch = _Batch(FRAMEWORKS[kind][0], artifacts)
        try:
            paths = batch.paths()
            limit = self._limit * len(artifacts) if self._limit else None
            with _CheckErrors() as errors, time_limit(limit):
                reports = _run(kind, paths)
            return list(_findings(reports, errors.failed, batch))
        except EngineTimeout as exc:
            return [engine_timeout(NAME, a, str(exc)) for a in artifacts]
        except Exception as exc:
            log.debug("checkov failed on %d file(s)", len(artifacts), exc_info=True)
            if len(artifacts) == 1:
                return [engine_crash(NAME, artifacts[0], exc)]
            return [f for a in artifacts for f in self._scan_batch(kind, [a])]
        finally:
            batch.close()


def _run(kind: str, paths: list[str]) -> list[Any]:
    from checkov.runner_filter import RunnerFilter

    framework = FRAMEWORKS[kind][0]
    runner = runner_class(kind)()
    runner_filter = RunnerFilter(framework=[framework], download_external_modules=False, show_progress_bar=False)
    if len(paths) == 1 and os.path.isdir(paths[0]):
        report = runner.run(root_folder=paths[0], runner_filter=runner_filter)
    else:
        report = runner.run(root_folder=None, files=paths, runner_filter=runner_filter)
    return report if isinstance(report, list) else [report]


def _findings(reports: list[Any], failed_checks: list[tuple[str, str, str, str]], batch: _Batch) -> Iterator[Finding]:
    table = severity_table()
    for report in reports:
        for record in report.failed_checks:
            finding = record_finding(record, batch, table)
            if finding:
                yield finding
        for record in report.skipped_checks:
            finding = record_finding(record, batch, table)
            if finding:
                reason = str(record.check_result.get("suppress_comment") or "checkov skip")
                yield finding.with_status(Status.SUPPRESSED, f"checkov: {reason}")
        for path in report.parsing_errors:
            artifact = batch.artifact_for(path)
            if artifact:
                yield failure("IDP023", f"checkov could not parse {artifact.uri}, so its checks did not run on it.", Location(artifact.uri))
    for check_id, path, name, error in failed_checks:
        artifact = batch.artifact_for(path)
        if artifact is None:
            continue
        identity = _identity(artifact, name, "")
        yield failure(
            "IDP022",
            f"checkov check {check_id} failed on {identity.name} ({error}), so the resource was not proven compliant against it.",
            artifact.locate(("Resources", name)) if artifact.kind == "cloudformation" else Location(artifact.uri),
            identity,
        )


def record_finding(record: Any, batch: _Batch, table: SeverityTable) -> Finding | None:
    artifact = batch.artifact_for(str(record.file_abs_path)) or batch.artifact_for(str(record.file_path))
    if artifact is None:
        return None
    start, end = (list(record.file_line_range) + [1, 1])[:2]
    location = Location(artifact.uri, int(start or 1), int(end or start or 1))
    if artifact.kind == "cloudformation":
        resource_type, _, name = str(record.resource).rpartition(".")
        identity = cfn.resource_identity(artifact, name, resource_type)
    else:
        identity = _terraform_identity(record)
        location = _terraform_location(artifact, identity.name, str(record.file_abs_path), location)
    return Finding(
        rule_id=str(record.check_id),
        engine=NAME,
        severity=table.rate(str(record.check_id)).severity,
        message=f"{identity.name}: {record.check_name}.",
        location=location,
        resource=identity,
    )


def _terraform_location(artifact: Artifact, address: str, file_abs_path: str, reported: Location) -> Location:
    """Where the Terraform input put the resource (its `.tf` file, even for a plan), else the
    file checkov names, relative to the artifact's module directory."""
    if ("resources", address) in artifact.lines:
        return artifact.locate(("resources", address))
    if os.path.isdir(artifact.path) and file_abs_path:
        relative = os.path.relpath(file_abs_path, os.path.abspath(artifact.path)).replace(os.sep, "/")
        uri = posixpath.normpath(posixpath.join(artifact.uri, relative))
        return Location(uri, reported.start_line, reported.end_line)
    return reported


def _identity(artifact: Artifact, name: str, resource_type: str) -> ResourceId:
    """A resource named in a check error: logical id (or construct path), else a Terraform address."""
    if artifact.kind == "cloudformation":
        return cfn.resource_identity(artifact, name, resource_type)
    return ResourceId("terraform", name, resource_type)


def _terraform_identity(record: Any) -> ResourceId:
    address = str(getattr(record, "resource_address", None) or record.resource)
    resource_type = str(record.resource).split(".")[0]
    return ResourceId("terraform", address, resource_type)


def engine_crash(engine: str, artifact: Artifact, exc: BaseException) -> Finding:
    return failure("IDP020", f"{engine} failed on {artifact.uri}: {type(exc).__name__}: {exc}; its checks did not run on this file.", Location(artifact.uri))


def engine_timeout(engine: str, artifact: Artifact, detail: str) -> Finding:
    return failure("IDP021", f"{engine} did not finish {artifact.uri} ({detail}); its checks did not run on this file.", Location(artifact.uri))


def create(settings: Settings) -> CheckovEngine:
    return CheckovEngine(time_limit_per_file=settings.checkov.timeout)
