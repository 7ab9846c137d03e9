"""Where a CDK construct was defined, and findings moved there.

CDK writes the stack trace of each construct's creation (`aws:cdk:creationStack`), and with
`cdk synth --debug` of each property assignment (`aws:cdk:propertyAssignment`), into the stack
metadata; an old-style `aws:cdk:logicalId` entry carries a `trace`. The first frame of the
user's own code (not the CDK library, node_modules or a jsii runtime) is where the construct
was written. Stack traces hold absolute paths of the machine that synthesized; a frame is found
again in the repository by its path relative to the app directory.

After the engines ran, `attach_sources` gives every finding in a CDK template its construct
path, moves it to that source line (keeping the template line as a related location), and
drops findings about CDK plumbing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from scanner.inputs import cfn
from scanner.model import Artifact, Finding, Location, ResourceId

LOGICAL_ID = "aws:cdk:logicalId"
CREATION_STACK = "aws:cdk:creationStack"
PROPERTY_ASSIGNMENT = "aws:cdk:propertyAssignment"

SOURCE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".py", ".java", ".cs", ".go")
LIBRARY_MARKERS = (
    "/node_modules/", "\\node_modules\\", "site-packages", "dist-packages", "/jsii/", "jsii-runtime",
    "jsii-kernel", "/lib/program.js", "node:internal", "<frozen",
)
_JS_FRAME = re.compile(r"\(?(?P<file>[^()\s][^()]*?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")
_PY_FRAME = re.compile(r"""File "(?P<file>[^"]+)", line (?P<line>\d+)""")


class Frame(NamedTuple):
    """A source line of a construct. A plain tuple underneath, so that an artifact's context
    survives the content cache (which gives it back as a tuple: see `_with_source`)."""

    uri: str  # repo-relative when found in the repository, else the path as written
    line: int
    in_repo: bool


def user_frames(frames: Iterable[Any]) -> list[tuple[str, int]]:
    """Frames of the user's own code, outermost call last: not the CDK library, node_modules,
    ts-node, node internals or the jsii runtime of a Python/Java/.NET app."""
    found: list[tuple[str, int]] = []
    for raw in frames:
        text = str(raw).strip()
        if not text or text.startswith("..."):  # "...new Vpc2 in aws-cdk-lib..." summarises library frames
            continue
        match = _PY_FRAME.search(text) or _JS_FRAME.search(text.removeprefix("at ").strip())
        if match is None:
            continue
        file = match.group("file").strip().removeprefix("file://")
        if any(marker in file for marker in LIBRARY_MARKERS) or not file.lower().endswith(SOURCE_SUFFIXES):
            continue
        found.append((file, int(match.group("line"))))
    return found


def user_frame(frames: Iterable[Any]) -> tuple[str, int] | None:
    """The innermost frame of the user's own code."""
    found = user_frames(frames)
    return found[0] if found else None


class SourceFinder:
    """Finds a frame's file in the repository: as written, else by its path below the app dir."""

    def __init__(self, app_dir: Path, root: Path | None) -> None:
        self._bases = [app_dir] + ([root] if root is not None else [])
        self._root = root
        self._cache: dict[tuple[str, int], Frame] = {}

    def best(self, frames: Sequence[tuple[str, int]]) -> Frame | None:
        """The innermost frame found in the repository, else the innermost one."""
        located = [self.locate(file, line) for file, line in frames]
        return next((f for f in located if f.in_repo), located[0] if located else None)

    def locate(self, file: str, line: int) -> Frame:
        key = (file, line)
        if key not in self._cache:
            self._cache[key] = self._find(file, line)
        return self._cache[key]

    def _find(self, file: str, line: int) -> Frame:
        pure = PureWindowsPath(file) if re.match(r"^[A-Za-z]:\\", file) else PurePosixPath(file)
        parts = [p for p in pure.parts if p not in (pure.anchor, "/", "\\")]
        candidates = [Path(file)] if pure.is_absolute() else []
        for start in range(len(parts)):
            candidates.extend(base.joinpath(*parts[start:]) for base in self._bases)
        for candidate in candidates:
            uri = self._repo_uri(candidate)
            if uri is not None:
                return Frame(uri, max(line, 1), True)
        return Frame(file, max(line, 1), False)

    def _repo_uri(self, candidate: Path) -> str | None:
        if self._root is None or ".." in candidate.parts:
            return None
        try:
            resolved = candidate.resolve()
            if not resolved.is_file():
                return None
            return resolved.relative_to(self._root).as_posix()
        except (OSError, ValueError):
            return None


