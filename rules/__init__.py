"""The bundled paved-road rule pack.

Listed explicitly, never registered by import side effects: the catalogue asks for
`python_rules()` and `yaml_rule_files()` when a run needs them.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from scanner.rule import Rule

from .iam_admin_policy import AdminPolicy
from .net_admin_ports import AdminPortsOpenToWorld
from .s3_public import PublicBucket


def python_rules() -> tuple[type[Rule], ...]:
    return (AdminPortsOpenToWorld, AdminPolicy, PublicBucket)


def yaml_rule_files() -> list[Traversable]:
    package = resources.files(__name__)
    return sorted((f for f in package.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
