"""The native rule API: a rule is a small stateless class, or a YAML document (see yamlrule).

    class AdminPortsOpen(Rule):
        '''Security groups must not open SSH or RDP to the world.

        Markdown help: why it matters, how to fix it in CloudFormation, CDK and Terraform.
        '''
        id = "IDP-NET-001"
        severity = Severity.ERROR
        resource_types = ("AWS::EC2::SecurityGroup",)

        def check(self, resource, ctx):
            yield Violation(("SecurityGroupIngress", 0, "CidrIp"), "SSH open to 0.0.0.0/0")

The docstring's first line is the title; the rest is the help shown in SARIF and `rules show`.
`check` yields violations with a path inside `resource.properties`; the engine turns the path
into a line. Values a rule cannot know (a parameter without default, a token) come back from
`ctx.resolve` as `UNKNOWN`: a rule never fails a resource on an unknown value.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Mapping, Protocol, Sequence

from scanner.model import Artifact, PropertyPath, Resource, RuleMeta, Severity

TERRAFORM_KINDS = ("terraform", "terraform-plan")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{3}$")


class _Unknown:
    """A value only known at deploy time."""

    _instance: ClassVar[_Unknown | None] = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Violation:
    """Where (inside the resource's properties) and why a resource breaks a rule.

    Each distinct `key` is a finding of its own (its own fingerprint, baseline entry and alert):
    name what is violated in terms that survive reordering (`tcp/22/0.0.0.0/0`, a statement's
    Sid). Without one, the property path is the key.
    """

    path: PropertyPath
    message: str
    key: str = ""

    @property
    def instance(self) -> str:
        return self.key or path_key(self.path)


def path_key(path: PropertyPath) -> str:
    return "/".join(str(part) for part in path)


@dataclass(frozen=True)
class RuleContext:
    """What a rule may read besides the resource: its neighbours and the settings."""

    artifact: Artifact
    resources: Sequence[Resource]
    options: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """The literal behind a value, or UNKNOWN when it is only known at deploy time.

        Terraform inputs hand rules values that are already evaluated (UNKNOWN stays UNKNOWN);
        CloudFormation values may still be intrinsic functions.
        """
        if self.artifact.kind in TERRAFORM_KINDS:
            return value
        return resolve_cfn(value, self.artifact.data)


def resolve_cfn(value: Any, template: Any) -> Any:
    """Resolve `Ref` to a parameter with a `Default`; other intrinsic functions are UNKNOWN."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return value
    (name, argument), = value.items()
    if name == "Ref" and isinstance(argument, str):
        parameters = template.get("Parameters", {}) if isinstance(template, Mapping) else {}
        parameter = parameters.get(argument) if isinstance(parameters, Mapping) else None
        if isinstance(parameter, Mapping) and "Default" in parameter:
            return parameter["Default"]
        return UNKNOWN
    if name == "Ref" or name.startswith("Fn::") or name == "Condition":
        return UNKNOWN
    return value


class Rule:
    """Base class of Python rules. Subclasses set the class attributes and `check`."""

    id: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    resource_types: ClassVar[tuple[str, ...]] = ()
    tags: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()
    security_severity: ClassVar[float | None] = None
    help_uri: ClassVar[str] = ""
    # The concern may hold for a whole stack (a tag every resource lacks): reported once, for
    # the stack, when every resource the rule applies to breaks it the same way.
    scope_wide: ClassVar[bool] = False

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        raise NotImplementedError

    def applies_to(self, resource: Resource) -> bool:
        return resource.type in self.resource_types

    @classmethod
    def meta(cls) -> RuleMeta:
        title, help_markdown = split_docstring(inspect.getdoc(cls) or "")
        return RuleMeta(
            id=cls.id,
            engine="native",
            severity=cls.severity,
            title=title,
            help_markdown=help_markdown,
            help_uri=cls.help_uri,
            tags=cls.tags,
            aliases=cls.aliases,
            security_severity=cls.security_severity,
        )


def split_docstring(doc: str) -> tuple[str, str]:
    """First paragraph line is the title, the rest the markdown help."""
    lines = doc.strip().splitlines()
    if not lines:
        return "", ""
    return lines[0].strip().rstrip("."), "\n".join(lines[1:]).strip()


class NativeRule(Protocol):
    """What the native engine needs of a rule, Python class or YAML document alike."""

    @property
    def id(self) -> str: ...

    @property
    def scope_wide(self) -> bool: ...

    def meta(self) -> RuleMeta: ...

    def applies_to(self, resource: Resource) -> bool: ...

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]: ...
