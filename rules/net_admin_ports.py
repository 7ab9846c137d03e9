from __future__ import annotations

from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

WORLD = {"CidrIp": "0.0.0.0/0", "CidrIpv6": "::/0"}
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
ALL_PROTOCOLS = {"-1", "all"}
TCP = {"tcp", "6"}


def exposed_ports(rule: Mapping[str, Any], ctx: RuleContext, ports: Mapping[int, str]) -> list[str]:
    """Names of the given ports that an ingress rule opens (all of them for protocol -1)."""
    protocol = ctx.resolve(rule.get("IpProtocol"))
    if protocol is UNKNOWN:
        return []
    protocol = str(protocol).lower()
    if protocol in ALL_PROTOCOLS:
        return [f"{name} ({port})" for port, name in ports.items()]
    if protocol not in TCP:
        return []
    low, high = ctx.resolve(rule.get("FromPort", -1)), ctx.resolve(rule.get("ToPort", -1))
    if low is UNKNOWN or high is UNKNOWN:
        return []
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError):
        return []
    if low == -1 and high == -1:
        return [f"{name} ({port})" for port, name in ports.items()]
    return [f"{name} ({port})" for port, name in ports.items() if low <= port <= high]


def world_source(rule: Mapping[str, Any], ctx: RuleContext) -> str | None:
    for key, world in WORLD.items():
        if ctx.resolve(rule.get(key)) == world:
            return key
    return None


def ingress_rules(resource: Resource) -> Iterator[tuple[PropertyPath, Mapping[str, Any]]]:
    """Inline rules of a security group, or the standalone ingress resource itself."""
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        yield (), resource.properties
        return
    inline = resource.properties.get("SecurityGroupIngress", [])
    if isinstance(inline, list):
        for index, rule in enumerate(inline):
            if isinstance(rule, Mapping):
                yield ("SecurityGroupIngress", index), rule


class AdminPortsOpenToWorld(Rule):
    """Security groups must not open SSH or RDP to the whole internet.

    Port 22 (SSH) and 3389 (RDP) open to `0.0.0.0/0` or `::/0` are scanned by bots within
    minutes of a deploy; one weak credential or unpatched daemon is a foothold in the VPC.
    A rule that opens all ports (protocol `-1`) opens these too. The platform's way in is
    AWS Systems Manager Session Manager, which needs no inbound port at all.

    **CloudFormation:** remove the ingress rule, or narrow `CidrIp` to the corporate range.

    **CDK:**
    ```ts
    // instead of sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22))
    sg.addIngressRule(ec2.Peer.ipv4('10.0.0.0/8'), ec2.Port.tcp(22), 'SSH from the VPN');
    // better: no ingress, and ssm:StartSession for the instance role
    ```

    **Terraform:**
    ```hcl
    ingress {
      from_port   = 22
      to_port     = 22
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
    ```
    """

    id = "IDP-NET-001"
    severity = Severity.ERROR
    security_severity = 8.6
    resource_types = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress")
    tags = ("security", "network", "CIS-AWS-5.2", "NIST-800-53-SC-7")
    aliases = ("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        for path, rule in ingress_rules(resource):
            source = world_source(rule, ctx)
            if source is None:
                continue
            ports = exposed_ports(rule, ctx, ADMIN_PORTS)
            if ports:
                yield Violation((*path, source), f"{resource.id.name} allows {' and '.join(ports)} from {WORLD[source]}.")
