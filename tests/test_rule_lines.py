"""Exact findings (rule, file, line, resource) of every bundled rule's failing fixture."""

from __future__ import annotations

from tests.conftest import FIXTURES, finding_set

R = "fixtures/rules"

EXPECTED = {
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 6, "PublicReadAclFail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 12, "BlockPolicyOffFail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail.yaml", 18, "PartialBlockFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 5, "UnencryptedInstanceFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 15, "ExplicitlyOffInstanceFail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail.yaml", 20, "UnencryptedClusterFail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail.yaml", 5, "NoDeploymentConfigFail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail.yaml", 16, "BreakerWithoutRollbackFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 12, "InlineAdminRoleFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 19, "ManagedNotActionFail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail.yaml", 28, "StandalonePolicyFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 13, "SshFromWorldFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 22, "RdpRangeIpv6Fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 28, "AllProtocolsFail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail.yaml", 36, "ParameterDefaultFail"),
    # Terraform: the argument's line (the resource's when the argument is missing).
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail-terraform/main.tf", 3, "aws_s3_bucket.inline_acl_fail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail-terraform/main.tf", 12, "aws_s3_bucket_acl.assets_acl_fail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail-terraform/main.tf", 18, "aws_s3_bucket_public_access_block.assets_block_fail"),
    ("IDP-DATA-001", f"{R}/IDP-DATA-001/fail-terraform/main.tf", 23, "aws_s3_bucket_public_access_block.partial_block_fail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail-terraform/main.tf", 1, "aws_db_instance.unencrypted_instance_fail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail-terraform/main.tf", 9, "aws_db_instance.explicitly_off_instance_fail"),
    ("IDP-DATA-002", f"{R}/IDP-DATA-002/fail-terraform/main.tf", 12, "aws_rds_cluster.unencrypted_cluster_fail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail-terraform/main.tf", 1, "aws_ecs_service.no_breaker_fail"),
    ("IDP-ECS-001", f"{R}/IDP-ECS-001/fail-terraform/main.tf", 11, "aws_ecs_service.breaker_without_rollback_fail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail-terraform/main.tf", 25, "aws_iam_policy.json_string_fail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail-terraform/main.tf", 35, "aws_iam_role_policy.jsonencode_fail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail-terraform/main.tf", 46, "aws_iam_policy.document_fail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail-terraform/main.tf", 51, "aws_iam_policy.partly_known_document_fail"),
    ("IDP-IAM-001", f"{R}/IDP-IAM-001/fail-terraform/main.tf", 59, "aws_iam_role.inline_fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 21, "aws_security_group.ssh_from_world_fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 31, "aws_security_group_rule.rdp_range_ipv6_fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 37, "aws_vpc_security_group_ingress_rule.all_protocols_fail"),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 46, 'aws_vpc_security_group_ingress_rule.per_port_fail["rdp"]'),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 46, 'aws_vpc_security_group_ingress_rule.per_port_fail["ssh"]'),
    ("IDP-NET-001", f"{R}/IDP-NET-001/fail-terraform/main.tf", 57, "aws_security_group.dynamic_blocks_fail"),
}


def test_foundation_rules_report_exact_lines(scan):
    code, report = scan(*(FIXTURES / "rules" / rule for rule in sorted({e[0] for e in EXPECTED})), "--engines", "native")
    assert code == 1
    assert finding_set(report) == EXPECTED


def test_one_finding_per_rule_and_resource(scan):
    _, report = scan(FIXTURES / "rules" / "IDP-NET-001" / "fail.yaml", "--engines", "native")
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages["AllProtocolsFail"] == "AllProtocolsFail allows SSH (22) and RDP (3389) from 0.0.0.0/0."
    fingerprints = [f["fingerprint"] for f in report["findings"]]
    assert len(fingerprints) == len(set(fingerprints))
