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

from scanner.failures import is_failure
from scanner.inputs import cdk_framework, cfn
from scanner.model import Artifact, Finding, Location, ResourceId, Status

LOGICAL_ID = "aws:cdk:logicalId"
CREATION_STACK = "aws:cdk:creationStack"
PROPERTY_ASSIGNMENT = "aws:cdk:propertyAssignment"

SOURCE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".py", ".java", ".kt", ".cs", ".fs", ".go")
LIBRARY_MARKERS = (
    "/node_modules/", "\\node_modules\\", "site-packages", "dist-packages", "/jsii/", "\\jsii\\", "jsii-runtime",
    "jsii-kernel", "/lib/program.js", "node:internal", "<frozen",
)
# A Python interpreter's own library (`/usr/lib/python3.11/runpy.py`, `C:\Python311\Lib\runpy.py`).
_RUNTIME_LIBRARY = re.compile(r"[/\\]lib[/\\]python\d[\d.]*[/\\]|[/\\]Python\d+[/\\]Lib[/\\]", re.IGNORECASE)
# `file:line` or `file:line:col`; a file may hold colons itself (`C:\src\app.ts`, `file:///x`).
_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")
# Python's own traceback format, as old jsii runtimes and hand-made traces write it.
_PY_TRACEBACK = re.compile(r"""File "(?P<file>[^"]+)", line (?P<line>\d+)""")


def parse_frame(text: str) -> tuple[str, int] | None:
    """(file, line) of one stack frame as CDK writes them, or None for a summary or marker line.

    Node: `at new X (file:line:col)`, `X (file:line:col)`, a bare `file:line:col`; jsii host
    frames, which aws-cdk-lib appends for Python, Java, .NET and Go apps: `name (file:line)`
    (`__init__ (/app/app.py:38)`); Python tracebacks: `File "x.py", line 12, in f`. Summaries
    (`...new Vpc2 in aws-cdk-lib...`) and `(no user code in 10 frames, ...)` name no frame.
    """
    named = parse_named_frame(text)
    return (named[1], named[2]) if named is not None else None


def parse_named_frame(text: str) -> tuple[str, str, int] | None:
    """(function, file, line) of one stack frame (see `parse_frame`); the function may be ""."""
    text = text.strip().removeprefix("at ").strip()
    if not text or text.startswith(("...", "(no user code")):
        return None
    traceback = _PY_TRACEBACK.search(text)
    if traceback is not None:
        function = text.rsplit(", in ", 1)[1].strip() if ", in " in text else ""
        return function, traceback.group("file"), int(traceback.group("line"))
    if text.endswith(")"):
        return _in_parentheses(text[:-1])
    found = _location(text)
    return ("", *found) if found is not None else None


def _in_parentheses(text: str) -> tuple[str, str, int] | None:
    """The location after the first ` (` that leaves one: function names hold no ` (`, paths
    may (`/home/me/app (copy)/lib/x.ts`)."""
    starts = [i for i, char in enumerate(text) if char == "(" and text[i - 1:i] in (" ", "")]
    for position in starts or [i for i, char in enumerate(text) if char == "("]:
        found = _location(text[position + 1:])
        if found is not None:
            return text[:position].strip(), *found
    return None


def _location(text: str) -> tuple[str, int] | None:
    match = _LOCATION.match(text.strip())
    if match is None:
        return None
    file = match.group("file").strip().removeprefix("file://")
    return (file, int(match.group("line"))) if file else None


def is_user_file(file: str) -> bool:
    """Source of the app itself: not the CDK library, node_modules, a jsii runtime or the
    language runtime's own library."""
    if any(marker in file for marker in LIBRARY_MARKERS) or _RUNTIME_LIBRARY.search(file):
        return False
    return file.lower().endswith(SOURCE_SUFFIXES)


class Frame(NamedTuple):
    """A source line of a construct. A plain tuple underneath, so that an artifact's context
    survives the content cache (which gives it back as a tuple: see `_with_source`)."""

    uri: str  # repo-relative when found in the repository, else the path as written
    line: int
    in_repo: bool


def user_frames(frames: Iterable[Any]) -> list[tuple[str, int]]:
    """Frames of the user's own code, innermost first: not the CDK library, node_modules,
    ts-node, node internals, the jsii runtime or the Python library. An entry may hold several
    frames, one a line (a cdk-nag report's `stackTraces`)."""
    return [(file, line) for _, file, line in named_user_frames(frames)]


