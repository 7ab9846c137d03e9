"""Ingress rules of security groups in every form, normalised for the network rules.

CloudFormation: inline `SecurityGroupIngress` and `AWS::EC2::SecurityGroupIngress`.
Terraform: inline `ingress` blocks of `aws_security_group`, `aws_security_group_rule` with
`type = "ingress"` and `aws_vpc_security_group_ingress_rule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource
from scanner.rule import UNKNOWN, RuleContext

WORLD = ("0.0.0.0/0", "::/0")
ALL_PROTOCOLS = {"-1", "all"}
TCP = {"tcp", "6"}
INGRESS_TYPES = (
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
)


@dataclass(frozen=True)
class Ingress:
    path: PropertyPath
    protocol: Any
    from_port: Any
    to_port: Any
    sources: tuple[tuple[PropertyPath, Any], ...]  # (path, CIDR) pairs, possibly UNKNOWN


def _cfn(path: PropertyPath, rule: Mapping[str, Any]) -> Ingress:
    sources = tuple(((*path, key), rule[key]) for key in ("CidrIp", "CidrIpv6") if key in rule)
    return Ingress(path, rule.get("IpProtocol"), rule.get("FromPort", -1), rule.get("ToPort", -1), sources)


def _tf_block(path: PropertyPath, rule: Mapping[str, Any], protocol_key: str = "protocol") -> Ingress:
    sources: list[tuple[PropertyPath, Any]] = []
    for key in ("cidr_blocks", "ipv6_cidr_blocks"):
        value = rule.get(key)
        if value is UNKNOWN:
            sources.append(((*path, key), UNKNOWN))
        elif isinstance(value, list):
            sources.extend(((*path, key, index), cidr) for index, cidr in enumerate(value))
    for key in ("cidr_ipv4", "cidr_ipv6"):
        if key in rule:
            sources.append(((*path, key), rule[key]))
    return Ingress(path, rule.get(protocol_key), rule.get("from_port", -1), rule.get("to_port", -1), tuple(sources))


def ingress_rules(resource: Resource) -> Iterator[Ingress]:
    props = resource.properties
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        yield _cfn((), props)
    elif resource.type == "AWS::EC2::SecurityGroup":
        for index, rule in enumerate(_list(props.get("SecurityGroupIngress"))):
            if isinstance(rule, Mapping):
                yield _cfn(("SecurityGroupIngress", index), rule)
    elif resource.type == "aws_security_group":
        for index, rule in enumerate(_list(props.get("ingress"))):
            if isinstance(rule, Mapping):
                yield _tf_block(("ingress", index), rule)
    elif resource.type == "aws_security_group_rule":
        if props.get("type") == "ingress":
            yield _tf_block((), props)
    elif resource.type == "aws_vpc_security_group_ingress_rule":
        yield _tf_block((), props, "ip_protocol")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _port(value: Any, ctx: RuleContext) -> int | None:
    value = ctx.resolve(value)
    if value is UNKNOWN or value is None:
        return None if value is UNKNOWN else -1
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def opened(ingress: Ingress, ctx: RuleContext, ports: Mapping[int, str]) -> list[int]:
    """The given ports an ingress rule opens: protocol -1/all opens every port; -1..-1 or 0..65535 too."""
    protocol = ctx.resolve(ingress.protocol)
    if protocol is UNKNOWN or protocol is None:
        return []
    protocol = str(protocol).lower()
    if protocol in ALL_PROTOCOLS:
        return list(ports)
    if protocol not in TCP:
        return []
    low, high = _port(ingress.from_port, ctx), _port(ingress.to_port, ctx)
    if low is None or high is None:
        return []
    if low == -1 and high == -1:
        return list(ports)
    return [port for port in ports if low <= port <= high]


def world_sources(ingress: Ingress, ctx: RuleContext) -> list[tuple[PropertyPath, str]]:
    """(path, CIDR) of the sources that are the whole internet, IPv4 or IPv6."""
    found = []
    for path, cidr in ingress.sources:
        value = ctx.resolve(cidr)
        if isinstance(value, str) and value.strip() in WORLD:
            found.append((path, value.strip()))
    return found


def describe(ports: list[int], names: Mapping[int, str]) -> str:
    return ", ".join(f"{names[port]} ({port})" for port in ports)
