"""The cdk-validation engine: aws-cdk-lib's own validation report as idp-scan findings.

`cdk synth` writes `cdk.out/validation-report.json` when policy validation plugins ran (the
built-in CloudFormation Validate, cdk-nag v3 rule packs, CfnGuard plugins, and with
`@aws-cdk/core:annotationsInValidationReport` the construct annotations). Each entry of a
violation's `violatingConstructs` becomes a finding under the violation's rule name, named by
its construct path, with the plugin's severity:

- at the template line of its resource (and property): the report's `cloudFormationResource`
  when the plugin gave one (CloudFormation Validate), else the construct path found in the
  stack templates (cdk-nag, annotations): the construct's own resource, its `Resource` or
  `Default` child, else its first resource; a construct without resources (an imported VPC's
  subnet) sits on line 1 of its stack's template;
- the source line follows from the stack metadata after the engines ran (`findings.source_lines`), else
  from the trace of what a construct without a resource recorded (an annotation's warning),
  else from the construct's own `stackTraces` in the report.

`suppressedViolations` (acknowledged with `Validations.of(x).acknowledge(...)`) are reported as
well, marked SUPPRESSED with the acknowledgement's reason; the same acknowledgement in the stack
metadata (`aws:cdk:acknowledged-rules`) marks cfn-lint's finding of that rule (`findings.source_lines`).
The rules are only known once a report was read, so `rules()` lists what
`scan` saw.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from scanner.inputs import cfn
from scanner.inputs.cdk import assembly as cdk_assembly, sources as cdk_sources
from scanner.inputs.cdk.suppressions import acknowledgement_reason
from scanner.inputs.cdk.templates import stack_resource
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, PropertyPath, ResourceId, RuleMeta, Severity, Status
from scanner.settings import Settings

ENGINE = "cdk-validation"
MetaOf = Callable[[Mapping[str, Any], str, Severity], RuleMeta]  # (violation, plugin name, severity) -> its rule

_SEVERITIES = {
    "critical": Severity.ERROR,
    "high": Severity.ERROR,
    "error": Severity.ERROR,
    "medium": Severity.WARNING,
    "warning": Severity.WARNING,
    "low": Severity.NOTE,
    "info": Severity.NOTE,
    "informational": Severity.NOTE,
}


def severity_of(violation: Mapping[str, Any], conclusion: str) -> Severity:
    """The violation's own severity; without one, a failed report blocks and a passed one warns."""
    text = str(violation.get("severity", "")).lower()
    if text in _SEVERITIES:
        return _SEVERITIES[text]
    return Severity.ERROR if conclusion == "failure" else Severity.WARNING


def property_path(text: str) -> PropertyPath:
    """`Properties.SecurityGroupIngress.0.CidrIp` -> ("Properties", "SecurityGroupIngress", 0, "CidrIp")."""
    return tuple(int(part) if part.isdigit() else part for part in text.split(".") if part)


class Placement:
    """Where a construct path is: its template, logical id and property, from the stack templates."""

    def __init__(self, templates: Sequence[Artifact]) -> None:
        self._templates = list(templates)
        self._by_path: dict[str, tuple[Artifact, str]] = {}
        self._children: list[tuple[str, Artifact, str]] = []  # (construct path, template, logical id), template order
        for template in self._templates:
            paths: Mapping[str, str] = template.context.get("construct_paths", {})
            for logical_id, path in sorted(paths.items(), key=lambda item: template.locate(("Resources", item[0])).start_line):
                self._by_path.setdefault(path, (template, logical_id))
                self._children.append((path, template, logical_id))

    def resource(self, construct_path: str) -> tuple[Artifact, str] | None:
        """The construct's own resource, its `Resource`/`Default` child, else its first resource."""
        for candidate in (construct_path, f"{construct_path}/Resource", f"{construct_path}/Default"):
            if candidate in self._by_path:
                return self._by_path[candidate]
        prefix = construct_path + "/"
        return next(((t, lid) for path, t, lid in self._children if path.startswith(prefix)), None)

    def stack_template(self, construct_path: str) -> Artifact | None:
        """The template of the innermost stack (or nested stack) the construct belongs to."""
        owners = [t for t in self._templates if _within(construct_path, str(t.context.get("cdk", {}).get("scope", "")))]
        return max(owners, key=lambda t: len(str(t.context["cdk"]["scope"])), default=None)


