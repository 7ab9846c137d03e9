"""The content cache: a result is reused only when everything that produced it is unchanged.

Two kinds of entries, both plain JSON (never pickle: a cache restored by `actions/cache` is
not trusted input):

- load:   (input kind, file uri, file bytes, scanner code) -> the file's artifacts and findings;
- engine: (engine name and version, its rule catalogue, the relevant configuration, the
  artifact's content and its file's bytes, scanner code) -> that engine's findings on it.

Every key is a SHA-256 over all of these, and an entry repeats its key: a damaged, truncated
or foreign entry fails to decode or to match, and counts as a miss. An engine's result on a
file is stored only when it would recur: not when it includes a failure that may be passing (a
timeout, a dead worker, the budget), and never for a loader that crashed.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field, fields, is_dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from scanner import __version__
from scanner.inputs import Loaded
from scanner.rule import UNKNOWN
from scanner.model import (Artifact, Finding, Location, Notification, ResourceId, ResourceSuppression, RuleMeta, Severity, Status,
                           Suppression)

FORMAT = "idp-scan-cache/1"
ENV_DIR = "IDP_SCAN_CACHE_DIR"
DEFAULT_DIR = ".idp-scan-cache"
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# idp-scan content cache: safe to delete.\n"
GITIGNORE = "# idp-scan content cache: never committed.\n*\n"
# Configuration keys that act after the engines (or on the run itself): changing them must
# not throw the cache away. Every other key is part of the key, unknown future ones included.
RUN_ONLY_KEYS = frozenset({"budget", "jobs", "unit_timeout", "cache", "cache_dir", "fail_on", "changed_since",
                           "baseline", "waivers", "severity"})

_TYPES: Mapping[str, type] = {
    cls.__name__: cls for cls in (Artifact, Finding, Loaded, Location, Notification, ResourceId, ResourceSuppression, RuleMeta,
                                  Suppression)
}
_ENUMS: Mapping[str, type[enum.Enum]] = {cls.__name__: cls for cls in (Severity, Status)}


class Unencodable(Exception):
    """A value the cache codec does not know: the result is simply not cached."""


def encode(value: Any) -> Any:
    """Plain JSON data for model values, tuples, dates and non-string keys, losslessly."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if value is UNKNOWN:
        return {"__unknown__": 1}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, enum.Enum) and type(value).__name__ in _ENUMS:
        return {"__enum__": type(value).__name__, "value": value.value}
    if isinstance(value, datetime.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Artifact):
        return encode_artifact(value)
    if is_dataclass(value) and _TYPES.get(type(value).__name__) is type(value):
        return {"__dc__": type(value).__name__, "fields": {f.name: encode(getattr(value, f.name)) for f in fields(value)}}
    raise Unencodable(type(value).__name__)


def encode_artifact(artifact: Artifact) -> dict[str, Any]:
    """Artifacts are most of the cache: their data goes as it is when JSON keeps it exactly."""
    raw = _is_plain_json(artifact.data)
    encoded: dict[str, Any] = {"__artifact__": 1, "raw": raw}
    for item in fields(artifact):
        value = getattr(artifact, item.name)
        if item.name == "data":
            encoded["data"] = value if raw else encode(value)
        elif item.name == "lines":
            encoded["lines"] = [[list(path), first, last] for path, (first, last) in value.items()]
        else:
            encoded[item.name] = encode(dict(value) if isinstance(value, Mapping) else value)
    return encoded


def _is_plain_json(data: Any) -> bool:
    """True when JSON gives back exactly `data` (no tuples, no non-string keys, no other types)."""
    return _plain_json_text(data) is not None


def _plain_json_text(data: Any) -> str | None:
    try:
        text = json.dumps(data)
        return text if json.loads(text) == data else None
    except (TypeError, ValueError, RecursionError):
        return None


def artifact_json(artifact: Artifact) -> str:
    """The JSON text of `encode_artifact(artifact)`, serialising the (large) data only once."""
    data_text = _plain_json_text(artifact.data)
    if data_text is None:
        return json.dumps(encode_artifact(artifact))
    rest = {item.name: getattr(artifact, item.name) for item in fields(artifact) if item.name not in ("data", "lines")}
    head = {"__artifact__": 1, "raw": True,
            "lines": [[list(path), first, last] for path, (first, last) in artifact.lines.items()],
            **{name: encode(dict(value) if isinstance(value, Mapping) else value) for name, value in rest.items()}}
    return json.dumps(head)[:-1] + ', "data": ' + data_text + "}"


def _decode_artifact(data: dict[str, Any]) -> Artifact:
    values: dict[str, Any] = {}
    for item in fields(Artifact):
        if item.name == "data":
            values["data"] = data["data"] if data["raw"] is True else decode(data["data"])
        elif item.name == "lines":
            values["lines"] = {tuple(path): (int(first), int(last)) for path, first, last in data["lines"]}
        elif item.name in data:
            values[item.name] = decode(data[item.name])
    return Artifact(**values)


def artifact_files(artifact: Artifact) -> set[str]:
    """Every file an artifact was read from (a Terraform module spans several)."""
    return {artifact.uri, *artifact.files.values()}


