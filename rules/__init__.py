"""The bundled paved-road rule pack.

Listed explicitly, never registered by import side effects: the catalogue asks for
`python_rules()` and `yaml_rule_files()` when a run needs them.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from scanner.rule import Rule

from .ecs_images import ImagePinning
from .ecs_logging import ContainerLogs
from .elb_health_check import TargetGroupHealthCheck
from .env_secrets import PlaintextSecretsInEnvironment
from .iam_admin_policy import AdminPolicy
from .iam_users import IamUsersAndKeys
from .lambda_runtime import DeprecatedLambdaRuntime
from .net_admin_ports import AdminPortsOpenToWorld
from .net_data_ports import DataPortsOpenToWorld
from .preview_ttl import PreviewEnvironmentTtl
from .regions_allowed import AllowedRegions
from .s3_public import PublicBucket
from .tags_required import RequiredTags
from .tf_pinning import TerraformPinning
from .tracing import Tracing


def python_rules() -> tuple[type[Rule], ...]:
    return (
        AdminPortsOpenToWorld,
        DataPortsOpenToWorld,
        AdminPolicy,
        IamUsersAndKeys,
        PublicBucket,
        PlaintextSecretsInEnvironment,
        ContainerLogs,
        ImagePinning,
        TargetGroupHealthCheck,
        DeprecatedLambdaRuntime,
        RequiredTags,
        PreviewEnvironmentTtl,
        AllowedRegions,
        Tracing,
        TerraformPinning,
    )


def yaml_rule_files() -> list[Traversable]:
    package = resources.files(__name__)
    return sorted((f for f in package.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