def _within(path: str, scope: str) -> bool:
    return bool(scope) and (path == scope or path.startswith(scope + "/"))


class CdkValidationEngine(EngineBase):
    name = ENGINE
    cross_file = True  # a report names templates loaded as other artifacts; rules are learnt in scan
    rules_from_scan = True  # its rule ids are the report's own: known only after reading it

    def __init__(self) -> None:
        self._rules: dict[str, RuleMeta] = {}

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._rules.values())

    def accepts(self, artifact: Artifact) -> bool:
        return artifact.kind == cdk_assembly.REPORT_KIND or (artifact.kind == cfn.KIND and "cdk" in artifact.context)

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        cdk_templates = [a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context]
        templates = {Path(a.path).resolve(): a for a in artifacts if a.kind == cfn.KIND}
        placement = Placement(cdk_templates)
        for report in (a for a in artifacts if a.kind == cdk_assembly.REPORT_KIND):
            reader = _Report(report, templates, placement, self._meta)
            plugins = report.data.get("pluginReports", [])
            for plugin in plugins if isinstance(plugins, list) else []:
                if isinstance(plugin, Mapping):
                    yield from reader.plugin(plugin)

    def _meta(self, violation: Mapping[str, Any], plugin: str, severity: Severity) -> RuleMeta:
        rule_id = str(violation["ruleName"])
        if rule_id not in self._rules:
            description = str(violation.get("description", rule_id))
            fix = str(violation.get("suggestedFix", ""))
            help_markdown = f"{description}\n\nReported by the CDK validation plugin *{plugin}* in `cdk.out/validation-report.json`."
            if fix:
                help_markdown += f"\n\n**Fix:** {fix}"
            self._rules[rule_id] = RuleMeta(
                id=rule_id,
                engine=ENGINE,
                severity=severity,
                title=description.split("\n")[0][:200],
                help_markdown=help_markdown,
                tags=("cdk", "cdk-validation"),
            )
        return self._rules[rule_id]


