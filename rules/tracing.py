from __future__ import annotations

import re
from typing import Iterator, Mapping

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import block, containers, field, is_terraform

COLLECTOR = re.compile(r"xray-daemon|aws-xray|aws-otel-collector|aws-observability/aws-otel|adot|otel-collector|opentelemetry-collector", re.IGNORECASE)


class Tracing(Rule):
    """Lambda functions and ECS tasks should emit traces (X-Ray or the ADOT collector).

    Without traces, a slow request across API Gateway, Lambda, ECS and DynamoDB is a guess;
    the platform's dashboards and SLO alerts are built on X-Ray / OpenTelemetry traces.
    Lambda: `TracingConfig.Mode: Active`. ECS: a sidecar container running the X-Ray daemon or
    the AWS Distro for OpenTelemetry (ADOT) collector. Images only known at deploy time pass.
    A hygiene rule: a warning by default.

    **CloudFormation:** Lambda `TracingConfig: {Mode: Active}`; ECS: add a container with image
    `public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0`.

    **CDK:** `tracing: lambda.Tracing.ACTIVE`; `taskDefinition.addContainer('otel', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0') })`.

    **Terraform:** `tracing_config { mode = "Active" }` on `aws_lambda_function`; the collector
    container in `container_definitions`.
    """

    id = "IDP-OBS-001"
    severity = Severity.WARNING
    security_severity = 2.0
    resource_types = ("AWS::Lambda::Function", "aws_lambda_function", "AWS::ECS::TaskDefinition", "aws_ecs_task_definition")
    tags = ("observability", "paved-road", "NIST-800-53-AU-12")
    aliases = ("CKV_AWS_50",)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        if resource.type in ("AWS::Lambda::Function", "aws_lambda_function"):
            yield from self._lambda(resource, ctx)
            return
        images = []
        for _, container in containers(resource):
            images.append(ctx.resolve(field(container, "Image")[1]))
            name = field(container, "Name")[1]
            if isinstance(name, str) and COLLECTOR.search(name):
                return
        if not images or any(not isinstance(image, str) or "${" in image for image in images):
            return
        if not any(COLLECTOR.search(image) for image in images):
            key = "container_definitions" if is_terraform(resource) else "ContainerDefinitions"
            yield Violation((key,), f"{resource.id.name} runs no X-Ray daemon or ADOT collector, so its tasks emit no traces.")

    @staticmethod
    def _lambda(resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        if is_terraform(resource):
            mode = ctx.resolve(block(resource.properties.get("tracing_config")).get("mode"))
            path = ("tracing_config",) if "tracing_config" in resource.properties else ()
        else:
            config = resource.properties.get("TracingConfig")
            mode = ctx.resolve(config.get("Mode")) if isinstance(config, Mapping) else ctx.resolve(config)
            path = ("TracingConfig",) if config is not None else ()
        if mode is UNKNOWN or mode == "Active":
            return
        yield Violation(path, f"{resource.id.name} does not trace its invocations: set tracing to Active.")
