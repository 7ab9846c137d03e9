"""A stack's metadata read into what each template of the stack needs: construct paths by
logical id, source frames, acknowledgements, and the source line of constructs without a resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from scanner.inputs.cdk.sources import LOGICAL_ID, Frame, SourceFinder, frames_of, user_frames


TEMPLATE_FILE = "aws:cdk:templateFile"
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


class StackMetadata:
    """A stack's metadata (manifest `metadata` and `additionalMetadataFile`), by construct path."""

    def __init__(self, entries: Mapping[str, Any]) -> None:
        self.entries: dict[str, list[Mapping[str, Any]]] = {
            str(path): [e for e in value if isinstance(e, Mapping)]
            for path, value in entries.items()
            if isinstance(value, list)
        }

    def of_type(self, type_: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for path, entries in self.entries.items():
            for entry in entries:
                if entry.get("type") == type_:
                    yield path, entry

    def template_scopes(self) -> dict[str, str]:
        """Template file -> construct path of its stack (root and nested stacks alike)."""
        return {str(e["data"]): path for path, e in self.of_type(TEMPLATE_FILE) if isinstance(e.get("data"), str)}


def _owner(path: str, scopes: Sequence[str]) -> str | None:
    """The innermost template scope a construct path belongs to."""
    owners = [s for s in scopes if path == s or path.startswith(s.rstrip("/") + "/")]
    return max(owners, key=len) if owners else None


@dataclass
class TemplateFacts:
    scope: str
    construct_paths: dict[str, str] = field(default_factory=dict)
    sources: dict[str, dict[str, Frame]] = field(default_factory=dict)
    acknowledged: list[tuple[str, str, str]] = field(default_factory=list)  # (construct path, rule id, reason)
    handlers: list[str] = field(default_factory=list)  # CDK's custom-resource handlers in the stack
    site: dict[str, Any] = field(default_factory=dict)  # the stack's declaration and tags (cdk_stacks)
    construct_sources: dict[str, Frame] = field(default_factory=dict)  # path of a construct without a resource -> frame


def template_facts(metadata: StackMetadata, scopes: Sequence[str], finder: SourceFinder) -> dict[str, TemplateFacts]:
    """Construct paths, source frames and acknowledgements of each template scope."""
    facts = {scope: TemplateFacts(scope) for scope in scopes}
    for path, entries in metadata.entries.items():
        owner = _owner(path, scopes)
        if owner is None:
            continue
        here = facts[owner]
        logical_ids = [str(e["data"]) for e in entries if e.get("type") == LOGICAL_ID and isinstance(e.get("data"), str)]
        for entry in entries:
            if entry.get("type") == ACKNOWLEDGED and isinstance(entry.get("data"), Mapping):
                here.acknowledged.extend((path.lstrip("/"), str(k), str(v)) for k, v in entry["data"].items())
        for logical_id in logical_ids:
            here.construct_paths.setdefault(logical_id, path.lstrip("/"))
            frames = frames_of(entries, finder)
            if frames:
                here.sources.setdefault(logical_id, frames)
        if not logical_ids:  # a construct without a resource of its own: the trace of what it recorded
            traced = [e["trace"] for e in entries if isinstance(e.get("trace"), list)]
            found = finder.best([f for trace in traced for f in user_frames(trace)][:1])
            if found is not None:
                here.construct_sources[path.lstrip("/")] = found
    return facts
