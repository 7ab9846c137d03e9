from __future__ import annotations

import datetime
from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import is_terraform, option

# AWS Lambda runtime deprecation dates (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
# A runtime is deprecated on and after its date; the table is part of the rule so that a scan
# is reproducible: `lambda.runtimes_as_of` pins the date it is evaluated at (default: today).
DEPRECATED_ON = {
    "nodejs": "2016-10-31", "nodejs4.3": "2020-03-05", "nodejs4.3-edge": "2019-04-30",
    "nodejs6.10": "2019-08-12", "nodejs8.10": "2020-03-06", "nodejs10.x": "2021-07-30",
    "nodejs12.x": "2023-03-31", "nodejs14.x": "2023-12-04", "nodejs16.x": "2024-06-12",
    "nodejs18.x": "2025-09-01", "nodejs20.x": "2026-04-30", "nodejs22.x": "2027-04-30",
    "python2.7": "2021-07-15", "python3.6": "2022-07-18", "python3.7": "2023-12-04",
    "python3.8": "2024-10-14", "python3.9": "2025-12-15", "python3.10": "2026-06-30",
    "python3.11": "2026-06-30", "python3.12": "2028-10-31", "python3.13": "2029-06-30",
    "java8": "2024-01-08", "java8.al2": "2026-06-30", "java11": "2026-06-30", "java17": "2026-06-30",
    "java21": "2029-06-30",
    "dotnetcore1.0": "2019-07-30", "dotnetcore2.0": "2019-05-30", "dotnetcore2.1": "2022-01-05",
    "dotnetcore3.1": "2023-04-03", "dotnet5.0": "2022-05-10", "dotnet6": "2024-12-20",
    "dotnet7": "2024-05-14", "dotnet8": "2026-11-10",
    "ruby2.5": "2022-07-30", "ruby2.7": "2023-12-07", "ruby3.2": "2026-03-31", "ruby3.3": "2027-03-31",
    "go1.x": "2024-01-08", "provided": "2024-01-08", "provided.al2": "2026-06-30",
}


def as_of(ctx: RuleContext) -> datetime.date:
    configured = option(ctx, "lambda", "runtimes_as_of")
    if isinstance(configured, datetime.date):
        return configured
    if isinstance(configured, str):
        return datetime.date.fromisoformat(configured)
    return datetime.date.today()


class DeprecatedLambdaRuntime(Rule):
    """Lambda functions must not use a runtime that AWS has deprecated.

    A deprecated runtime gets no more security patches from AWS; soon after, functions using
    it can no longer be created or updated, so the next urgent fix cannot be deployed. The
    rule carries AWS's published deprecation dates and compares them with today (or with
    `lambda.runtimes_as_of` in the configuration, for reproducible scans). Container-image
    functions (no `Runtime`) are the image owner's responsibility and pass.

    **CloudFormation:** `Runtime: python3.12` (or `nodejs22.x`, `java21`, `dotnet8`).

    **CDK:** `runtime: lambda.Runtime.PYTHON_3_12` (`lambda.Runtime.NODEJS_22_X`, ...).

    **Terraform:** `runtime = "python3.12"` on `aws_lambda_function`.
    """

    id = "IDP-LAMBDA-001"
    severity = Severity.ERROR
    security_severity = 6.0
    resource_types = ("AWS::Lambda::Function", "aws_lambda_function")
    tags = ("security", "lambda", "paved-road", "NIST-800-53-SI-2", "NIST-800-53-SA-22")
    aliases = ("CKV_AWS_363",)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        key = "runtime" if is_terraform(resource) else "Runtime"
        runtime = ctx.resolve(resource.properties.get(key))
        if runtime is UNKNOWN or not isinstance(runtime, str) or runtime not in DEPRECATED_ON:
            return
        since = datetime.date.fromisoformat(DEPRECATED_ON[runtime])
        if since <= as_of(ctx):
            yield Violation((key,), f"{resource.id.name} uses {runtime}, deprecated by AWS since {since.isoformat()}.")