def decode(data: Any) -> Any:
    """The inverse of `encode`; raises (KeyError, TypeError, ValueError) on anything foreign."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "__artifact__" in data:
        return _decode_artifact(data)
    if "__unknown__" in data:
        return UNKNOWN
    if "__tuple__" in data:
        return tuple(decode(item) for item in data["__tuple__"])
    if "__dict__" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["__dict__"]}
    if "__enum__" in data:
        return _ENUMS[data["__enum__"]](data["value"])
    if "__datetime__" in data:
        return datetime.datetime.fromisoformat(data["__datetime__"])
    if "__date__" in data:
        return datetime.date.fromisoformat(data["__date__"])
    if "__dc__" in data:
        return _TYPES[data["__dc__"]](**{k: decode(v) for k, v in data["fields"].items()})
    return {k: decode(v) for k, v in data.items()}


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise TypeError("unhashable mapping key in cache entry")
    return key


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
    """Directories outside a directory unit that its artifacts were read from (local modules
    named by `source = "../.."`), each with its digest: a load is reused only while they match."""
    if not unit_path.is_dir():
        return {}
    inside = unit_path.resolve()
    folders = {(root / uri).resolve().parent for a in artifacts for uri in artifact_files(a)}
    return {str(folder): directory_digest(folder) for folder in sorted(folders) if not folder.is_relative_to(inside)}


def dependencies_hold(recorded: Mapping[str, str]) -> bool:
    try:
        return all(directory_digest(Path(folder)) == value for folder, value in recorded.items())
    except OSError:
        return False


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The scanner's own code and bundled rules: editing either invalidates every entry."""
    import idp_scan_rules

    roots = [Path(__file__).parent, Path(str(idp_scan_rules.__file__)).parent]
    parts: list[str | bytes] = [__version__]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".json", ".yaml", ".yml") and "__pycache__" not in path.parts:
                parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return digest(*parts)


def config_digest(options: Mapping[str, Any]) -> str:
    relevant = {k: v for k, v in options.items() if k not in RUN_ONLY_KEYS}
    return digest(json.dumps(relevant, sort_keys=True, default=str))


def engine_version(engine: Any) -> str:
    """The engine's own `version`, and the installed versions of a distribution named like the
    engine (checkov, cfn-lint) or like its top-level module (a third-party engine)."""
    top = type(engine).__module__.split(".")[0]
    versions = []
    for name in sorted({str(getattr(engine, "name", "")), top.replace("_", "-")}):
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ";".join([str(getattr(engine, "version", "")), *versions])


def catalogue_digest(rules: Sequence[RuleMeta], engine: Any, sources: str) -> str:
    """The engine's rules and the rule sources (`sources_digest`)."""
    parts: list[str | bytes] = [repr(sorted(rules, key=lambda meta: meta.id)), sources]
    token = getattr(engine, "cache_token", None)
    if callable(token):
        parts.append(str(token()))
    return digest(*parts)


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


@dataclass
class Cache:
    """A directory of JSON entries; `directory=None` is a cache that never hits."""

    directory: Path | None
    hits: dict[str, int] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def get(self, kind: str, key: str) -> Any | None:
        payload = self._read(key)
        counter = self.hits if payload is not None else self.misses
        counter[kind] = counter.get(kind, 0) + 1
        return payload

    def _read(self, key: str) -> Any | None:
        if self.directory is None:
            return None
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            if entry["format"] != FORMAT or entry["key"] != key:
                return None
            return decode(entry["payload"])
        except Exception:  # missing, damaged, foreign: a miss, never an error
            return None

    def put(self, key: str, payload: Any) -> None:
        if self.directory is None:
            return
        try:
            self.put_text(key, json.dumps(encode(payload)))
        except (Unencodable, ValueError, RecursionError):
            return

    def put_text(self, key: str, payload_text: str) -> None:
        """Store an already encoded payload (`encode`, then JSON text)."""
        if self.directory is None:
            return
        try:
            text = f'{{"format": {json.dumps(FORMAT)}, "key": {json.dumps(key)}, "payload": {payload_text}}}'
            path = self._path(key)
            if not path.parent.is_dir():
                self._create(path.parent)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)  # atomic: a reader sees the old entry or the new one
        except (Unencodable, OSError, ValueError, RecursionError):
            return

    def _create(self, directory: Path) -> None:
        assert self.directory is not None
        directory.mkdir(parents=True, exist_ok=True)
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():  # backup tools and idp-scan's own discovery skip tagged directories
            tag.write_text(CACHEDIR_TAG, encoding="utf-8")
        ignore = self.directory / ".gitignore"
        if not ignore.exists():  # `git add -A` after a local run must not commit the cache
            ignore.write_text(GITIGNORE, encoding="utf-8")

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / "v1" / key[:2] / f"{key}.json"


def cache_directory(root: Path, options: Mapping[str, Any], config_file: Path | None) -> Path | None:
    """`cache: false` (or `--no-cache`) turns it off; else `IDP_SCAN_CACHE_DIR`, else the
    configured `cache_dir` (relative to the configuration file), else `.idp-scan-cache/` at the root."""
    if options.get("cache") is False:
        return None
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured)
    if options.get("cache_dir"):
        base = config_file.parent if config_file else root
        return base / str(options["cache_dir"])
    return root / DEFAULT_DIR


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
