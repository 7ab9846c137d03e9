"""Resources CDK adds for its own machinery, and the findings on them that only CDK can change.

Some constructs bring resources the user never wrote: `autoDeleteObjects: true` adds a
custom-resource provider (a Lambda function and its role), `logRetention` a log-retention
function, `addEventNotification` a bucket-notifications handler. Their runtime, role, tracing,
concurrency and tags are CDK's choice, tag aspects do not reach them, and the `DependsOn` CDK
generates are not the user's either. Findings about those are marked SUPPRESSED ("CDK framework
resource"), never dropped: an audit (`--no-suppressions`) shows them. Where the user's option
caused the resources, one note (IDP064) on that construct says so.

`FRAMEWORK` is the list, as data: how each is recognised (a construct-path segment CDK uses for
it) and which construct and option cause it (the custom resource CDK places under the user's
construct). A framework construct is also recognised by the metadata CDK writes on custom
resource providers (`aws:cdk:is-custom-resource-handler-*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from scanner.failures import failure
from scanner.model import Artifact, Finding, Location, ResourceId, Status


@dataclass(frozen=True)
class FrameworkResource:
    name: str
    segment: re.Pattern[str]  # a construct-path segment of the framework construct
    cause: re.Pattern[str] | None = None  # the custom resource CDK puts below the user's construct (its path ends so)
    option: str = ""  # what the user wrote that adds it


FRAMEWORK: tuple[FrameworkResource, ...] = (
    FrameworkResource("S3 auto-delete-objects provider", re.compile(r"^Custom::S3AutoDeleteObjectsCustomResourceProvider$"),
                      re.compile(r"/AutoDeleteObjectsCustomResource/Default$"), "autoDeleteObjects: true"),
    FrameworkResource("ECR auto-delete-images provider", re.compile(r"^Custom::ECRAutoDeleteImagesCustomResourceProvider$"),
                      re.compile(r"/AutoDeleteImagesCustomResource/Default$"), "emptyOnDelete: true"),
    FrameworkResource("log-retention function", re.compile(r"^LogRetention[0-9a-f]{32}$"),
                      re.compile(r"/LogRetention/Resource$"), "logRetention"),
    FrameworkResource("bucket-notifications handler", re.compile(r"^BucketNotificationsHandler[0-9a-f]{32}$"),
                      re.compile(r"/Notifications/Resource$"), "addEventNotification (or another bucket notification)"),
    FrameworkResource("default-security-group restriction provider", re.compile(r"^Custom::VpcRestrictDefaultSGCustomResourceProvider$"),
                      re.compile(r"/RestrictDefaultSecurityGroupCustomResource/Default$"), "restrictDefaultSecurityGroup (the default of new VPCs)"),
    FrameworkResource("bucket-deployment handler", re.compile(r"^Custom::CDKBucketDeployment[0-9A-Fa-f]{32}"),
                      re.compile(r"/CustomResource/Default$"), "BucketDeployment"),
    FrameworkResource("AwsCustomResource function", re.compile(r"^AWS679f53fac002430cb0da5b7982bd2287$"), None, "AwsCustomResource"),
    FrameworkResource("custom-resource provider framework", re.compile(r"^(framework-onEvent|framework-isComplete|framework-onTimeout|waiter-state-machine)$")),
    FrameworkResource("custom-resource provider", re.compile(r"^Custom::\w+CustomResourceProvider$")),
)

# What only CDK can change on its own resources: the Lambda settings of its handlers (reserved
# concurrency, dead-letter queue, VPC, tracing, runtime, environment encryption), their managed
# policies and wildcards, and their tags, which tag aspects do not reach.
FRAMEWORK_RULES = frozenset({
    "CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173", "CKV_AWS_363", "CKV_AWS_111", "CKV_AWS_107", "CKV_AWS_108",
    "IDP-OBS-001", "IDP-TAG-001", "IDP-LAMBDA-001", "IDP-LOG-001",
    "AwsSolutions-IAM4", "AwsSolutions-IAM5", "AwsSolutions-L1",
    "W3005", "I1022", "W2531",
})
# Findings CDK's own synthesis causes on any resource: the DependsOn it generates.
GENERATED_RULES = frozenset({"W3005"})

HANDLER_METADATA = "aws:cdk:is-custom-resource-handler-"
REASON = "CDK framework resource"


def rule_base(rule_id: str) -> str:
    """`AwsSolutions-IAM5[Resource::*]` -> `AwsSolutions-IAM5`."""
    return rule_id.split("[", 1)[0]


def framework_of(construct_path: str, handlers: Iterable[str] = ()) -> FrameworkResource | None:
    """The framework entry a construct path belongs to, if any."""
    for segment in construct_path.split("/"):
        for entry in FRAMEWORK:
            if entry.segment.match(segment):
                return entry
    if any(construct_path == h or construct_path.startswith(h + "/") for h in handlers):
        return FRAMEWORK[-1]
    return None


def handler_paths(metadata: Mapping[str, Sequence[Mapping[str, object]]]) -> list[str]:
    """Construct paths CDK marks as custom-resource handlers in the stack metadata."""
    return sorted(path.lstrip("/") for path, entries in metadata.items()
                  if any(str(e.get("type", "")).startswith(HANDLER_METADATA) for e in entries))


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
        resource = ResourceId("cdk", owner, _type_of(template, logical_id), logical_id, stack)
        where: Location = template.locate(("Resources", logical_id)) if logical_id else Location(template.uri)
        return failure("IDP064", message, Location(where.uri, where.start_line, where.start_line), resource)


def _type_of(template: Artifact, logical_id: str) -> str:
    resources = template.data.get("Resources") if isinstance(template.data, Mapping) else None
    body = resources.get(logical_id) if isinstance(resources, Mapping) else None
    return str(body.get("Type", "")) if isinstance(body, Mapping) else ""
