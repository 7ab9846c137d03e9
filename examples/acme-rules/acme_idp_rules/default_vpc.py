from __future__ import annotations

from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import Rule, RuleContext, Violation


class NoDefaultVpc(Rule):
    """EC2 instances must be placed in one of ACME's VPCs, never the default VPC.

    The default VPC has public subnets and no flow logs; ACME's VPCs are built by the network
    team with private subnets and central egress.

    **CloudFormation:** set `SubnetId` to a subnet exported by the network stack.

    **CDK:** pass `vpc: ec2.Vpc.fromLookup(this, 'Vpc', { tags: { acme: 'core' } })`.

    **Terraform:** set `subnet_id = data.aws_subnet.private.id`.
    """

    id = "ACME-NET-001"
    severity = Severity.ERROR
    resource_types = ("AWS::EC2::Instance", "aws_instance")
    tags = ("security", "network")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        key = "subnet_id" if resource.type == "aws_instance" else "SubnetId"
        if key not in resource.properties and "NetworkInterfaces" not in resource.properties:
            yield Violation((), f"{resource.id.name} has no subnet, so it lands in the default VPC.")