def named_user_frames(frames: Iterable[Any]) -> list[tuple[str, str, int]]:
    """`user_frames` with the function of each: (function, file, line)."""
    found: list[tuple[str, str, int]] = []
    for raw in frames:
        if not isinstance(raw, str):
            continue
        for line in raw.splitlines():
            frame = parse_named_frame(line)
            if frame is not None and is_user_file(frame[1]):
                found.append(frame)
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


def inherit_sources(construct_paths: Mapping[str, str], sources: Mapping[str, Mapping[str, Frame]], scope: str) -> dict[str, dict[str, Frame]]:
    """Sources for the resources whose own creation stack names no user code (an L2 construct
    makes its subnets and route tables deeper than the 10 frames CDK keeps): the creation frame
    of the nearest construct above them, inside the stack, that has one (`VPC/PublicSubnet1/Subnet`
    -> `VPC/Resource`, the user's `new Vpc(...)`). A construct's own `Resource` is preferred."""
    below: dict[str, Frame] = {}  # construct path -> the creation frame of a resource below it
    for logical_id, path in sorted(construct_paths.items(), key=lambda item: (not item[1].endswith("/Resource"), item[1])):
        frame = sources.get(logical_id, {}).get("")
        parts = path.split("/")
        for depth in range(len(parts) - 1, 0, -1):
            if frame is not None:
                below.setdefault("/".join(parts[:depth]), frame)
    out = {logical_id: dict(frames) for logical_id, frames in sources.items()}
    for logical_id, path in construct_paths.items():
        if out.get(logical_id, {}).get(""):
            continue
        parts = path.split("/")
        for depth in range(len(parts) - 1, 0, -1):
            prefix = "/".join(parts[:depth])
            if len(prefix) <= len(scope):  # the stack as a whole is no construct's place
                break
            if prefix in below:
                out.setdefault(logical_id, {})[""] = below[prefix]
                break
    return out


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
    drop the ones about CDK plumbing (the scanner's own failures are never dropped), mark the
    ones the app acknowledged and the ones about CDK's framework resources (`cdk_framework`)."""
    templates = {a.uri: a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context}
    if not templates:
        return list(findings)
    acknowledged = Acknowledgements(templates.values())
    framework = cdk_framework.Framework(templates.values())
    out: list[Finding] = []
    for finding in findings:
        artifact = templates.get(finding.location.uri)
        if artifact is None:
            out.append(framework.mark(acknowledged.mark(finding)))
            continue
        if not is_failure(finding) and _in_plumbing(artifact, finding.location.start_line):
            continue
        out.append(framework.mark(acknowledged.mark(_with_source(finding, artifact))))
    return out


def framework_notes(findings: Sequence[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """IDP064 notes on the user's constructs whose options made CDK add framework resources that
    hold marked findings among `findings` (the selected ones: a run that selects no such rule
    gets no note)."""
    templates = {a.uri: a for a in artifacts if a.kind == cfn.KIND and "cdk" in a.context}
    if not templates:
        return []
    notes = cdk_framework.Framework(templates.values()).notes(findings)
    return [_with_source(note, templates[note.location.uri]) for note in notes]


def acknowledgement_reason(construct_path: str, ack_id: str, reason: str) -> str:
    return f"acknowledged in CDK code at {construct_path} ({ack_id}): {reason.strip()}"


class Acknowledgements:
    """`Validations.of(x).acknowledge(...)` of another engine's rule (`CloudFormation-Validate::W3045`
    is cfn-lint's W3045): marks that rule's open findings on x and below as SUPPRESSED, with the
    acknowledgement's reason. aws-cdk-lib writes some itself (W3045 wherever `accessControl` is
    set, W3010 where a stack reads `availabilityZones`), so one matching nothing is no finding."""

    def __init__(self, templates: Iterable[Artifact]) -> None:
        self._by_rule: dict[str, list[tuple[str, str, str]]] = {}
        for template in templates:
            for entry in template.context["cdk"].get("acknowledged", ()):
                path, ack_id, rule_id, reason = (str(part) for part in entry)
                self._by_rule.setdefault(rule_id, []).append((path, ack_id, reason))

    def mark(self, finding: Finding) -> Finding:
        if finding.status is not Status.OPEN or finding.resource is None or finding.resource.kind != "cdk":
            return finding
        name = finding.resource.name
        for path, ack_id, reason in self._by_rule.get(finding.rule_id, ()):
            if name == path or name.startswith(path + "/"):
                return finding.with_status(Status.SUPPRESSED, acknowledgement_reason(path, ack_id, reason))
        return finding


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
