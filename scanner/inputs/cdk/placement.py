"""After the engines: findings in CDK templates named by construct path and placed on the
user's source line, from the facts `assembly` recorded on each template at load time.

`attach_sources` gives every finding in a CDK template its construct path, moves it to that
source line (keeping the template line as a related location), drops findings about CDK
plumbing, and marks the ones the app acknowledged and the ones about CDK's framework
resources (`framework`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from scanner.inputs import cfn
from scanner.inputs.cdk.framework import Framework
from scanner.inputs.cdk.sources import Frame
from scanner.model import Artifact, Finding, Location, ResourceId, Status


def _resource_at(artifact: Artifact, line: int) -> str | None:
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    for logical_id in resources if isinstance(resources, Mapping) else ():
        span = artifact.lines.get(("Resources", logical_id))
        if span is not None and span[0] <= line <= span[1]:
            return str(logical_id)
    return None


def _property_at(artifact: Artifact, logical_id: str, line: int) -> str:
    body = artifact.data.get("Resources", {}).get(logical_id) if isinstance(artifact.data, Mapping) else None
    properties = body.get("Properties") if isinstance(body, Mapping) else None
    for name in properties if isinstance(properties, Mapping) else ():
        span = artifact.lines.get(("Resources", logical_id, "Properties", name))
        if span is not None and span[0] <= line <= span[1]:
            return str(name)
    return ""


def _in_plumbing(artifact: Artifact, line: int) -> bool:
    for path in artifact.context.get("cdk", {}).get("plumbing", ()):
        span = artifact.lines.get(tuple(path))
        if span is not None and span[0] <= line <= span[1]:
            return True
    return False


def _resource_type(artifact: Artifact, logical_id: str) -> str:
    body = artifact.data.get("Resources", {}).get(logical_id) if isinstance(artifact.data, Mapping) else None
    return str(body.get("Type", "")) if isinstance(body, Mapping) else ""


def attach_sources(findings: Sequence[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """Name findings in CDK templates by construct path, point them at the user's source line,
    drop the ones about CDK plumbing (the scanner's own failures are never dropped), mark the
    ones the app acknowledged and the ones about CDK's framework resources (`cdk_framework`)."""
    templates = {a.uri: a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context}
    if not templates:
        return list(findings)
    acknowledged = Acknowledgements(templates.values())
    framework = Framework(templates.values())
    out: list[Finding] = []
    for finding in findings:
        artifact = templates.get(finding.location.uri)
        if artifact is None:
            out.append(framework.mark(acknowledged.mark(finding)))
            continue
        if finding.engine != "idp-scan" and _in_plumbing(artifact, finding.location.start_line):
            continue
        out.append(framework.mark(acknowledged.mark(_with_source(finding, artifact))))
    return out


def framework_notes(findings: Sequence[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """IDP064 notes on the user's constructs whose options made CDK add framework resources that
    hold marked findings among `findings` (the selected ones: a run that selects no such rule
    gets no note)."""
    templates = {a.uri: a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context}
    if not templates:
        return []
    notes = Framework(templates.values()).notes(findings)
    return [_with_source(note, templates[note.location.uri]) for note in notes]


def acknowledgement_reason(construct_path: str, ack_id: str, reason: str) -> str:
    return f"acknowledged in CDK code at {construct_path} ({ack_id}): {reason.strip()}"


class Acknowledgements:
    """`Validations.of(x).acknowledge(...)` of another engine's rule (`CloudFormation-Validate::W3045`
    is cfn-lint's W3045): marks that rule's open findings on x and below as SUPPRESSED, with the
    acknowledgement's reason. aws-cdk-lib writes some itself (W3045 wherever `accessControl` is
    set, W3010 where a stack reads `availabilityZones`), so one matching nothing is no finding."""

    def __init__(self, templates: Iterable[Artifact]) -> None:
        self._by_rule: dict[str, list[tuple[str, str, str]]] = {}
        for template in templates:
            for entry in template.context["cdk"].get("acknowledged", ()):
                path, ack_id, rule_id, reason = (str(part) for part in entry)
                self._by_rule.setdefault(rule_id, []).append((path, ack_id, reason))

    def mark(self, finding: Finding) -> Finding:
        if finding.status is not Status.OPEN or finding.resource is None or finding.resource.kind != "cdk":
            return finding
        name = finding.resource.name
        for path, ack_id, reason in self._by_rule.get(finding.rule_id, ()):
            if name == path or name.startswith(path + "/"):
                return finding.with_status(Status.SUPPRESSED, acknowledgement_reason(path, ack_id, reason))
        return finding


def _with_source(finding: Finding, artifact: Artifact) -> Finding:
    line = finding.location.start_line
    logical_id = (finding.resource.logical_id if finding.resource else "") or _resource_at(artifact, line)
    if not logical_id:
        return finding
    resource = finding.resource
    if resource is None or resource.kind == cfn.KIND:
        resource = cfn.resource_identity(artifact, logical_id, (resource.type if resource else "") or _resource_type(artifact, logical_id))
    finding = replace(finding, resource=resource)
    sources: Mapping[str, Frame] = artifact.context["cdk"]["sources"].get(logical_id, {})
    found = sources.get(_property_at(artifact, logical_id, line)) or sources.get("")
    if found is None:
        return finding
    frame = Frame(*found)
    if not frame.in_repo:
        return replace(finding, message=f"{finding.message} (defined at {frame.uri}:{frame.line})")
    # The template stays the artifact judged: the fingerprint does not depend on how synth ran.
    return replace(finding, location=Location(frame.uri, frame.line, frame.line), related=(finding.location, *finding.related),
                   artifact=finding.artifact or finding.location.uri)


def stack_resource(artifact: Artifact, logical_id: str) -> ResourceId:
    return cfn.resource_identity(artifact, logical_id, _resource_type(artifact, logical_id))
