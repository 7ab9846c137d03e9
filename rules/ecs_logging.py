from __future__ import annotations

from typing import Any, Iterator, Mapping

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import TASK_DEFINITIONS, container_name, containers, field


class ContainerLogs(Rule):
    """Every container must ship its logs (LogConfiguration / logConfiguration).

    A container without a log configuration writes stdout and stderr nowhere the team can
    read: when the task crashes at start-up, the stopped-task reason is all that is left. The
    paved road sends logs to CloudWatch Logs with the `awslogs` driver (or to FireLens), so
    every service is debuggable the same way and logs are retained by policy. A log
    configuration given by a value only known at deploy time is accepted.

    **CloudFormation:**
    ```yaml
    LogConfiguration:
      LogDriver: awslogs
      Options: {awslogs-group: !Ref AppLogs, awslogs-region: !Ref AWS::Region, awslogs-stream-prefix: app}
    ```

    **CDK:** `logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'app', logGroup })` on `addContainer`.

    **Terraform:** in `container_definitions`:
    ```hcl
    logConfiguration = {
      logDriver = "awslogs"
      options   = { "awslogs-group" = aws_cloudwatch_log_group.app.name, "awslogs-region" = var.region, "awslogs-stream-prefix" = "app" }
    }
    ```
    """

    id = "IDP-ECS-002"
    severity = Severity.ERROR
    security_severity = 4.0
    resource_types = TASK_DEFINITIONS
    tags = ("reliability", "logging", "paved-road", "ecs", "NIST-800-53-AU-2")
    aliases = ()  # checkov has no check for container log configuration

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        for path, container in containers(resource):
            if not _ships_logs(container, ctx):
                yield Violation(path, f"{resource.id.name}: {container_name(container, path)} has no log configuration, so its logs are lost.")


def _ships_logs(container: Mapping[str, Any], ctx: RuleContext) -> bool:
    _, configuration = field(container, "LogConfiguration")
    value = ctx.resolve(configuration)
    if value is UNKNOWN:
        return True
    if not isinstance(value, Mapping):
        return False
    _, driver = field(value, "LogDriver")
    return ctx.resolve(driver) is UNKNOWN or bool(driver)