class _Report:
    """One validation report: its violations as findings, placed in the templates and source."""

    def __init__(self, report: Artifact, templates: Mapping[Path, Artifact], placement: Placement, meta: MetaOf) -> None:
        self.report = report
        self.templates = templates
        self.placement = placement
        self.meta = meta
        assembly = Path(report.context["assembly_dir"])
        root = cdk_assembly.repo_root_of(Path(report.path), report.uri)
        self.finder = cdk_sources.SourceFinder(assembly.resolve().parent, root)
        self._text: str | None = None

    def plugin(self, plugin: Mapping[str, Any]) -> Iterator[Finding]:
        name = str(plugin.get("pluginName", "CDK validation"))
        conclusion = str(plugin.get("conclusion", ""))
        for key, acknowledged in (("violations", False), ("suppressedViolations", True)):
            violations = plugin.get(key, [])
            for violation in violations if isinstance(violations, list) else []:
                if not isinstance(violation, Mapping) or not violation.get("ruleName"):
                    continue
                meta = self.meta(violation, name, severity_of(violation, conclusion))
                constructs = violation.get("violatingConstructs", [])
                for construct in constructs if isinstance(constructs, list) else []:
                    if isinstance(construct, Mapping):
                        finding = self.finding(meta, violation, construct)
                        yield _acknowledged(finding, violation) if acknowledged else finding

    def finding(self, meta: RuleMeta, violation: Mapping[str, Any], construct: Mapping[str, Any]) -> Finding:
        path = str(construct.get("constructPath", "")).lstrip("/")
        message = str(violation.get("description", meta.title))
        if violation.get("suggestedFix"):
            message += f" Fix: {violation['suggestedFix']}"
        template, logical_id, where = self.place(construct, path)
        if template is None:
            at = Location(self.report.uri, self._line_of(path))
            resource = ResourceId(cdk_assembly.KIND, path) if path else None
            return Finding(meta.id, ENGINE, meta.severity, f"{path}: {message}" if path else message, at, resource)
        if logical_id:
            resource = stack_resource(template, logical_id)
            if resource.name != path and path:  # an annotation on an L2 construct: named by its own path
                resource = ResourceId(cdk_assembly.KIND, path, resource.type, logical_id, resource.stack)
        else:
            resource = ResourceId(cdk_assembly.KIND, path, "", "", str(template.context.get("stack", "")))
        finding = Finding(meta.id, ENGINE, meta.severity, message, where, resource)
        if logical_id and self._has_source(template, logical_id):
            return finding  # moved to its source with the engines' findings (findings.source_lines.attach_sources)
        recorded = template.context.get("cdk", {}).get("construct_sources", {}).get(path)
        return self._moved(finding, cdk_sources.Frame(*recorded)) if recorded else self._with_trace(finding, construct)

    def place(self, construct: Mapping[str, Any], path: str) -> tuple[Artifact | None, str, Location]:
        """The template, logical id and line of a violating construct."""
        given = construct.get("cloudFormationResource")
        given = given if isinstance(given, Mapping) else {}
        template_path = given.get("templatePath")
        if isinstance(template_path, str) and given.get("logicalId"):
            template = self.templates.get((Path(self.report.context["assembly_dir"]) / template_path).resolve())
            if template is not None:
                logical_id = str(given["logicalId"])
                paths = given.get("propertyPaths", [])
                first = property_path(str(paths[0])) if isinstance(paths, list) and paths else ()
                return template, logical_id, template.locate(("Resources", logical_id, *first))
        found = self.placement.resource(path) if path else None
        if found is not None:
            return found[0], found[1], found[0].locate(("Resources", found[1]))
        stack = self.placement.stack_template(path) if path else None
        return stack, "", Location(stack.uri) if stack is not None else Location(self.report.uri)

    def _has_source(self, template: Artifact, logical_id: str) -> bool:
        return bool(template.context.get("cdk", {}).get("sources", {}).get(logical_id))

    def _with_trace(self, finding: Finding, construct: Mapping[str, Any]) -> Finding:
        """The construct's own stack trace, when the metadata gave its resource none."""
        traces = construct.get("stackTraces")
        frames = cdk_sources.user_frames(traces) if isinstance(traces, list) else []
        frame = self.finder.best(frames)
        return finding if frame is None else self._moved(finding, frame)

    def _moved(self, finding: Finding, frame: cdk_sources.Frame) -> Finding:
        if not frame.in_repo:
            return replace(finding, message=f"{finding.message} (defined at {frame.uri}:{frame.line})")
        return replace(finding, location=Location(frame.uri, frame.line, frame.line), related=(finding.location, *finding.related))

    def _line_of(self, path: str) -> int:
        """The report line naming the construct, for a construct found in no template."""
        if self._text is None:
            try:
                self._text = Path(self.report.path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._text = ""
        position = self._text.find(f'"constructPath": "{path}"') if path else -1
        return self._text.count("\n", 0, position) + 1 if position >= 0 else 1


def _acknowledged(finding: Finding, violation: Mapping[str, Any]) -> Finding:
    """A violation the app acknowledged (`Validations.of(x).acknowledge(...)`): suppressed, with
    the acknowledgement's reason (an audit with `--no-suppressions` reopens it)."""
    ack_id = str(violation.get("acknowledgedId", "")) or finding.rule_id
    where = str(violation.get("acknowledgedAt", "")) or (finding.resource.name if finding.resource else "")
    return finding.with_status(Status.SUPPRESSED, acknowledgement_reason(where, ack_id, str(violation.get("reason", ""))))


def create(settings: Settings) -> CdkValidationEngine:
    return CdkValidationEngine()
