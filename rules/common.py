"""What several rules read the same way in CloudFormation and Terraform: tags, containers, env.

Terraform resources follow the `Resource` convention (type `aws_...`, nested blocks as lists
of mappings). What an input knows beyond a resource comes through `artifact.context`:
`stack_tags` (CDK stack tags from the manifest), `providers` (Terraform provider blocks with
their `region` and `default_tags`), `region` or `environment` (a CDK stack's region or
`aws://account/region`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource
from scanner.rule import UNKNOWN, RuleContext


def is_terraform(resource: Resource) -> bool:
    return resource.type.startswith("aws_")


def option(ctx: RuleContext, *keys: str, default: Any = None) -> Any:
    """A nested configuration value (`option(ctx, "ttl", "max_days")`), or the default."""
    value: Any = ctx.options
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return value


def block(value: Any) -> Mapping[str, Any]:
    """A Terraform nested block (a list of one mapping) or a mapping, as a mapping."""
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return value if isinstance(value, Mapping) else {}


def _tag_pairs(value: Any, ctx: RuleContext) -> dict[str, Any]:
    """CloudFormation `[{Key, Value}]` or a `{key: value}` mapping, with values resolved."""
    value = ctx.resolve(value)
    pairs: dict[str, Any] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and isinstance(ctx.resolve(item.get("Key")), str):
                pairs[ctx.resolve(item["Key"])] = ctx.resolve(item.get("Value"))
    elif isinstance(value, Mapping):
        pairs = {str(key): ctx.resolve(item) for key, item in value.items()}
    return pairs


def tags_of(resource: Resource, ctx: RuleContext) -> dict[str, Any] | None:
    """The tags a resource is deployed with (stack/provider tags first), or None when unknowable."""
    own_key = "tags" if is_terraform(resource) else "Tags"
    raw = resource.properties.get(own_key)
    if raw is not None and ctx.resolve(raw) is UNKNOWN:
        return None
    inherited = default_tags(resource, ctx) if is_terraform(resource) else ctx.artifact.context.get("stack_tags") or {}
    tags = {**_tag_pairs(inherited, ctx), **_tag_pairs(raw, ctx)}
    if is_terraform(resource):
        tags.update(_tag_pairs(resource.properties.get("tags_all"), ctx))
    return tags


def default_tags(resource: Resource, ctx: RuleContext) -> Any:
    """The `default_tags` of the provider configuration the resource is created with (its
    `provider = aws.x`, or what its module call passed); without that knowledge (a plan,
    whose `tags_all` holds them already) the root module's default AWS provider."""
    wanted = resource.metadata.get("provider")
    for provider in ctx.artifact.context.get("providers", ()) or ():
        if not isinstance(provider, Mapping):
            continue
        if provider.get("address") == wanted if wanted else provider.get("name") == "aws" and not provider.get("alias") and not provider.get("module"):
            return provider.get("default_tags") or {}
    return {}


def folded(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Tags with case-folded keys (AWS keys are case-sensitive; people are not)."""
    return {key.casefold(): value for key, value in tags.items()}


TASK_DEFINITIONS = ("AWS::ECS::TaskDefinition", "aws_ecs_task_definition")


def containers(resource: Resource) -> Iterator[tuple[PropertyPath, Mapping[str, Any]]]:
    """Container definitions of a task definition, with their path (Terraform: JSON string or list)."""
    if resource.type == "AWS::ECS::TaskDefinition":
        key = "ContainerDefinitions"
    elif resource.type == "aws_ecs_task_definition":
        key = "container_definitions"
    else:
        return
    value = resource.properties.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return
        items = value if isinstance(value, list) else []
        for item in items:
            if isinstance(item, Mapping):
                yield (key,), item
        return
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, Mapping):
            yield (key, index), item


def field(container: Mapping[str, Any], name: str) -> tuple[str, Any]:
    """A container field by its CloudFormation name (`LogConfiguration`) or JSON name (`logConfiguration`)."""
    camel = name[0].lower() + name[1:]
    for key in (name, camel):
        if key in container:
            return key, container[key]
    return name, None


def container_name(container: Mapping[str, Any], index: PropertyPath) -> str:
    name = field(container, "Name")[1]
    return str(name) if isinstance(name, str) else f"container {index[-1] if index else ''}".strip()


TAGGABLE = (
    "AWS::ApiGateway::RestApi", "AWS::AutoScaling::AutoScalingGroup", "AWS::CloudFront::Distribution",
    "AWS::DynamoDB::Table", "AWS::EC2::Instance", "AWS::EC2::NatGateway", "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet", "AWS::EC2::Volume", "AWS::EC2::VPC", "AWS::ECR::Repository", "AWS::ECS::Cluster",
    "AWS::ECS::Service", "AWS::ECS::TaskDefinition", "AWS::EFS::FileSystem", "AWS::EKS::Cluster",
    "AWS::ElastiCache::ReplicationGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::IAM::Role", "AWS::KMS::Key", "AWS::Lambda::Function",
    "AWS::Logs::LogGroup", "AWS::OpenSearchService::Domain", "AWS::RDS::DBCluster", "AWS::RDS::DBInstance",
    "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::SNS::Topic", "AWS::SQS::Queue",
    "AWS::StepFunctions::StateMachine",
    "aws_api_gateway_rest_api", "aws_cloudfront_distribution", "aws_dynamodb_table", "aws_instance",
    "aws_nat_gateway", "aws_security_group", "aws_subnet", "aws_ebs_volume", "aws_vpc", "aws_ecr_repository",
    "aws_ecs_cluster", "aws_ecs_service", "aws_ecs_task_definition", "aws_efs_file_system", "aws_eks_cluster",
    "aws_elasticache_replication_group", "aws_lb", "aws_alb", "aws_lb_target_group", "aws_alb_target_group",
    "aws_iam_role", "aws_kms_key", "aws_lambda_function", "aws_cloudwatch_log_group", "aws_opensearch_domain",
    "aws_rds_cluster", "aws_db_instance", "aws_s3_bucket", "aws_secretsmanager_secret", "aws_sns_topic",
    "aws_sqs_queue", "aws_sfn_state_machine",
)


def taggable(resource: Resource) -> bool:
    """A resource type known to take tags, or any resource that sets `Tags`/`tags` itself.
    Terraform types: every AWS provider resource with a `tags` argument (`terraform_taggable`)."""
    if resource.type in TAGGABLE or ("tags" if is_terraform(resource) else "Tags") in resource.properties:
        return True
    return is_terraform(resource) and resource.type in terraform_taggable()


@lru_cache(maxsize=1)
def terraform_taggable() -> frozenset[str]:
    """The AWS provider's resource types that take `tags`, from checkov's bundled data
    (`resources_types["aws_taggable"]`, which checkov generates from the provider schema and
    uses for its own tag checks). Imported on first use: the module is a plain literal."""
    try:
        from checkov.common.checks_infra.resources_types import resources_types
    except ImportError:  # checkov is a dependency; without it, the bundled list above stands
        return frozenset()
    return frozenset(str(t) for t in resources_types.get("aws_taggable", ()))


def tag_path(resource: Resource, key: str) -> PropertyPath:
    """Where a tag is written in the resource (empty when it is inherited or absent)."""
    own = "tags" if is_terraform(resource) else "Tags"
    value = resource.properties.get(own)
    if isinstance(value, Mapping) and key in value:
        return (own, key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping) and item.get("Key") == key:
                return (own, index, "Value")
    return (own,) if value is not None else ()
