"""The types that flow through the pipeline: artifacts in, findings out.

paths --discover--> Artifact --engines--> Finding --merge--> Finding --gate--> ScanResult --> reports
"""

from __future__ import annotations

import datetime
import enum
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

PathElem = str | int
PropertyPath = tuple[PathElem, ...]


class Severity(enum.Enum):
    """SARIF levels, ordered from most to least blocking."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls(text.lower())


class Status(enum.Enum):
    OPEN = "open"
    SUPPRESSED = "suppressed"
    BASELINED = "baselined"
    # Another engine's report of a concern the owning native rule evaluated and found
    # compliant: kept, with the reason, for audit; never blocking.
    SUPERSEDED = "superseded"
    # Not a finding: an owning native rule's verdict that a resource complies, consumed by
    # `findings.dedupe` (which supersedes the other engines' reports of that concern there).
    PASSED = "passed"


@dataclass(frozen=True, order=True)
class Location:
    """A region of a repo-relative file; lines are 1-based and inclusive."""

    uri: str
    start_line: int = 1
    end_line: int = 1
    start_column: int | None = None

    def __post_init__(self) -> None:
        if self.start_line < 1:
            object.__setattr__(self, "start_line", 1)
        if self.end_line < self.start_line:
            object.__setattr__(self, "end_line", self.start_line)


@dataclass(frozen=True)
class ResourceId:
    """Who a finding is about, in the terms the user wrote it in.

    kind: "cloudformation" (logical id), "cdk" (construct path), "terraform" (address),
    "account" (account name).
    """

    kind: str
    name: str
    type: str = ""
    logical_id: str = ""
    stack: str = ""

    @property
    def display(self) -> str:
        return f"{self.stack}: {self.name}" if self.stack and not self.name.startswith(self.stack) else self.name


@dataclass(frozen=True)
class RuleMeta:
    """What reports need to know about a rule, whichever engine runs it."""

    id: str
    engine: str
    severity: Severity
    title: str
    help_markdown: str = ""
    help_uri: str = ""
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    security_severity: float | None = None

    @property
    def security_severity_text(self) -> str:
        default = {Severity.ERROR: 7.5, Severity.WARNING: 5.0, Severity.NOTE: 2.0}[self.severity]
        value = self.security_severity if self.security_severity is not None else default
        return f"{min(max(value, 0.1), 10.0):.1f}"


@dataclass(frozen=True)
class Finding:
    """One violation instance: a rule broken by one resource (or one place in a file), from one engine."""

    rule_id: str
    engine: str
    severity: Severity
    message: str
    location: Location
    resource: ResourceId | None = None
    related: tuple[Location, ...] = ()
    also_reported_as: tuple[str, ...] = ()
    status: Status = Status.OPEN
    status_reason: str = ""
    # What is violated, stable across line moves and argument order (the property path, the
    # port/protocol/CIDR, the statement, the output name): two things to fix never share one.
    key: str = ""
    # The artifact judged: the template (of a cdk.out stack too, whichever file the finding
    # points at) or the Terraform root module; "" when it is the location's file.
    artifact: str = ""

    @property
    def artifact_uri(self) -> str:
        return self.artifact or self.location.uri

    @property
    def instance_key(self) -> str:
        """What is violated; a finding about no resource that names nothing else (a missing
        local module, a duplicate key) is told apart by what it says."""
        return self.key or (self.message if self.resource is None else "")

    @property
    def fingerprint(self) -> str:
        """One violation instance: rule, artifact, resource and what is violated; never the line."""
        return instance_fingerprint(self.rule_id, self.artifact_uri, self.resource.name if self.resource else "", self.instance_key)

    @property
    def legacy_fingerprints(self) -> frozenset[str]:
        """Fingerprints of baseline format 1 (rule, reported file, resource), for migration."""
        name = self.resource.name if self.resource else ""
        return frozenset(instance_fingerprint(self.rule_id, uri, name, "") for uri in {self.location.uri, self.artifact_uri})

    @property
    def sort_key(self) -> tuple[str, int, str, str, str, str, str]:
        # The artifact last: one module file judged from two roots gives two findings that differ
        # only there, and the workers' finishing order must not decide which comes first.
        name = self.resource.name if self.resource else ""
        return (self.location.uri, self.location.start_line, self.rule_id, name, self.key, self.message, self.artifact)

    def with_status(self, status: Status, reason: str = "") -> Finding:
        return replace(self, status=status, status_reason=reason)

    @property
    def blocking_rank(self) -> int:
        return self.severity.rank if self.status is Status.OPEN else 0


def instance_fingerprint(rule_id: str, artifact: str, resource: str, key: str) -> str:
    # Without a key the digest is format 1's (rule, file, resource), so findings that never
    # had several instances keep the fingerprints existing baselines and alerts know them by.
    text = f"{rule_id}\0{artifact}\0{resource}" + (f"\0{key}" if key else "")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Notification:
    """Something the run itself wants to say (a parse error, an engine failure)."""

    level: Severity
    message: str
    rule_id: str = ""


@dataclass(frozen=True)
class Artifact:
    """A parsed input: its decoded document as plain data, and where each part of it stands.

    `kind` names the input type ("cloudformation", ...). `lines` maps a path inside `data`
    to its (first, last) line; `context` carries what the input knows beyond the file
    (CDK stack name, Terraform module, ...). An artifact read from several files (a
    Terraform module directory) maps path prefixes to their file in `files`; `uri` is the
    file of every path that has no entry there.
    """

    kind: str
    path: str
    uri: str
    data: Any
    lines: Mapping[PropertyPath, tuple[int, int]] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[PropertyPath, str] = field(default_factory=dict)
    # Suppressions written in its resources' Metadata, read when it was loaded, and the findings
    # about those that cannot be read (IDP030): the gate only reads them.
    metadata_suppressions: tuple[ResourceSuppression, ...] = ()
    metadata_problems: tuple[Finding, ...] = ()

    def locate(self, path: PropertyPath) -> Location:
        """The deepest known region on the way to `path` (the file's first line at worst)."""
        uri = self.file_of(path)
        for depth in range(len(path), -1, -1):
            span = self.lines.get(path[:depth])
            if span is not None:
                return Location(uri, span[0], span[1])
        return Location(uri, 1, 1)

    def file_of(self, path: PropertyPath) -> str:
        if self.files:
            for depth in range(len(path), -1, -1):
                if path[:depth] in self.files:
                    return self.files[path[:depth]]
        return self.uri


@dataclass(frozen=True)
class Resource:
    """One resource of an artifact, as rules see it, in any format.

    `properties` are the configured attributes (CloudFormation `Properties`, Terraform
    arguments); `path` is where they stand in the artifact, so a rule's violation path
    can be turned into a line.

    Terraform convention (HCL and plan JSON alike): `type` is the resource type
    (`aws_security_group`), `properties` the evaluated arguments with nested blocks as lists
    of mappings (`ingress: [{from_port: 22, ...}]`), and `rule.UNKNOWN` where a value cannot
    be known before apply.
    """

    id: ResourceId
    type: str
    properties: Mapping[str, Any]
    path: PropertyPath
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    """A waiver written by a user: in template Metadata, a comment, or the waivers file.

    `rule_id` may name an alias (a checkov or cdk-nag id); `resource` is the resource identity
    it applies to (None: the whole file `location.uri`). `location` is where it was written.
    """

    rule_id: str
    reason: str
    location: Location
    resource: str | None = None
    expires: datetime.date | None = None
    owner: str = ""
    origin: str = "idp-scan"  # idp-scan | cdk-nag | checkov | cfn-lint | waivers


@dataclass(frozen=True)
class ResourceSuppression:
    """A suppression written on a resource (its Metadata), as the input read it: it covers the
    resource identities in `resources` (the resource, and the copies a transform made of its
    Metadata), on findings in the artifact's file, or in any file when `anywhere` (a CDK
    finding may point at source code)."""

    suppression: Suppression
    resources: tuple[str, ...]
    anywhere: bool = False


@dataclass(frozen=True)
class CommentSuppression:
    """An `# idp-scan:ignore` comment, as the input read it: it covers findings in its file on
    `target_line` (the line it ends, or the next line of code), or on a resource starting there."""

    suppression: Suppression
    target_line: int | None  # None: the comment is followed by nothing


@dataclass(frozen=True)
class FileComments:
    """The `# idp-scan:ignore` comments of one file, read when the file was loaded, and the
    findings about those that cannot be read (IDP030): the gate only reads them."""

    uri: str
    suppressions: tuple[CommentSuppression, ...] = ()
    problems: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ScanResult:
    findings: tuple[Finding, ...]
    rules: Mapping[str, RuleMeta]
    scanned: tuple[str, ...]
    notifications: tuple[Notification, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    complete: bool = True
    fail_on: Severity | None = Severity.ERROR

    @property
    def open_findings(self) -> Sequence[Finding]:
        return [f for f in self.findings if f.status is Status.OPEN]

    @property
    def blocking(self) -> Sequence[Finding]:
        if self.fail_on is None:
            return []
        threshold = self.fail_on.rank
        return [f for f in self.open_findings if f.severity.rank >= threshold]
