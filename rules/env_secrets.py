from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import block, container_name, containers, field

SECRET_NAME = re.compile(r"PASS(WORD|WD)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH_?KEY", re.IGNORECASE)
# A variable that names where the secret is (an ARN, a parameter path), or a setting about it
# (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, `PASSWORD_MIN_LENGTH`, `..._LOG_LEVEL`).
REFERENCE_NAME = re.compile(
    r"_(ARN|NAME|ID|PARAM|PARAMETER|PATH|URL|URI|ENDPOINT|TTL|SECONDS|MILLIS|FILE|HEADER|ENABLED|REGION"
    r"|PORT|SIZE|LENGTH|LEVEL|MODE|TIMEOUT|CONNECTIONS|COUNT|LIMIT|VERSION|TYPE)$",
    re.IGNORECASE,
)
# A value that points at the secret: a dynamic reference or an ARN.
REFERENCE_VALUE = re.compile(r"^(\{\{resolve:[a-z-]+:|arn:aws[a-z-]*:[a-z0-9-]+:)")
# A value no secret has: a number a port, length, size or count fits in (up to six digits), a boolean.
SETTING_VALUE = re.compile(r"^(-?\d{1,6}(\.\d+)?|true|false|yes|no|on|off|enabled|disabled)$", re.IGNORECASE)


def is_plaintext_secret(name: Any, value: Any) -> bool:
    """A literal secret: a secret's name (not a reference's or a setting's) with a value only a secret has."""
    if not isinstance(name, str) or not SECRET_NAME.search(name) or REFERENCE_NAME.search(name):
        return False
    if value is UNKNOWN or not isinstance(value, (str, int)) or isinstance(value, bool):
        return False
    text = str(value).strip()
    return bool(text) and not REFERENCE_VALUE.match(text) and not SETTING_VALUE.match(text)


def _lambda_variables(resource: Resource) -> Iterator[tuple[PropertyPath, Mapping[str, Any]]]:
    if resource.type == "AWS::Lambda::Function":
        environment = resource.properties.get("Environment")
        variables = environment.get("Variables") if isinstance(environment, Mapping) else None
        if isinstance(variables, Mapping):
            yield ("Environment", "Variables"), variables
    elif resource.type == "aws_lambda_function":
        environment = resource.properties.get("environment")
        variables = block(environment).get("variables")
        if isinstance(variables, Mapping):
            prefix: PropertyPath = ("environment", 0, "variables") if isinstance(environment, list) else ("environment", "variables")
            yield prefix, variables


def _container_variables(resource: Resource) -> Iterator[tuple[PropertyPath, str, Any, str]]:
    for path, container in containers(resource):
        key, environment = field(container, "Environment")
        for index, item in enumerate(environment if isinstance(environment, list) else []):
            if isinstance(item, Mapping):
                name_key, name = field(item, "Name")
                value_key, value = field(item, "Value")
                item_path: PropertyPath = (*path, key, index, value_key) if len(path) > 1 else path
                yield item_path, name, value, container_name(container, path)


class PlaintextSecretsInEnvironment(Rule):
    """Lambda and ECS environment variables must not hold secrets in plain text.

    Environment variables are readable by anyone who can describe the function or task
    definition (`lambda:GetFunctionConfiguration`, `ecs:DescribeTaskDefinition`, the console),
    they are copied into every task definition revision forever, and the template that sets
    them sits in git. A variable whose name says it is a secret (`PASSWORD`, `SECRET`, `TOKEN`,
    `API_KEY`, `PRIVATE_KEY`, `CREDENTIAL`) with a literal value is a finding. Not a finding: a
    dynamic reference (`{{resolve:secretsmanager:...}}`, `{{resolve:ssm-secure:...}}`), an ARN, a
    value only known at deploy time (`!Ref` of a parameter without a default or of a secret,
    `!GetAtt`, `!Sub`), a number of up to six digits or a boolean (no secret looks like `2773`
    or `true`), and a name that points at the secret or is a setting about it (`DB_SECRET_ARN`,
    `API_KEY_PARAMETER`, `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, `PASSWORD_MIN_LENGTH`).

    **CloudFormation:** ECS: move the variable to `Secrets: [{Name: DB_PASSWORD, ValueFrom: !Ref DbSecret}]`;
    Lambda: pass the secret's ARN and read it at start-up (or use the Parameters and Secrets extension).

    **CDK:**
    ```ts
    container.addSecret('DB_PASSWORD', ecs.Secret.fromSecretsManager(dbSecret, 'password'));
    fn.addEnvironment('DB_SECRET_ARN', dbSecret.secretArn); dbSecret.grantRead(fn);
    ```

    **Terraform:**
    ```hcl
    secrets = [{ name = "DB_PASSWORD", valueFrom = aws_secretsmanager_secret.db.arn }]
    ```
    """

    id = "IDP-DATA-004"
    severity = Severity.ERROR
    security_severity = 7.5
    resource_types = ("AWS::Lambda::Function", "aws_lambda_function", "AWS::ECS::TaskDefinition", "aws_ecs_task_definition")
    tags = ("security", "data", "secrets", "NIST-800-53-IA-5", "NIST-800-53-SC-28")
    aliases = ("CKV_AWS_45",)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        for prefix, variables in _lambda_variables(resource):
            for name, value in variables.items():
                if is_plaintext_secret(name, ctx.resolve(value)):
                    yield Violation((*prefix, name), f"{resource.id.name} sets the secret {name} in plain text in its environment.")
        for path, name, value, container in _container_variables(resource):
            if is_plaintext_secret(name, ctx.resolve(value)):
                yield Violation(path, f"{resource.id.name} sets the secret {name} in plain text in the environment of {container}.")
