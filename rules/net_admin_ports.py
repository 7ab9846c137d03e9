from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation
from scanner.terraform_helpers import blocks, is_terraform

WORLD_CIDRS = ("0.0.0.0/0", "::/0")
TF_CIDR_KEYS = ("cidr_blocks", "ipv6_cidr_blocks")
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
ALL_PROTOCOLS = {"-1", "all"}
TCP = {"tcp", "6"}


@dataclass(frozen=True)
class Ingress:
    """One ingress rule in any format: where it stands and what it opens to whom."""

    path: PropertyPath
    protocol: Any
    from_port: Any
    to_port: Any
    sources: tuple[tuple[PropertyPath, Any], ...]  # (path, CIDR) pairs


def exposed_ports(rule: Ingress, ports: Mapping[int, str]) -> list[str]:
    """Names of the given ports that an ingress rule opens (all of them for protocol -1)."""
    if rule.protocol is UNKNOWN:
        return []
    protocol = str(rule.protocol).lower()
    if protocol in ALL_PROTOCOLS:
        return [f"{name} ({port})" for port, name in ports.items()]
    if protocol not in TCP:
        return []
    if rule.from_port is UNKNOWN or rule.to_port is UNKNOWN:
        return []
    try:
        low, high = int(rule.from_port), int(rule.to_port)
    except (TypeError, ValueError):
        return []
    if low == -1 and high == -1:
        return [f"{name} ({port})" for port, name in ports.items()]
    return [f"{name} ({port})" for port, name in ports.items() if low <= port <= high]


def opens_all_ports(rule: Ingress) -> bool:
    """Protocol -1 (every protocol), or TCP ports 0-65535 / -1: one concern, reported once by
    IDP-NET-001 as "all ports", not once per port family by every network rule."""
    if rule.protocol is UNKNOWN:
        return False
    protocol = str(rule.protocol).lower()
    if protocol in ALL_PROTOCOLS:
        return True
    try:
        low, high = int(rule.from_port), int(rule.to_port)
    except (TypeError, ValueError):
        return False
    return protocol in TCP and (low, high) in ((-1, -1), (0, 65535), (1, 65535))


def ingress_key(rule: Ingress, cidr: str) -> str:
    """What an ingress rule opens, independent of its place in a list: `tcp/22-22/0.0.0.0/0`."""
    return f"{str(rule.protocol).lower()}/{rule.from_port}-{rule.to_port}/{cidr}"


def world_source(rule: Ingress) -> tuple[PropertyPath, str] | None:
    for path, cidr in rule.sources:
        if cidr in WORLD_CIDRS:
            return path, str(cidr)
    return None


def cfn_ingress_rules(resource: Resource, ctx: RuleContext) -> Iterator[Ingress]:
    """Inline rules of a security group, or the standalone ingress resource itself."""
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        found: Iterator[tuple[PropertyPath, Mapping[str, Any]]] = iter([((), resource.properties)])
    else:
        inline = resource.properties.get("SecurityGroupIngress", [])
        found = (
            (("SecurityGroupIngress", index), rule)
            for index, rule in enumerate(inline if isinstance(inline, list) else [])
            if isinstance(rule, Mapping)
        )
    for path, rule in found:
        yield Ingress(
            path,
            ctx.resolve(rule.get("IpProtocol")),
            ctx.resolve(rule.get("FromPort", -1)),
            ctx.resolve(rule.get("ToPort", -1)),
            tuple(((*path, key), ctx.resolve(rule.get(key))) for key in ("CidrIp", "CidrIpv6")),
        )


def _cidrs(rule: Mapping[str, Any], path: PropertyPath, keys: tuple[str, ...]) -> tuple[tuple[PropertyPath, Any], ...]:
    sources: list[tuple[PropertyPath, Any]] = []
    for key in keys:
        value = rule.get(key)
        for index, cidr in enumerate(value if isinstance(value, list) else [value]):
            sources.append(((*path, key) if not isinstance(value, list) else (*path, key, index), cidr))
    return tuple(sources)


def terraform_ingress_rules(resource: Resource) -> Iterator[Ingress]:
    """`ingress` blocks of aws_security_group, `type = "ingress"` aws_security_group_rule,
    and aws_vpc_security_group_ingress_rule (`ip_protocol`, `cidr_ipv4`, `cidr_ipv6`)."""
    properties = resource.properties
    if resource.type == "aws_vpc_security_group_ingress_rule":
        yield Ingress((), properties.get("ip_protocol", UNKNOWN), properties.get("from_port", -1),
                      properties.get("to_port", -1), _cidrs(properties, (), ("cidr_ipv4", "cidr_ipv6")))
        return
    if resource.type == "aws_security_group_rule":
        if properties.get("type") == "ingress":
            yield Ingress((), properties.get("protocol", UNKNOWN), properties.get("from_port", UNKNOWN),
                          properties.get("to_port", UNKNOWN), _cidrs(properties, (), TF_CIDR_KEYS))
        return
    for index, rule in blocks(properties, "ingress"):
        path = ("ingress", index)
        yield Ingress(path, rule.get("protocol", UNKNOWN), rule.get("from_port", UNKNOWN),
                      rule.get("to_port", UNKNOWN), _cidrs(rule, path, TF_CIDR_KEYS))


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
    resource_types = (
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
    )
    tags = ("security", "network", "CIS-AWS-5.2", "NIST-800-53-SC-7")
    # CKV_AWS_260 (port 80) is not an admin port: not an alias. CKV_AWS_277 (all ports) is
    # folded in through the equivalence table (scanner/findings/concerns.py).
    aliases = ("CKV_AWS_24", "CKV_AWS_25")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        rules = terraform_ingress_rules(resource) if is_terraform(resource) else cfn_ingress_rules(resource, ctx)
        for rule in rules:
            source = world_source(rule)
            if source is None:
                continue
            if opens_all_ports(rule):
                yield Violation(source[0], f"{resource.id.name} allows all ports (SSH and RDP among them) from {source[1]}.", ingress_key(rule, source[1]))
                continue
            ports = exposed_ports(rule, ADMIN_PORTS)
            if ports:
                yield Violation(source[0], f"{resource.id.name} allows {' and '.join(ports)} from {source[1]}.", ingress_key(rule, source[1]))
