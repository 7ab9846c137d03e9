from __future__ import annotations

from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import block, is_terraform, option

# The platform's defaults: (CloudFormation property, Terraform argument, configuration key, lowest, highest).
THRESHOLDS = (
    ("HealthCheckIntervalSeconds", "interval", "interval_seconds", 5, 30),
    ("HealthyThresholdCount", "healthy_threshold", "healthy_threshold", 2, 5),
    ("UnhealthyThresholdCount", "unhealthy_threshold", "unhealthy_threshold", 2, 5),
    ("HealthCheckTimeoutSeconds", "timeout", "timeout_seconds", 2, 10),
)
HTTP = {"HTTP", "HTTPS"}


def _bounds(ctx: RuleContext, key: str, low: int, high: int) -> tuple[int, int]:
    configured = option(ctx, "health_checks", key, default={}) or {}
    return int(configured.get("min", low)), int(configured.get("max", high))


class TargetGroupHealthCheck(Rule):
    """HTTP target groups must name a health-check path and keep thresholds within the platform's defaults.

    Without `HealthCheckPath` the load balancer probes `/`, which usually answers 200 even
    when the service cannot reach its database, or 404 on an API without a root route, so
    healthy tasks are killed. The platform's services expose a dedicated health endpoint
    (`/healthz`). Thresholds outside the defaults either flap (too tight) or route traffic to
    dead tasks for minutes (too loose): interval 5–30 s, healthy and unhealthy thresholds 2–5,
    timeout 2–10 s, each configurable as `health_checks.<interval_seconds|healthy_threshold|unhealthy_threshold|timeout_seconds>: {min, max}`.
    Lambda targets and TCP/UDP/TLS target groups are not probed over HTTP and are not checked
    for a path.

    **CloudFormation:** `HealthCheckPath: /healthz` (and `HealthCheckIntervalSeconds: 15`, ...).

    **CDK:** `targetGroup.configureHealthCheck({ path: '/healthz', interval: Duration.seconds(15) })`.

    **Terraform:**
    ```hcl
    health_check {
      path     = "/healthz"
      interval = 15
    }
    ```
    """

    id = "IDP-ELB-001"
    severity = Severity.WARNING
    security_severity = 3.0
    resource_types = ("AWS::ElasticLoadBalancingV2::TargetGroup", "aws_lb_target_group", "aws_alb_target_group")
    tags = ("reliability", "paved-road", "elb")
    aliases = ("CKV_AWS_261",)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        settings, prefix, names = self._settings(resource)
        target_type = ctx.resolve(resource.properties.get("target_type" if is_terraform(resource) else "TargetType"))
        if target_type == "lambda":
            return
        protocol = ctx.resolve(settings.get(names["protocol"], resource.properties.get(names["group_protocol"])))
        path = settings.get(names["path"])
        if (protocol is None or protocol in HTTP) and path is None and not _disabled(ctx.resolve(settings.get(names["enabled"]))):
            yield Violation(prefix or (), f"{resource.id.name} has no health-check path, so the load balancer probes '/'.")
        for cfn_key, tf_key, config_key, low, high in THRESHOLDS:
            key = tf_key if is_terraform(resource) else cfn_key
            value = ctx.resolve(settings.get(key))
            if value is None or value is UNKNOWN:
                continue
            lowest, highest = _bounds(ctx, config_key, low, high)
            try:
                number = int(value)
            except (TypeError, ValueError):
                continue
            if not lowest <= number <= highest:
                yield Violation((*prefix, key), f"{resource.id.name} sets {key} to {number}, outside the platform's {lowest}-{highest}.")

    @staticmethod
    def _settings(resource: Resource) -> tuple[Mapping[str, Any], PropertyPath, dict[str, str]]:
        if is_terraform(resource):
            raw = resource.properties.get("health_check")
            prefix: PropertyPath = ("health_check", 0) if isinstance(raw, list) else ("health_check",)
            names = {"protocol": "protocol", "group_protocol": "protocol", "path": "path", "enabled": "enabled"}
            return block(raw), prefix if raw is not None else (), names
        names = {"protocol": "HealthCheckProtocol", "group_protocol": "Protocol", "path": "HealthCheckPath", "enabled": "HealthCheckEnabled"}
        return resource.properties, (), names


def _disabled(value: Any) -> bool:
    return value is not UNKNOWN and value is not None and str(value).lower() == "false"
