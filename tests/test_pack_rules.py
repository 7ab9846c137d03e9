"""Decision tables of the pack's rules beyond their fixtures: configuration, edge cases, contexts."""

from __future__ import annotations

from typing import Any

import pytest

from idp_scan_rules.ecs_images import ImagePinning, split_image
from idp_scan_rules.elb_health_check import TargetGroupHealthCheck
from idp_scan_rules.env_secrets import is_plaintext_secret
from idp_scan_rules.preview_ttl import PreviewEnvironmentTtl
from idp_scan_rules.regions_allowed import AllowedRegions
from idp_scan_rules.tags_required import RequiredTags
from idp_scan_rules.tf_pinning import TerraformPinning, module_problem
from scanner.model import Artifact, Resource, ResourceId
from scanner.rule import UNKNOWN, Rule, RuleContext


def check(rule: Rule, type_: str, properties: dict[str, Any], options: dict[str, Any] | None = None,
          context: dict[str, Any] | None = None, kind: str = "cloudformation") -> list[str]:
    artifact = Artifact(kind=kind, path="t", uri="t", data={}, context=context or {})
    resource = Resource(ResourceId(kind, "R", type_), type_, properties, ("Resources", "R", "Properties"))
    return [v.message for v in rule.check(resource, RuleContext(artifact, [resource], options or {}))]


@pytest.mark.parametrize("name, value, secret", [
    ("DB_PASSWORD", "hunter2", True),
    ("db_passwd", "x", True),
    ("API_KEY", "abc", True),
    ("apiKey", "abc", True),
    ("GITHUB_TOKEN", "ghp_x", True),
    ("DB_PASSWORD", "", False),
    ("DB_PASSWORD", "{{resolve:secretsmanager:db:SecretString:password}}", False),
    ("DB_PASSWORD", "{{resolve:ssm-secure:/db/password}}", False),
    ("API_KEY", "arn:aws:secretsmanager:eu-west-1:1:secret:k", False),
    ("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:k", False),
    ("API_KEY_PARAMETER", "/app/api-key", False),
    ("TOKEN_TTL", "3600", False),
    ("LOG_LEVEL", "debug", False),
    ("DB_PASSWORD", UNKNOWN, False),
    ("ENABLE_TOKEN", True, False),
])
def test_plaintext_secret_table(name, value, secret):
    assert is_plaintext_secret(name, value) is secret


@pytest.mark.parametrize("image, expected", [
    ("nginx", ("nginx", None)),
    ("nginx:latest", ("nginx", "latest")),
    ("registry.corp.example:5000/team/app", ("registry.corp.example:5000/team/app", None)),
    ("registry.corp.example:5000/team/app:1.2", ("registry.corp.example:5000/team/app", "1.2")),
    ("app@sha256:" + "a" * 64, ("app", "sha256:" + "a" * 64)),
])
def test_split_image(image, expected):
    assert split_image(image) == expected


def _task(image: str) -> dict[str, Any]:
    return {"ContainerDefinitions": [{"Name": "app", "Image": image}]}


@pytest.mark.parametrize("image, registries, problems", [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.0", [], 0),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.0", ["*.dkr.ecr.eu-west-1.amazonaws.com"], 0),
    ("docker.io/library/nginx:1.27", ["*.dkr.ecr.eu-west-1.amazonaws.com"], 1),
    ("nginx:1.27", ["*.dkr.ecr.eu-west-1.amazonaws.com"], 1),
    ("nginx:1.27", ["docker.io"], 0),
    ("ghcr.io/acme/app:2", ["ghcr.io/acme/"], 0),
    ("ghcr.io/evil/app:2", ["ghcr.io/acme/"], 1),
    ("ghcr.io/evil/app:latest", ["ghcr.io/acme/"], 2),
])
def test_approved_registries(image, registries, problems):
    options = {"images": {"approved_registries": registries}} if registries else {}
    assert len(check(ImagePinning(), "AWS::ECS::TaskDefinition", _task(image), options)) == problems


def test_health_check_bounds_are_configurable():
    group = {"Protocol": "HTTP", "HealthCheckPath": "/healthz", "HealthCheckIntervalSeconds": 60}
    assert check(TargetGroupHealthCheck(), "AWS::ElasticLoadBalancingV2::TargetGroup", group) == [
        "R sets HealthCheckIntervalSeconds to 60, outside the platform's 5-30."
    ]
    relaxed = {"health_checks": {"interval_seconds": {"max": 60}}}
    assert check(TargetGroupHealthCheck(), "AWS::ElasticLoadBalancingV2::TargetGroup", group, relaxed) == []


def test_health_check_disabled_needs_no_path():
    group = {"Protocol": "HTTP", "HealthCheckEnabled": False}
    assert check(TargetGroupHealthCheck(), "AWS::ElasticLoadBalancingV2::TargetGroup", group) == []


def test_required_tags_come_from_the_configuration_and_the_cdk_stack():
    bucket = {"Tags": [{"Key": "team", "Value": "a"}]}
    assert check(RequiredTags(), "AWS::S3::Bucket", bucket, {"tags": {"required": ["team"]}}) == []
    assert check(RequiredTags(), "AWS::S3::Bucket", bucket, {"tags": {"required": []}}) == []
    stack = {"stack_tags": {"owner": "x", "cost-center": "CC-1"}}
    assert check(RequiredTags(), "AWS::S3::Bucket", bucket, context=stack) == []
    assert check(RequiredTags(), "AWS::S3::Bucket", {"Tags": {"Ref": "Unknown"}}) == []


