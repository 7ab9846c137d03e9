"""The cache's keys: digests of everything that produced a result."""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from scanner import __version__
from scanner.inputs import Unit, unit_reads, unit_sources
from scanner.model import Artifact, Finding, RuleMeta

if TYPE_CHECKING:
    from scanner.engines import Engine

# Configuration keys that act after the engines (or on the run itself): changing them must
# not throw the cache away. Every other key is part of the key, unknown future ones included.
RUN_ONLY_KEYS = frozenset({"budget", "jobs", "unit_timeout", "cache", "cache_dir", "fail_on", "changed_since",
                           "baseline", "waivers", "severity"})


def digest(*parts: str | bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        sha.update(len(raw).to_bytes(8, "big"))
        sha.update(raw)
    return sha.hexdigest()


def file_digest(path: Path) -> str:
    """A file's bytes, or a directory's relative names and bytes (what a directory loader reads)."""
    if path.is_file():
        return digest(path.read_bytes())
    parts: list[str | bytes] = []
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        parts += [child.relative_to(path).as_posix(), child.read_bytes()]
    return digest(*parts)


def files_digest(paths: Sequence[Path], base: Path) -> str:
    """Listed files (a Terraform root's sources), their names relative to `base` and bytes."""
    parts: list[str | bytes] = []
    for path in paths:
        parts += [Path(os.path.relpath(path, base)).as_posix(), path.read_bytes()]
    return digest(*parts)


def directory_digest(directory: Path) -> str:
    """The regular files directly in a directory (a Terraform module), names and bytes."""
    parts: list[str | bytes] = []
    for child in sorted(p for p in directory.iterdir() if p.is_file()):
        parts += [child.name, child.read_bytes()]
    return digest(*parts)


def dependencies(root: Path, unit_path: Path, artifacts: Sequence[Artifact]) -> dict[str, str]:
    """Directories its artifacts were read from besides the unit itself (local modules named by
    `source = "../.."`, the `.tf` files a plan's findings stand on), each with its digest: a
    load is reused only while they match."""
    unit = unit_path.resolve()
    read = {(root / uri).resolve() for a in artifacts for uri in artifact_files(a)}
    if unit_path.is_dir():
        folders = {path.parent for path in read if not path.parent.is_relative_to(unit)}
    else:
        folders = {path.parent for path in read if path != unit}
    return {str(folder): directory_digest(folder) for folder in sorted(folders)}


def dependencies_hold(recorded: Mapping[str, str]) -> bool:
    try:
        return all(directory_digest(Path(folder)) == value for folder, value in recorded.items())
    except OSError:
        return False


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The scanner's own code and bundled rules: editing either invalidates every entry."""
    import idp_scan_rules

    roots = [Path(__file__).parent.parent, Path(str(idp_scan_rules.__file__)).parent]
    parts: list[str | bytes] = [__version__]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".json", ".yaml", ".yml") and "__pycache__" not in path.parts:
                parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return digest(*parts)


def config_digest(options: Mapping[str, Any]) -> str:
    relevant = {k: v for k, v in options.items() if k not in RUN_ONLY_KEYS}
    return digest(json.dumps(relevant, sort_keys=True, default=str))


def engine_version(engine: Engine) -> str:
    """The engine's own `version`, and the installed versions of a distribution named like the
    engine (checkov, cfn-lint) or like its top-level module (a third-party engine)."""
    top = engine.module().split(".")[0]
    versions = []
    for name in sorted({engine.name, top.replace("_", "-")}):
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ";".join([engine.version, *versions])


def catalogue_digest(rules: Sequence[RuleMeta], engine: Engine, sources: str) -> str:
    """The engine's rules and the rule sources (`sources_digest`)."""
    parts: list[str | bytes] = [repr(sorted(rules, key=lambda meta: meta.id)), sources]
    token = engine.cache_token()
    if token is not None:
        parts.append(token)
    return digest(*parts)


def rules_key(engine: Engine, config: str, sources: str) -> str:
    """An engine's rule list: listing checkov's checks means importing checkov."""
    return digest("rules", engine.name, engine_version(engine), config, code_digest(), sources)


def engine_prefix(engine: Engine, rules: Sequence[RuleMeta], config: str, sources: str) -> str:
    """The engine's part of its result keys; an artifact's content digest completes each."""
    return digest("engine", engine.name, engine_version(engine), catalogue_digest(rules, engine, sources), config, code_digest())


def sources_digest(rule_dirs: Sequence[Path]) -> str:
    """Configured rule directories (every file) and installed rule packs (name, target, version)."""
    parts: list[str | bytes] = []
    for directory in rule_dirs:
        for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
            parts += [str(path), path.read_bytes()]
    for point in sorted(metadata.entry_points(group="idp_scan.rules"), key=lambda p: p.name):
        version = point.dist.version if point.dist is not None else ""
        parts.append(f"{point.name}={point.value}@{version}")
    return digest(*parts)


def unit_digest(unit: Unit) -> str:
    """What a unit's load depends on: the files its kind says it reads, else all under its path."""
    sources = unit_sources(unit)
    return file_digest(unit.path) if sources is None else files_digest(sources, unit.path)


def load_key(unit: Unit, unit_hash: str) -> str:
    """A load: the unit's files (`unit_digest`), what the loader reads outside the unit's path
    (Terraform's ../modules, var files) too, and the limits, which decide whether a file is
    parsed at all (IDP011, IDP012)."""
    reads = [_digest_or_mark(path) for path in unit_reads(unit)]
    return digest("load", unit.kind, unit.uri, unit_hash, *reads, repr(unit.limits), code_digest())


def _digest_or_mark(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:
        return "unreadable"


def artifact_digest(artifact_text: str, file_hash: str) -> str:
    """What an engine sees of a file: the artifact itself (`artifact_json`) and the file's bytes."""
    return digest(artifact_text, file_hash)


def split_by_artifact(findings: Iterable[Finding], artifacts: Sequence[Artifact]) -> list[list[Finding]] | None:
    """Findings per artifact, by the files each was read from; None when a finding's file
    belongs to no artifact or to several (then nothing is cached)."""
    owner: dict[str, int] = {}
    for index, artifact in enumerate(artifacts):
        for uri in artifact_files(artifact):
            if uri in owner:
                return None
            owner[uri] = index
    grouped: list[list[Finding]] = [[] for _ in artifacts]
    for finding in findings:
        if finding.location.uri not in owner:
            return None
        grouped[owner[finding.location.uri]].append(finding)
    return grouped


def artifact_files(artifact: Artifact) -> set[str]:
    """Every file an artifact was read from (a Terraform module spans several)."""
    return {artifact.uri, *artifact.files.values()}
