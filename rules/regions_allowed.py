from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import option

AVAILABILITY_ZONE = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d+)[a-z]$")


def _region_properties(resource: Resource) -> Iterator[tuple[PropertyPath, Any]]:
    """(path, region) of every region a resource names explicitly."""
    props, kind = resource.properties, resource.type
    if kind == "AWS::DynamoDB::GlobalTable":
        for index, replica in enumerate(_items(props.get("Replicas"))):
            yield ("Replicas", index, "Region"), replica.get("Region")
    elif kind == "AWS::CloudFormation::StackSet":
        for index, group in enumerate(_items(props.get("StackInstancesGroup"))):
            regions = group.get("Regions")
            for position, region in enumerate(regions if isinstance(regions, list) else []):
                yield ("StackInstancesGroup", index, "Regions", position), region
    elif kind == "AWS::Route53::RecordSet" and "Region" in props:
        yield ("Region",), props["Region"]
    elif kind in ("AWS::EC2::Subnet", "AWS::EC2::Volume", "AWS::EC2::Instance") and "AvailabilityZone" in props:
        yield ("AvailabilityZone",), props["AvailabilityZone"]
    elif kind.startswith("aws_") or kind == "provider":
        # AWS provider v6 takes `region` on every resource; `provider` blocks are pseudo-resources.
        if "region" in props:
            yield ("region",), props["region"]
        for index, replica in enumerate(_items(props.get("replica"))):
            if "region_name" in replica:
                yield ("replica", index, "region_name"), replica["region_name"]


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _region(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    zone = AVAILABILITY_ZONE.match(value.strip())
    return zone.group(1) if zone else value.strip()


def artifact_region(ctx: RuleContext) -> str | None:
    """The region an artifact deploys to: `region`, or a CDK environment `aws://account/region`."""
    context = ctx.artifact.context
    region = context.get("region")
    environment = context.get("environment")
    if isinstance(environment, str) and environment.startswith("aws://"):
        region = region or environment.rsplit("/", 1)[-1]
    return region if isinstance(region, str) and region not in ("", "unknown-region") else None


class AllowedRegions(Rule):
    """Resources must be deployed only in the organisation's allowed regions.

    Data residency, the landing zone's guardrails (CloudTrail, Config, GuardDuty, backups) and
    the platform's support all exist only in the regions the organisation chose; a resource
    elsewhere is outside all of them, and an SCP will usually reject it at deploy time, after
    the merge. The allow-list is `regions.allowed` in the configuration: without it this rule
    checks nothing. Checked: a CDK stack's environment (`aws://account/region` in the
    manifest), the region of every Terraform provider configuration (aliases and providers
    configured in modules included, in HCL and in plans; reported at the configuration), explicit region properties (DynamoDB global table replicas, StackSet instances,
    Route 53 latency records, availability zones, Terraform `region` and `replica` arguments).
    Regions only known at deploy time (`AWS::Region`, an environment-agnostic CDK stack) pass.

    **CloudFormation:** deploy the stack to an allowed region; list only allowed regions in
    `Replicas` and `StackInstancesGroup`.

    **CDK:** `new MyStack(app, 'Prod', { env: { account: '123456789012', region: 'eu-west-1' } });`

    **Terraform:** `provider "aws" { region = "eu-west-1" }`
    """

    id = "IDP-REGION-001"
    severity = Severity.ERROR
    security_severity = 5.0
    resource_types = ()
    tags = ("governance", "guardrail", "paved-road", "NIST-800-53-SC-7", "NIST-800-53-SA-9")
    aliases = ()  # checkov has no configurable region allow-list

    def applies_to(self, resource: Resource) -> bool:
        return True

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        allowed = [str(region) for region in option(ctx, "regions", "allowed", default=[]) or []]
        if not allowed:
            return
        region = artifact_region(ctx)
        if region and region not in allowed and ctx.resources and ctx.resources[0].id == resource.id:
            yield Violation((), f"{ctx.artifact.uri} deploys to {region}, which is not an allowed region ({', '.join(allowed)}).")
        for path, raw in _region_properties(resource):
            value = ctx.resolve(raw)
            named = _region(value) if value is not UNKNOWN else None
            if named and "${" not in named and named not in allowed:
                yield Violation(path, f"{resource.id.name} names the region {named}, which is not allowed ({', '.join(allowed)}).")
