"""Concerns that hold for a whole scope are reported once, where they are fixed.

- A resource a transform generated (SAM's role for its function) shares the block of the
  resource it came from: the same violation of both is one finding, on the written resource,
  naming what it covers (one `Tags` block on the function fixes both).
- A scope-wide rule (a required tag, a preview's expiry) broken the same way by every resource
  of a stack that it applies to is one finding for the stack: the fix is a stack tag
  (`Tags.of(stack)`, `aws cloudformation deploy --tags`), not a tag per resource.

The same violation: the rule's message with the resource's own name taken out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping, Sequence

from scanner.inputs.cdk.framework import framework_of
from scanner.inputs.cdk.stacks import stack_site
from scanner.inputs.transforms import GENERATED_FROM
from scanner.model import Artifact, Finding, Location, ResourceId, Status

STACK_TYPE = "AWS::CloudFormation::Stack"
TEMPLATE_KINDS = ("cloudformation",)
SHOWN = 5  # names listed in a folded message


def folded(findings: Sequence[Finding], artifact: Artifact, applicable: Mapping[str, int],
           scope_wide: frozenset[str]) -> list[Finding]:
    out = _fold_generated(list(findings), artifact)
    return _fold_stack(out, artifact, applicable, scope_wide) if artifact.kind in TEMPLATE_KINDS else out


def _shape(finding: Finding) -> tuple[str, str, str]:
    name = finding.resource.name if finding.resource else ""
    return (finding.rule_id, finding.status.value, finding.message.replace(name, "{resource}") if name else finding.message)


def _fold_generated(findings: list[Finding], artifact: Artifact) -> list[Finding]:
    """The generated resources' findings into their written resource's (see the CFN input's
    `generated_from`: `FnRole` and `FnHourlyRole` from `Fn`)."""
    sources: Mapping[str, str] = artifact.context.get(GENERATED_FROM, {})
    if not sources:
        return findings
    written = {(f.resource.name, _shape(f)): f for f in findings if f.resource is not None and f.resource.name not in sources}
    covered: dict[int, list[str]] = {}
    out: list[Finding] = []
    for finding in findings:
        source = sources.get(finding.resource.name) if finding.resource is not None else None
        owner = written.get((source, _shape(finding))) if source is not None else None
        if owner is not None and finding.resource is not None:
            covered.setdefault(id(owner), []).append(finding.resource.name)
            continue
        out.append(finding)
    return [_covering(f, covered[id(f)], "generated from it") if id(f) in covered else f for f in out]


def users(artifact: Artifact) -> Callable[[str], bool]:
    """Whether a resource is the user's: not one CDK adds for its own machinery (a provider's
    function and role), which a stack tag does not reach and which the CDK input marks."""
    cdk = artifact.context.get("cdk")
    if not isinstance(cdk, Mapping):
        return lambda _name: True
    handlers = tuple(cdk.get("handlers", ()))
    return lambda name: framework_of(name, handlers) is None


def _fold_stack(findings: list[Finding], artifact: Artifact, applicable: Mapping[str, int], scope_wide: frozenset[str]) -> list[Finding]:
    """`applicable`: how many of the user's resources each rule applies to (see `users`)."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    own = users(artifact)
    for finding in findings:
        if finding.rule_id in scope_wide and finding.resource is not None and finding.status is Status.OPEN and own(finding.resource.name):
            groups.setdefault(_shape(finding), []).append(finding)
    whole = {shape: group for shape, group in groups.items()
             if len(group) > 1 and len({f.resource.name for f in group if f.resource}) >= applicable.get(shape[0], 0)}
    if not whole:
        return findings
    folded = {id(f) for group in whole.values() for f in group}
    out = [f for f in findings if id(f) not in folded]
    for (_rule, _status, message), group in whole.items():
        out.append(_stack_finding(group, artifact, message))
    return out


def _stack_finding(group: Sequence[Finding], artifact: Artifact, message: str) -> Finding:
    names = sorted(f.resource.name for f in group if f.resource is not None)
    stack = str(artifact.context.get("stack") or "")
    cdk = artifact.context.get("cdk")
    scope = str(cdk.get("scope") or stack) if isinstance(cdk, Mapping) else stack
    kind = "cdk" if "cdk" in artifact.context else "cloudformation"
    resource = ResourceId(kind, scope or "(stack)", STACK_TYPE, stack=stack)
    what = f"stack {scope}" if scope else "every resource of this template"
    text = message.replace("{resource}", what)
    first = group[0]
    template = Location(artifact.uri, 1, 1)
    declared = _declared_at(artifact)
    return replace(first, message=f"{text} It holds for all {len(names)} resources it applies to ({_listed(names)}): set it once on the stack.",
                   location=declared or template, resource=resource, key=f"stack:{first.key}",
                   related=(template,) if declared else (), artifact=artifact.uri)


def _declared_at(artifact: Artifact) -> Location | None:
    """Where the stack is created in the app's source (`new OrdersStack(app, 'Orders')`), when
    the synth recorded it and the file is in the repository: where a stack tag is added."""
    site = stack_site(artifact)
    frame = site.declared_at if site is not None else None
    return Location(frame.uri, frame.line, frame.line) if frame is not None and frame.in_repo else None


def _covering(finding: Finding, names: Sequence[str], how: str) -> Finding:
    return replace(finding, message=f"{finding.message} It covers {_listed(sorted(names))}, {how}.")


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
