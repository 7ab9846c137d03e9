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
resource providers (`aws:cdk:is-custom-resource-handler-*`), whose paths the loader records
(`handler_paths`); marking the findings after the engines is `scanner.findings.source_lines.Framework`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence


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
