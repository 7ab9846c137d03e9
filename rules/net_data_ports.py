from __future__ import annotations

from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import Rule, RuleContext, Violation
from scanner.terraform_helpers import is_terraform

from .net_admin_ports import AdminPortsOpenToWorld, cfn_ingress_rules, exposed_ports, ingress_key, opens_all_ports, terraform_ingress_rules, world_source

DATA_PORTS = {
    3306: "MySQL/Aurora",
    5432: "PostgreSQL",
    1433: "SQL Server",
    1521: "Oracle",
    27017: "MongoDB/DocumentDB",
    6379: "Redis/Valkey",
    9200: "OpenSearch/Elasticsearch",
}


class DataPortsOpenToWorld(Rule):
    """Security groups must not open database or cache ports to the whole internet.

    A database or cache reachable from `0.0.0.0/0` or `::/0` is one leaked or guessed password
    (or one unauthenticated Redis) away from a data breach, and it is found by internet-wide
    scanners within hours. The ports checked are MySQL/Aurora 3306, PostgreSQL 5432, SQL Server
    1433, Oracle 1521, MongoDB/DocumentDB 27017, Redis/Valkey 6379 and OpenSearch 9200; a port
    range that contains one of them counts, and so does protocol `-1` (all traffic). Data stores
    belong in private subnets, reachable only from the security group of the service using them.

    **CloudFormation:** reference the client's security group instead of a CIDR:
    ```yaml
    SecurityGroupIngress:
      - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: !Ref AppSecurityGroup}
    ```

    **CDK:**
    ```ts
    db.connections.allowDefaultPortFrom(service); // not ec2.Peer.anyIpv4()
    ```

    **Terraform:**
    ```hcl
    resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
      security_group_id            = aws_security_group.db.id
      referenced_security_group_id = aws_security_group.app.id
      from_port = 5432
      to_port   = 5432
      ip_protocol = "tcp"
    }
    ```
    """

    id = "IDP-NET-002"
    severity = Severity.ERROR
    security_severity = 8.6
    resource_types = AdminPortsOpenToWorld.resource_types
    tags = ("security", "network", "CIS-AWS-5.3", "NIST-800-53-SC-7")
    aliases = ()  # checkov has no database-port check; CKV_AWS_277 (all ports) is IDP-NET-001's concern

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        # The same ingress readers as IDP-NET-001: every form, ranges, protocol -1, IPv6.
        rules = terraform_ingress_rules(resource) if is_terraform(resource) else cfn_ingress_rules(resource, ctx)
        for rule in rules:
            source = world_source(rule)
            if opens_all_ports(rule):
                continue  # IDP-NET-001 reports "all ports" once
            ports = exposed_ports(rule, DATA_PORTS) if source else []
            if source and ports:
                what = "every database and cache port" if len(ports) == len(DATA_PORTS) else ", ".join(ports)
                yield Violation(source[0], f"{resource.id.name} allows {what} from {source[1]}.", ingress_key(rule, source[1]))
