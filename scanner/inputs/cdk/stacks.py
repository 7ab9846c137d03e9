"""Where a CDK stack is declared and where its tags are recorded, for findings about a stack as a whole.

A finding about a whole stack (missing stack tags, its environment) has no resource to point
at. The stack's own creation stack (`aws:cdk:creationStack` on the stack's construct path)
names the line that creates it: `new OrdersStack(app, 'Orders')` (TypeScript) or
`LegacyStack(app, "LegacyPy")` (Python, where jsii's frames start inside the class's
`super().__init__`, so constructor frames are skipped). Its tags (`Tags.of(stack).add(...)`,
`tags:` props) are recorded in the manifest's `properties.tags` without a trace of their own;
the manifest line is where they were last written down.

`assembly.load_assembly` stores the facts in each template's context (`cdk.stack_site`);
`stack_site(artifact)` gives them back typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from scanner.inputs.cdk.sources import Frame, SourceFinder, named_user_frames
from scanner.model import Artifact, Location

CONSTRUCTORS = ("__init__", "<init>", ".ctor", "constructor")


@dataclass(frozen=True)
class StackSite:
    stack: str  # the CloudFormation stack name
    construct_path: str  # `Orders`, `PreviewPr123/Service`
    template: str  # repo-relative URI of its template
    declared_at: Frame | None  # the line that creates the stack, when the synth recorded it
    tags: Mapping[str, str]
    tags_at: Location | None  # the manifest's `tags` of the stack, when it has any


def declaration(creation_stack: Sequence[Any], finder: SourceFinder) -> Frame | None:
    """The line that creates a stack: the first user frame that is not a constructor's (a
    jsii host trace starts in the stack class's `__init__`), else the first user frame."""
    frames = named_user_frames(creation_stack)
    chosen = next((f for f in frames if not _is_constructor(f[0])), frames[0] if frames else None)
    return finder.locate(chosen[1], chosen[2]) if chosen is not None else None


def _is_constructor(function: str) -> bool:
    name = function.removeprefix("new ").strip()
    return name.endswith(CONSTRUCTORS)


def site_context(construct_path: str, declared_at: Frame | None, tags_at: Location | None) -> dict[str, Any]:
    """What `assembly.load_assembly` stores in a template's `cdk.stack_site` (plain values: the
    artifact's context goes through the content cache)."""
    return {
        "path": construct_path.lstrip("/"),
        "declared_at": list(declared_at) if declared_at is not None else None,
        "tags_at": [tags_at.uri, tags_at.start_line] if tags_at is not None else None,
    }


def stack_site(artifact: Artifact) -> StackSite | None:
    """The declaration site and tags of the stack a CDK template belongs to (None for a template
    that is not from a cloud assembly)."""
    site = artifact.context.get("cdk", {}).get("stack_site")
    if not isinstance(site, Mapping):
        return None
    declared, tags_at = site.get("declared_at"), site.get("tags_at")
    tags = artifact.context.get("stack_tags", {})
    return StackSite(
        stack=str(artifact.context.get("stack", "")),
        construct_path=str(site.get("path", "")),
        template=artifact.uri,
        declared_at=Frame(str(declared[0]), int(declared[1]), bool(declared[2])) if declared else None,
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
        tags_at=Location(str(tags_at[0]), int(tags_at[1]), int(tags_at[1])) if tags_at else None,
    )
