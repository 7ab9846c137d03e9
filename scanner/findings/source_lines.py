"""Findings in CDK templates placed where the user wrote them, after the engines.

Only reads what the CDK input recorded on each template when it was loaded (`inputs.cdk`):
construct paths by logical id (`construct_paths`), source frames by logical id and property
(`cdk.sources`), the paths CDK adds for itself (`cdk.plumbing`), acknowledgements of other
engines' rules (`cdk.acknowledged`) and CDK's custom-resource handlers (`cdk.handlers`).

`attach_sources` gives every finding in a CDK template its construct path, moves it to that
source line (keeping the template line as a related location), drops findings about CDK
plumbing, and marks the ones the app acknowledged and the ones about CDK's framework
resources (`Framework`, from the list in `inputs.cdk.framework`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from scanner.failures import failure, is_failure
from scanner.inputs import cfn
from scanner.inputs.cdk.framework import FRAMEWORK, FRAMEWORK_RULES, GENERATED_RULES, REASON, FrameworkResource, framework_of, rule_base
from scanner.inputs.cdk.sources import Frame
from scanner.inputs.cdk.suppressions import acknowledgement_reason
from scanner.inputs.cdk.templates import resource_type
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


def attach_sources(findings: Sequence[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """Name findings in CDK templates by construct path, point them at the user's source line,
    drop the ones about CDK plumbing (the scanner's own failures are never dropped), mark the
    ones the app acknowledged and the ones about CDK's framework resources (`Framework`)."""
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
        if not is_failure(finding) and _in_plumbing(artifact, finding.location.start_line):
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
        resource = cfn.resource_identity(artifact, logical_id, (resource.type if resource else "") or resource_type(artifact, logical_id))
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


class Framework:
    """Marks findings on CDK's framework resources, and notes the user's constructs that add them."""

    def __init__(self, templates: Iterable[Artifact]) -> None:
        self._templates = list(templates)
        self._handlers = [h for t in self._templates for h in t.context["cdk"].get("handlers", ())]

    def mark(self, finding: Finding) -> Finding:
        if finding.status is not Status.OPEN or finding.resource is None or finding.resource.kind != "cdk":
            return finding
        rule = rule_base(finding.rule_id)
        entry = framework_of(finding.resource.name, self._handlers)
        if entry is not None and rule in FRAMEWORK_RULES:
            return finding.with_status(Status.SUPPRESSED, f"{REASON}: {entry.name} ({rule} is set by CDK, not by the app)")
        if rule in GENERATED_RULES:
            return finding.with_status(Status.SUPPRESSED, f"{REASON}: the DependsOn CDK generates ({rule})")
        return finding

    def notes(self, findings: Iterable[Finding]) -> list[Finding]:
        """One note per user construct whose options added framework resources on which
        `findings` (the selected ones) hold something marked."""
        marked: dict[tuple[str, str], set[str]] = {}  # (stack, framework entry) -> rules marked
        for finding in findings:
            if finding.status is Status.SUPPRESSED and finding.status_reason.startswith(REASON + ":") and finding.resource is not None:
                entry = framework_of(finding.resource.name, self._handlers)
                if entry is not None:
                    marked.setdefault((finding.resource.stack, entry.name), set()).add(rule_base(finding.rule_id))
        out: list[Finding] = []
        for template in self._templates:
            stack = str(template.context.get("stack", ""))
            paths: Mapping[str, str] = template.context.get("construct_paths", {})
            causes: dict[str, list[set[str]]] = {}
            named: dict[str, list[FrameworkResource]] = {}  # the user's construct -> what it added
            for path in sorted(paths.values()):
                for entry in FRAMEWORK:
                    match = entry.cause.search(path) if entry.cause is not None else None
                    if match is not None and (stack, entry.name) in marked:
                        named.setdefault(path[:match.start()], []).append(entry)
                        causes.setdefault(path[:match.start()], []).append(marked[(stack, entry.name)])
            out.extend(self._note(template, owner, entries, set().union(*causes[owner])) for owner, entries in named.items())
        return out

    def _note(self, template: Artifact, owner: str, entries: Sequence[FrameworkResource], marked: set[str]) -> Finding:
        stack = str(template.context.get("stack", ""))
        by_path = {path: logical_id for logical_id, path in template.context.get("construct_paths", {}).items()}
        logical_id = by_path.get(f"{owner}/Resource") or by_path.get(owner) or ""
        rules = sorted(marked)
        added = "; ".join(f"`{e.option}` adds CDK's {e.name}" for e in entries)
        message = (f"On {owner}, {added}. What is found on those resources ({', '.join(rules)}) only CDK can change, "
                   f"so it is marked suppressed ({REASON}).")
        resource = ResourceId("cdk", owner, resource_type(template, logical_id), logical_id, stack)
        where: Location = template.locate(("Resources", logical_id)) if logical_id else Location(template.uri)
        return failure("IDP064", message, Location(where.uri, where.start_line, where.start_line), resource)