def frames_of(entries: Sequence[Mapping[str, Any]], finder: SourceFinder) -> dict[str, Frame]:
    """"" -> the creating frame; property name -> the assigning frame."""
    frames: dict[str, Frame] = {}
    for entry in entries:
        kind, data = entry.get("type"), entry.get("data")
        if kind == CREATION_STACK and isinstance(data, list):
            key, found = "", finder.best(user_frames(data))
        elif kind == LOGICAL_ID and isinstance(entry.get("trace"), list):  # before creationStack existed
            key, found = "", finder.best(user_frames(entry["trace"]))
        elif kind == PROPERTY_ASSIGNMENT and isinstance(data, Mapping) and isinstance(data.get("stackTrace"), list):
            key, found = str(data.get("propertyName", "")), finder.best(user_frames(data["stackTrace"]))
        else:
            continue
        if found is not None and key not in frames:
            frames[key] = found
    return frames


# ---------------------------------------------------------------------------------------------
# After the engines: construct paths, source lines, no plumbing


def _resource_at(artifact: Artifact, line: int) -> str | None:
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    for logical_id in resources if isinstance(resources, Mapping) else ():
        span = artifact.lines.get(("Resources", logical_id))
        if span is not None and span[0] <= line <= span[1]:
            return str(logical_id)
    return None


def _property_at(artifact: Artifact, logical_id: str, line: int) -> str:
    body = artifact.data.get("Resources", {}).get(logical_id) if isinstance(artifact.data, Mapping) else None
    properties = body.get("Properties") if isinstance(body, Mapping) else None
    for name in properties if isinstance(properties, Mapping) else ():
        span = artifact.lines.get(("Resources", logical_id, "Properties", name))
        if span is not None and span[0] <= line <= span[1]:
            return str(name)
    return ""


def _in_plumbing(artifact: Artifact, line: int) -> bool:
    for path in artifact.context.get("cdk", {}).get("plumbing", ()):
        span = artifact.lines.get(tuple(path))
        if span is not None and span[0] <= line <= span[1]:
            return True
    return False


def _resource_type(artifact: Artifact, logical_id: str) -> str:
    body = artifact.data.get("Resources", {}).get(logical_id) if isinstance(artifact.data, Mapping) else None
    return str(body.get("Type", "")) if isinstance(body, Mapping) else ""


def attach_sources(findings: Sequence[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """Name findings in CDK templates by construct path, point them at the user's source line,
    and drop the ones about CDK plumbing (the scanner's own failures are never dropped)."""
    templates = {a.uri: a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context}
    if not templates:
        return list(findings)
    out: list[Finding] = []
    for finding in findings:
        artifact = templates.get(finding.location.uri)
        if artifact is None:
            out.append(finding)
            continue
        if finding.engine != "idp-scan" and _in_plumbing(artifact, finding.location.start_line):
            continue
        out.append(_with_source(finding, artifact))
    return out


def _with_source(finding: Finding, artifact: Artifact) -> Finding:
    line = finding.location.start_line
    logical_id = (finding.resource.logical_id if finding.resource else "") or _resource_at(artifact, line)
    if not logical_id:
        return finding
    resource = finding.resource
    if resource is None or resource.kind == cfn.KIND:
        resource = cfn.resource_identity(artifact, logical_id, (resource.type if resource else "") or _resource_type(artifact, logical_id))
    finding = replace(finding, resource=resource)
    sources: Mapping[str, Frame] = artifact.context["cdk"]["sources"].get(logical_id, {})
    found = sources.get(_property_at(artifact, logical_id, line)) or sources.get("")
    if found is None:
        return finding
    frame = Frame(*found)
    if not frame.in_repo:
        return replace(finding, message=f"{finding.message} (defined at {frame.uri}:{frame.line})")
    # The template stays the artifact judged: the fingerprint does not depend on how synth ran.
    return replace(finding, location=Location(frame.uri, frame.line, frame.line), related=(finding.location, *finding.related),
                   artifact=finding.artifact or finding.location.uri)


def stack_resource(artifact: Artifact, logical_id: str) -> ResourceId:
    return cfn.resource_identity(artifact, logical_id, _resource_type(artifact, logical_id))
