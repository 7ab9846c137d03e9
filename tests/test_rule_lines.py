"""Exact findings (rule, file, line, resource) of every bundled rule's failing fixture."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, finding_set, own_config

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


# The paved-road pack (each directory scanned on its own: some carry their configuration).
PACK = {
    ("IDP-NET-002", f"{R}/IDP-NET-002/fail.yaml", 15, "PostgresFromWorldFail"),
    ("IDP-NET-002", f"{R}/IDP-NET-002/fail.yaml", 23, "RangeWithRedisIpv6Fail"),
    ("IDP-NET-002", f"{R}/IDP-NET-002/fail.yaml", 38, "MysqlOnlyInDemoFail"),
    ("IDP-IAM-002", f"{R}/IDP-IAM-002/fail.yaml", 5, "DeployUserFail"),
    ("IDP-IAM-002", f"{R}/IDP-IAM-002/fail.yaml", 9, "DeployKeyFail"),
    ("IDP-DATA-003", f"{R}/IDP-DATA-003/fail.yaml", 11, "PublicInstanceFail"),
    ("IDP-DATA-003", f"{R}/IDP-DATA-003/fail.yaml", 18, "PublicInDevFail"),
    ("IDP-DATA-004", f"{R}/IDP-DATA-004/fail.yaml", 18, "LambdaPasswordFail"),
    ("IDP-DATA-004", f"{R}/IDP-DATA-004/fail.yaml", 28, "LambdaTokenDefaultFail"),
    ("IDP-DATA-004", f"{R}/IDP-DATA-004/fail.yaml", 37, "TaskApiKeyFail"),
    ("IDP-ECS-002", f"{R}/IDP-ECS-002/fail.yaml", 7, "NoLogsFail"),
    ("IDP-ECS-002", f"{R}/IDP-ECS-002/fail.yaml", 18, "SidecarWithoutLogsFail"),
    ("IDP-ECS-003", f"{R}/IDP-ECS-003/fail.yaml", 8, "LatestTagFail"),
    ("IDP-ECS-003", f"{R}/IDP-ECS-003/fail.yaml", 17, "NoTagFail"),
    ("IDP-ELB-001", f"{R}/IDP-ELB-001/fail.yaml", 5, "DefaultPathFail"),
    ("IDP-ELB-001", f"{R}/IDP-ELB-001/fail.yaml", 17, "SlowIntervalFail"),
    ("IDP-LAMBDA-001", f"{R}/IDP-LAMBDA-001/fail.yaml", 6, "Python37Fail"),
    ("IDP-LAMBDA-001", f"{R}/IDP-LAMBDA-001/fail.yaml", 13, "Node12Fail"),
    ("IDP-TAG-001", f"{R}/IDP-TAG-001/fail.yaml", 3, "UntaggedBucketFail"),
    ("IDP-TAG-001", f"{R}/IDP-TAG-001/fail.yaml", 8, "WrongCaseOwnerFail"),
    ("IDP-TAG-001", f"{R}/IDP-TAG-001/fail.yaml", 16, "EmptyCostCenterFail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail.yaml", 6, "NoExpiryFail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail.yaml", 13, "UnparseableExpiryFail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail.yaml", 19, "PastExpiryFail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail.yaml", 25, "TooFarExpiryFail"),
    ("IDP-LOG-001", f"{R}/IDP-LOG-001/fail.yaml", 5, "ForeverFail"),
    ("IDP-REGION-001", f"{R}/IDP-REGION-001/fail.yaml", 10, "ReplicaInUsFail"),
    ("IDP-REGION-001", f"{R}/IDP-REGION-001/fail.yaml", 16, "SubnetInSydneyFail"),
    ("IDP-REGION-001", f"{R}/IDP-REGION-001/fail.yaml", 24, "StackSetFail"),
    ("IDP-OBS-001", f"{R}/IDP-OBS-001/fail.yaml", 5, "UntracedFunctionFail"),
    ("IDP-OBS-001", f"{R}/IDP-OBS-001/fail.yaml", 17, "PassThroughFunctionFail"),
    ("IDP-OBS-001", f"{R}/IDP-OBS-001/fail.yaml", 21, "TaskWithoutCollectorFail"),
}

# The pack's Terraform fixtures (module directories).
PACK_TERRAFORM = {
    ("IDP-NET-002", f"{R}/IDP-NET-002/fail-terraform/main.tf", 7, "aws_security_group.postgres_fail"),
    ("IDP-NET-002", f"{R}/IDP-NET-002/fail-terraform/main.tf", 25, "aws_vpc_security_group_ingress_rule.redis_range_fail"),
    ("IDP-IAM-002", f"{R}/IDP-IAM-002/fail-terraform/main.tf", 1, "aws_iam_user.deployer_fail"),
    ("IDP-IAM-002", f"{R}/IDP-IAM-002/fail-terraform/main.tf", 5, "aws_iam_access_key.deployer_key_fail"),
    ("IDP-IAM-002", f"{R}/IDP-IAM-002/fail-terraform/main.tf", 9, "aws_iam_user_login_profile.console_fail"),
    ("IDP-DATA-003", f"{R}/IDP-DATA-003/fail-terraform/main.tf", 5, "aws_db_instance.public_fail"),
    ("IDP-DATA-003", f"{R}/IDP-DATA-003/fail-terraform/main.tf", 12, "aws_rds_cluster_instance.aurora_public_fail"),
    ("IDP-DATA-004", f"{R}/IDP-DATA-004/fail-terraform/main.tf", 7, "aws_lambda_function.password_fail"),
    ("IDP-DATA-004", f"{R}/IDP-DATA-004/fail-terraform/main.tf", 16, "aws_ecs_task_definition.api_key_fail"),
    ("IDP-ECS-002", f"{R}/IDP-ECS-002/fail-terraform/main.tf", 3, "aws_ecs_task_definition.no_logs_fail"),
    ("IDP-ECS-003", f"{R}/IDP-ECS-003/fail-terraform/main.tf", 3, "aws_ecs_task_definition.latest_fail"),
    ("IDP-ECS-003", f"{R}/IDP-ECS-003/fail-terraform/main.tf", 10, "aws_ecs_task_definition.untagged_fail"),
    ("IDP-ELB-001", f"{R}/IDP-ELB-001/fail-terraform/main.tf", 1, "aws_lb_target_group.default_path_fail"),
    ("IDP-ELB-001", f"{R}/IDP-ELB-001/fail-terraform/main.tf", 13, "aws_lb_target_group.flappy_fail"),
    ("IDP-LAMBDA-001", f"{R}/IDP-LAMBDA-001/fail-terraform/main.tf", 3, "aws_lambda_function.python37_fail"),
    ("IDP-TAG-001", f"{R}/IDP-TAG-001/fail-terraform/main.tf", 8, "aws_s3_bucket.no_cost_center_fail"),
    ("IDP-TAG-001", f"{R}/IDP-TAG-001/fail-terraform/main.tf", 14, "aws_sqs_queue.empty_cost_center_fail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail-terraform/main.tf", 3, "aws_sqs_queue.no_expiry_fail"),
    ("IDP-TTL-001", f"{R}/IDP-TTL-001/fail-terraform/main.tf", 8, "aws_sqs_queue.past_expiry_fail"),
    ("IDP-LOG-001", f"{R}/IDP-LOG-001/fail-terraform/main.tf", 1, "aws_cloudwatch_log_group.forever_fail"),
    ("IDP-LOG-001", f"{R}/IDP-LOG-001/fail-terraform/main.tf", 7, "aws_cloudwatch_log_group.explicit_zero_fail"),
    ("IDP-REGION-001", f"{R}/IDP-REGION-001/fail-terraform/main.tf", 5, "aws_dynamodb_table.replica_fail"),
    ("IDP-REGION-001", f"{R}/IDP-REGION-001/fail-terraform/main.tf", 11, "aws_s3_bucket.region_argument_fail"),
    ("IDP-OBS-001", f"{R}/IDP-OBS-001/fail-terraform/main.tf", 1, "aws_lambda_function.untraced_fail"),
    ("IDP-TF-001", f"{R}/IDP-TF-001/fail-terraform/main.tf", 2, "module.vpc_fail"),
    ("IDP-TF-001", f"{R}/IDP-TF-001/fail-terraform/main.tf", 6, "module.branch_ref_fail"),
    ("IDP-TF-001", f"{R}/IDP-TF-001/fail-terraform/main.tf", 10, "module.no_ref_fail"),
}


@pytest.mark.parametrize("rule_id", sorted({e[0] for e in PACK}))
def test_pack_rules_report_exact_lines(rule_id, scan):
    fixture = FIXTURES / "rules" / rule_id / "fail.yaml"
    _, report = scan(fixture, "--engines", "native", "--select", rule_id, *own_config(fixture))
    assert finding_set(report) == {e for e in PACK if e[0] == rule_id}


@pytest.mark.parametrize("rule_id", sorted({e[0] for e in PACK_TERRAFORM}))
def test_pack_rules_report_exact_terraform_lines(rule_id, scan):
    fixture = FIXTURES / "rules" / rule_id / "fail-terraform"
    _, report = scan(fixture, "--engines", "native", "--select", rule_id, *own_config(fixture))
    assert {f for f in finding_set(report) if f[0] == rule_id} == {e for e in PACK_TERRAFORM if e[0] == rule_id}


def test_fn_if_branch_is_named_in_the_message(scan):
    _, report = scan(FIXTURES / "rules" / "IDP-DATA-003" / "fail.yaml", "--engines", "native", "--select", "IDP-DATA-003")
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages == {
        "PublicInstanceFail": "PublicInstanceFail is publicly accessible: set PubliclyAccessible to false.",
        "PublicInDevFail": "PublicInDevFail is publicly accessible: set PubliclyAccessible to false when condition `IsDev` is true.",
    }


def test_foundation_rules_report_exact_lines(scan):
    rules = sorted({e[0] for e in EXPECTED})
    selection = [arg for rule in rules for arg in ("--select", rule)]
    code, report = scan(*(FIXTURES / "rules" / rule for rule in rules), "--engines", "native", *selection)
    assert code == 1
    assert finding_set(report) == EXPECTED


def test_one_finding_per_rule_and_resource(scan):
    _, report = scan(FIXTURES / "rules" / "IDP-NET-001" / "fail.yaml", "--engines", "native", "--select", "IDP-NET-001")
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages["AllProtocolsFail"] == "AllProtocolsFail allows all ports (SSH and RDP among them) from 0.0.0.0/0."
    fingerprints = [f["fingerprint"] for f in report["findings"]]
    assert len(fingerprints) == len(set(fingerprints))
