"""The cdk-validation engine: aws-cdk-lib's own validation report as idp-scan findings.

`cdk synth` writes `cdk.out/validation-report.json` when policy validation plugins ran (the
built-in CloudFormation validation, cdk-nag v3 rule packs, CfnGuard plugins). Each violating
construct becomes a finding under the violation's rule name, at the template line of its
resource (and property), named by construct path, so cdk-nag users get SARIF and one merge
gate. The rules are only known once a report was read, so `rules()` lists what `scan` saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scanner.inputs import cdk, cdk_sources, cfn
from scanner.model import Artifact, Finding, Location, PropertyPath, RuleMeta, Severity
from scanner.settings import Settings

ENGINE = "cdk-validation"

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


class CdkValidationEngine:
    name = ENGINE
    cross_file = True  # a report names templates loaded as other artifacts; rules are learnt in scan
    rules_from_scan = True  # its rule ids are the report's own: known only after reading it

    def __init__(self) -> None:
        self._rules: dict[str, RuleMeta] = {}

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._rules.values())

    def accepts(self, artifact: Artifact) -> bool:
        return artifact.kind == cdk.REPORT_KIND or (artifact.kind == cfn.KIND and "cdk" in artifact.context)

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        templates = {Path(a.path).resolve(): a for a in artifacts if a.kind == cfn.KIND}
        for report in (a for a in artifacts if a.kind == cdk.REPORT_KIND):
            plugins = report.data.get("pluginReports", [])
            for plugin in plugins if isinstance(plugins, list) else []:
                if isinstance(plugin, Mapping):
                    yield from self._plugin(plugin, report, templates)

    def _plugin(self, plugin: Mapping[str, Any], report: Artifact, templates: Mapping[Path, Artifact]) -> Iterator[Finding]:
        name = str(plugin.get("pluginName", "CDK validation"))
        conclusion = str(plugin.get("conclusion", ""))
        violations = plugin.get("violations", [])
        for violation in violations if isinstance(violations, list) else []:
            if not isinstance(violation, Mapping) or not violation.get("ruleName"):
                continue
            meta = self._meta(violation, name, severity_of(violation, conclusion))
            constructs = violation.get("violatingConstructs", [])
            for construct in constructs if isinstance(constructs, list) else []:
                if isinstance(construct, Mapping):
                    yield self._finding(meta, violation, construct, report, templates)

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

    def _finding(self, meta: RuleMeta, violation: Mapping[str, Any], construct: Mapping[str, Any], report: Artifact, templates: Mapping[Path, Artifact]) -> Finding:
        path = str(construct.get("constructPath", ""))
        resource = construct.get("cloudFormationResource")
        resource = resource if isinstance(resource, Mapping) else {}
        template = templates.get((Path(report.context["assembly_dir"]) / str(resource.get("templatePath", ""))).resolve())
        logical_id = str(resource.get("logicalId", ""))
        message = str(violation.get("description", meta.title))
        if violation.get("suggestedFix"):
            message += f" Fix: {violation['suggestedFix']}"
        if template is None or not logical_id:
            return Finding(meta.id, ENGINE, meta.severity, f"{path}: {message}" if path else message, Location(report.uri))
        property_paths = resource.get("propertyPaths", [])
        first = property_path(str(property_paths[0])) if isinstance(property_paths, list) and property_paths else ()
        return Finding(
            rule_id=meta.id,
            engine=ENGINE,
            severity=meta.severity,
            message=message,
            location=template.locate(("Resources", logical_id, *first)),
            resource=cdk_sources.stack_resource(template, logical_id),
        )


def create(settings: Settings) -> CdkValidationEngine:
    return CdkValidationEngine()