def test_terraform_default_tags_of_the_root_provider_only():
    providers = [
        {"name": "aws", "alias": "us", "module": "", "default_tags": {"owner": "x", "cost-center": "y"}},
        {"name": "aws", "alias": None, "module": "", "default_tags": {"owner": "x"}},
    ]
    messages = check(RequiredTags(), "aws_s3_bucket", {}, context={"providers": providers}, kind="terraform")
    assert messages == ["R lacks the required tags: cost-center."]


@pytest.mark.parametrize("expiry, message", [
    ("2026-06-03", None),
    ("2026-06-14T23:59:59Z", None),
    ("2026-06-15T00:00:01Z", "more than 14 days ahead"),
    ("2026-06-16", "more than 14 days ahead"),
    ("2026-05-31T23:00:00Z", "should already be gone"),
    ("03/06/2026", "not an ISO-8601 date"),
])
def test_ttl_table(expiry, message):
    tags = {"Tags": [{"Key": "environment", "Value": "preview"}, {"Key": "expires-at", "Value": expiry}]}
    found = check(PreviewEnvironmentTtl(), "AWS::SQS::Queue", tags, {"ttl": {"as_of": "2026-06-01T00:00:00Z"}})
    assert (found == []) if message is None else (len(found) == 1 and message in found[0])


def test_ttl_keys_values_and_limits_are_configurable():
    tags = {"Tags": [{"Key": "Stage", "Value": "PR"}, {"Key": "Reap-After", "Value": "2026-06-20"}]}
    options = {"ttl": {"environment_tag": "stage", "preview_values": ["pr"], "expiry_tags": ["reap-after"], "max_days": 30, "as_of": "2026-06-01"}}
    assert check(PreviewEnvironmentTtl(), "AWS::SQS::Queue", tags, options) == []
    options["ttl"]["max_days"] = 7
    assert len(check(PreviewEnvironmentTtl(), "AWS::SQS::Queue", tags, options)) == 1


def test_regions_check_nothing_without_an_allow_list():
    replicas = {"Replicas": [{"Region": "us-east-1"}]}
    assert check(AllowedRegions(), "AWS::DynamoDB::GlobalTable", replicas) == []
    assert check(AllowedRegions(), "AWS::DynamoDB::GlobalTable", replicas, {"regions": {"allowed": ["eu-west-1"]}}) != []


@pytest.mark.parametrize("environment, findings", [
    ("aws://123456789012/us-east-1", 1),
    ("aws://123456789012/eu-west-1", 0),
    ("aws://unknown-account/unknown-region", 0),
])
def test_cdk_stack_environment_is_checked_once_per_stack(environment, findings):
    messages = check(AllowedRegions(), "AWS::SQS::Queue", {}, {"regions": {"allowed": ["eu-west-1"]}}, {"environment": environment})
    assert len(messages) == findings


def test_terraform_provider_region():
    options = {"regions": {"allowed": ["eu-west-1"]}}
    assert check(AllowedRegions(), "provider", {"region": "us-east-1"}, options, kind="terraform") == [
        "R names the region us-east-1, which is not allowed (eu-west-1)."
    ]
    assert check(AllowedRegions(), "provider", {"region": UNKNOWN}, options, kind="terraform") == []


@pytest.mark.parametrize("source, version, problem", [
    ("./modules/vpc", None, None),
    ("terraform-aws-modules/vpc/aws", "5.8.1", None),
    ("terraform-aws-modules/vpc/aws", None, "has no version"),
    ("app.terraform.io/acme/vpc/aws", None, "has no version"),
    ("git::https://github.com/acme/m.git?ref=v1.2.0", None, None),
    ("git::https://github.com/acme/m.git?ref=0123abcd", None, None),
    ("git::https://github.com/acme/m.git?ref=main", None, "branch name"),
    ("git::https://github.com/acme/m.git", None, "no ?ref="),
    ("github.com/acme/m//sub?ref=1.0.0", None, None),
    ("s3::https://bucket.s3.amazonaws.com/m.zip", None, None),
])
def test_module_pinning_table(source, version, problem):
    found = module_problem(source, version)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_providers_need_version_constraints():
    block = {"required_providers": [{"aws": {"source": "hashicorp/aws"}, "random": {"source": "hashicorp/random", "version": "~> 3.6"}}]}
    assert check(TerraformPinning(), "terraform", block, kind="terraform") == ["R: provider aws has no version constraint."]
    assert check(TerraformPinning(), "terraform", {"required_providers": [{"aws": {"version": UNKNOWN}}]}, kind="terraform") == []


@pytest.mark.parametrize("config, valid", [
    ({"ttl": {"as_of": "2026-06-01"}}, True),
    ({"ttl": {"as_of": "2026-06-01T12:00:00+02:00"}}, True),
    ({"ttl": {"as_of": "next week"}}, False),
    ({"lambda": {"runtimes_as_of": "2026-02-30"}}, False),
    ({"images": {"approved_registries": ["ghcr.io/acme/"]}}, True),
    ({"images": {"approved_registry": ["ghcr.io/acme/"]}}, False),
    ({"health_checks": {"interval_seconds": {"max": 60}}}, True),
    ({"health_checks": {"interval_seconds": {"maximum": 60}}}, False),
])
def test_pack_configuration_keys_are_validated(config, valid):
    from scanner.settings import ConfigError, validate_config

    if valid:
        validate_config(config, "t")
    else:
        with pytest.raises(ConfigError):
            validate_config(config, "t")
