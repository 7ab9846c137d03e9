"""Generate a benchmark corpus: CloudFormation templates, Terraform modules and account files.

    python -m benchmarks.generate OUT [--templates 1000] [--resources 10] [--terraform 20] [--accounts 20]

Every template holds `--resources` resources; about one in four is non-compliant in one of the
ways the bundled rules (and checkov) catch: SSH open to the world, `*` on `*`, a public bucket,
unencrypted RDS, an ECS service without the circuit breaker. Templates mix YAML (with
short-form tags) and JSON. The output is deterministic for a given `--seed`.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any, Callable

Resource = tuple[str, dict[str, Any]]


def _bucket(i: int, bad: bool) -> Resource:
    props: dict[str, Any] = {"BucketName": {"Fn::Sub": f"logs-{i}-${{AWS::AccountId}}"},
                             "VersioningConfiguration": {"Status": "Enabled"},
                             "Tags": [{"Key": "owner", "Value": "team-a"}]}
    if bad:
        props["AccessControl"] = "PublicRead"
    else:
        props["PublicAccessBlockConfiguration"] = {k: True for k in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")}
    return "AWS::S3::Bucket", props


def _security_group(i: int, bad: bool) -> Resource:
    cidr = "0.0.0.0/0" if bad else "10.0.0.0/8"
    return "AWS::EC2::SecurityGroup", {
        "GroupDescription": f"group {i}", "VpcId": {"Ref": "VpcId"},
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": cidr}],
    }


def _role(i: int, bad: bool) -> Resource:
    statement = {"Effect": "Allow", "Action": "*" if bad else ["s3:GetObject"],
                 "Resource": "*" if bad else {"Fn::Sub": f"arn:aws:s3:::logs-{i}/*"}}
    return "AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": f"policy-{i}", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}],
    }


def _database(i: int, bad: bool) -> Resource:
    return "AWS::RDS::DBInstance", {
        "Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20",
        "MasterUsername": "app", "ManageMasterUserPassword": True, "StorageEncrypted": not bad,
    }


def _service(i: int, bad: bool) -> Resource:
    props: dict[str, Any] = {"Cluster": {"Ref": "Cluster"}, "DesiredCount": 2, "TaskDefinition": {"Ref": "TaskDefinition"}}
    if not bad:
        props["DeploymentConfiguration"] = {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}
    return "AWS::ECS::Service", props


def _queue(i: int, bad: bool) -> Resource:
    return "AWS::SQS::Queue", {"QueueName": f"queue-{i}", "KmsMasterKeyId": "alias/aws/sqs", "MessageRetentionPeriod": 345600}


KINDS: list[Callable[[int, bool], Resource]] = [_bucket, _security_group, _role, _database, _service, _queue]


def template(number: int, resources: int, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for i in range(resources):
        kind = rng.choice(KINDS)
        resource_type, props = kind(number * 1000 + i, rng.random() < 0.25)
        body[f"{resource_type.split('::')[-1]}{i}"] = {"Type": resource_type, "Properties": props}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Generated benchmark template {number}",
        "Parameters": {"VpcId": {"Type": "AWS::EC2::VPC::Id"}, "Cluster": {"Type": "String", "Default": "main"},
                       "TaskDefinition": {"Type": "String", "Default": "app:1"}},
        "Resources": body,
    }


def to_yaml(data: Any, indent: int = 0) -> str:
    """Block YAML with short-form tags (`!Ref`, `!Sub`), as people write templates."""
    pad = "  " * indent
    if isinstance(data, dict):
        if len(data) == 1 and next(iter(data)) in ("Ref", "Fn::Sub"):
            key, value = next(iter(data.items()))
            return f"!{'Ref' if key == 'Ref' else 'Sub'} {json.dumps(value)}"
        lines = []
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value and not _is_tag(value):
                lines.append(f"{pad}{key}:\n{to_yaml(value, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {to_yaml(value, indent + 1)}")
        return "\n".join(lines)
    if isinstance(data, list):
        items = []
        for value in data:
            text = to_yaml(value, indent + 1)
            items.append(f"{pad}- {text.lstrip()}" if isinstance(value, dict) and not _is_tag(value) else f"{pad}- {text}")
        return "\n".join(items)
    return json.dumps(data)


def _is_tag(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::Sub")


def terraform_module(number: int, rng: random.Random) -> str:
    open_cidr = '"0.0.0.0/0"' if rng.random() < 0.3 else '"10.0.0.0/8"'
    encrypted = "false" if rng.random() < 0.3 else "true"
    return f'''variable "name" {{
  type    = string
  default = "svc-{number}"
}}

resource "aws_s3_bucket" "logs" {{
  bucket = "${{var.name}}-logs"
}}

resource "aws_security_group" "app" {{
  name = var.name
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [{open_cidr}]
  }}
}}

resource "aws_db_instance" "db" {{
  identifier          = var.name
  engine              = "postgres"
  instance_class      = "db.t4g.micro"
  allocated_storage   = 20
  storage_encrypted   = {encrypted}
  skip_final_snapshot = true
}}
'''


def account_file(number: int, rng: random.Random) -> str:
    environment = rng.choice(["dev", "test", "prod", "sandbox"])
    expires = "\n    expires_at: 2027-01-31" if environment == "sandbox" else ""
    cost_center = "CC-1234" if rng.random() > 0.2 else "finance"
    return f"""accounts:
  - name: team-{number}-{environment}
    email: aws+team-{number}-{environment}@corp.example
    organizational_unit: Workloads/{'Prod' if environment == 'prod' else 'Dev'}
    environment: {environment}
    owner: team-{number}
    cost_center: {cost_center}
    workload: service-{number}
    regions: [eu-west-1]
    budget_usd: 1000{expires}
"""


def generate(out: Path, templates: int, resources: int, terraform: int, accounts: int, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    for number in range(templates):
        folder = out / "cfn" / f"team{number % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = template(number, resources, rng)
        if number % 4 == 3:
            (folder / f"stack{number:05d}.json").write_text(json.dumps(data, indent=2) + "\n")
        else:
            (folder / f"stack{number:05d}.yaml").write_text(to_yaml(data) + "\n")
    for number in range(terraform):
        module = out / "terraform" / f"module{number:04d}"
        module.mkdir(parents=True, exist_ok=True)
        (module / "main.tf").write_text(terraform_module(number, rng))
    if accounts:
        (out / "accounts").mkdir(parents=True, exist_ok=True)
    for number in range(accounts):
        (out / "accounts" / f"team{number:04d}.yaml").write_text(account_file(number, rng))
    return {"templates": templates, "resources": templates * resources, "terraform_modules": terraform, "account_files": accounts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=10, help="resources per template")
    parser.add_argument("--terraform", type=int, default=20, help="Terraform modules")
    parser.add_argument("--accounts", type=int, default=20, help="account-vending files")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    counts = generate(args.out, args.templates, args.resources, args.terraform, args.accounts, args.seed)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
