"""SARIF 2.1.0 for GitHub code scanning, built with sarif-om's classes.

Suppressed and baselined findings are left out unless asked for: GitHub does not honour
SARIF `suppressions`, so an included suppressed result would still open an alert.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attr
import sarif_om as om

from scanner import __version__
from scanner.model import Finding, Location, RuleMeta, ScanResult, Status
from scanner.reports import ReportOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/idp-scan/idp-scan"
MAX_DESCRIPTION = 1024
MAX_TAGS = 20


def to_json_data(value: Any) -> Any:
    """sarif-om objects to plain JSON data, using each attribute's schema name, skipping unset ones."""
    if attr.has(type(value)):
        out: dict[str, Any] = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            if item is None or item is field.default and field.default is not attr.NOTHING and field.name != "version":
                continue
            out[field.metadata.get("schema_property_name", field.name)] = to_json_data(item)
        return out
    if isinstance(value, dict):
        return {key: to_json_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_data(item) for item in value]
    return value


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _rule_name(meta: RuleMeta) -> str:
    words = re.findall(r"[A-Za-z0-9]+", meta.title) or [meta.id]
    return "".join(word[:1].upper() + word[1:] for word in words)


def _descriptor(meta: RuleMeta) -> om.ReportingDescriptor:
    title = meta.title or meta.id
    help_markdown = f"**{title}**\n\n{meta.help_markdown}".strip()
    help_text = re.sub(r"[*`]", "", help_markdown)
    tags = list(dict.fromkeys((*meta.tags, meta.engine)))[:MAX_TAGS]
    return om.ReportingDescriptor(
        id=meta.id,
        name=_rule_name(meta),
        short_description=om.MultiformatMessageString(text=_clip(title)),
        full_description=om.MultiformatMessageString(text=_clip(help_text.split("\n\n")[1] if "\n\n" in help_text else title)),
        help=om.MultiformatMessageString(text=help_text, markdown=help_markdown),
        help_uri=meta.help_uri or None,
        default_configuration=om.ReportingConfiguration(level=meta.severity.value),
        properties={
            "tags": tags,
            "security-severity": meta.security_severity_text,
            "precision": "high",
            "engine": meta.engine,
            "aliases": list(meta.aliases),
        },
    )


def _physical(location: Location) -> om.PhysicalLocation:
    return om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=location.uri, uri_base_id="%SRCROOT%"),
        region=om.Region(start_line=location.start_line, end_line=location.end_line),
    )


def _related_text(related: Location) -> str:
    # A CDK finding sits on the user's source line; its related location is the template.
    return "Synthesized CloudFormation template" if related.uri.endswith(".template.json") else "Source of this resource"


def _result(finding: Finding, rule_index: int) -> om.Result:
    location = om.Location(physical_location=_physical(finding.location))
    if finding.resource is not None:
        location.logical_locations = [
            om.LogicalLocation(
                name=finding.resource.logical_id or finding.resource.name,
                fully_qualified_name=finding.resource.name,
                kind="resource",
            )
        ]
    message = finding.message
    if finding.resource is not None and finding.resource.name not in message:
        message = f"{message} ({finding.resource.display})"
    properties: dict[str, Any] = {"engine": finding.engine}
    if finding.also_reported_as:
        properties["alsoReportedAs"] = list(finding.also_reported_as)
    if finding.status is not Status.OPEN:
        properties["status"] = finding.status.value
        properties["statusReason"] = finding.status_reason
    if finding.resource is not None and finding.resource.type:
        properties["resourceType"] = finding.resource.type
    # What `idp-scan merge` needs to recompute the fingerprint of a shard's result.
    if finding.key:
        properties["instance"] = finding.key
    if finding.artifact and finding.artifact != finding.location.uri:
        properties["artifact"] = finding.artifact
    return om.Result(
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=finding.severity.value,
        message=om.Message(text=message),
        locations=[location],
        related_locations=[
            om.Location(id=index, physical_location=_physical(related), message=om.Message(text=_related_text(related)))
            for index, related in enumerate(finding.related, start=1)
        ]
        or None,
        partial_fingerprints={"primaryLocationLineHash": finding.fingerprint, "idpScanFingerprint/v1": finding.fingerprint},
        properties=properties,
    )


def build_log(result: ScanResult, options: ReportOptions) -> om.SarifLog:
    shown = [f for f in result.findings if options.include_suppressed or f.status is Status.OPEN]
    rule_ids = sorted({f.rule_id for f in shown})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    first = {f.rule_id: f for f in reversed(shown)}
    # An engine that failed to describe a rule still gets its result reported, never dropped.
    rules = [
        _descriptor(result.rules.get(rule_id) or RuleMeta(rule_id, first[rule_id].engine, first[rule_id].severity, rule_id))
        for rule_id in rule_ids
    ]
    notifications = [
        om.Notification(
            message=om.Message(text=n.message),
            level=n.level.value,
            descriptor=om.ReportingDescriptorReference(id=n.rule_id) if n.rule_id else None,
        )
        for n in result.notifications
    ]
    invocation = om.Invocation(
        execution_successful=result.complete and not any(n.level.value == "error" for n in result.notifications),
        tool_execution_notifications=notifications or None,
        # `scanned` lets `idp-scan merge` judge baseline entries only in files some shard scanned.
        properties={"complete": result.complete, "scanned": list(result.scanned),
                    **({"timings": dict(sorted(result.timings.items()))} if options.stats else {})},
    )
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="idp-scan",
                version=__version__,
                semantic_version=__version__,
                information_uri=INFORMATION_URI,
                rules=rules,
            )
        ),
        results=[_result(f, index[f.rule_id]) for f in shown],
        invocations=[invocation],
        column_kind="utf16CodeUnits",
        original_uri_base_ids={"%SRCROOT%": om.ArtifactLocation(description=om.Message(text="The repository root"))},
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def render(result: ScanResult, options: ReportOptions) -> str:
    return json.dumps(to_json_data(build_log(result, options)), indent=2) + "\n"
