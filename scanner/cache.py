"""The content cache: a result is reused only when everything that produced it is unchanged.

Two kinds of entries, both plain JSON (never pickle: a cache restored by `actions/cache` is
not trusted input):

- load:   (input kind, file uri, file bytes, scanner code) -> the file's artifacts and findings;
- engine: (engine name and version, its rule catalogue, the relevant configuration, the
  artifact's content and its file's bytes, scanner code) -> that engine's findings on it.

Every key is a SHA-256 over all of these, and an entry repeats its key: a damaged, truncated
or foreign entry fails to decode or to match, and counts as a miss. Results that include the
scanner's own failure findings (a crash, a timeout) are never stored.
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
from scanner.model import Artifact, Finding, Location, Notification, ResourceId, Severity, Status, Suppression

FORMAT = "idp-scan-cache/1"
ENV_DIR = "IDP_SCAN_CACHE_DIR"
DEFAULT_DIR = ".idp-scan-cache"
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# idp-scan content cache: safe to delete.\n"
# Configuration keys that act after the engines (or on the run itself): changing them must
# not throw the cache away. Every other key is part of the key, unknown future ones included.
RUN_ONLY_KEYS = frozenset({"budget", "jobs", "unit_timeout", "cache", "cache_dir", "fail_on", "changed_since",
                           "baseline", "waivers", "severity"})

_TYPES: Mapping[str, type] = {
    cls.__name__: cls for cls in (Artifact, Finding, Loaded, Location, Notification, ResourceId, Suppression)
}
_ENUMS: Mapping[str, type[enum.Enum]] = {cls.__name__: cls for cls in (Severity, Status)}


class Unencodable(Exception):
    """A value the cache codec does not know: the result is simply not cached."""


def encode(value: Any) -> Any:
    """Plain JSON data for model values, tuples, dates and non-string keys, losslessly."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
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
    return {
        "__artifact__": 1,
        "kind": artifact.kind, "path": artifact.path, "uri": artifact.uri,
        "raw": raw, "data": artifact.data if raw else encode(artifact.data),
        "lines": [[list(path), first, last] for path, (first, last) in artifact.lines.items()],
        "context": encode(dict(artifact.context)),
        "files": [[list(path), uri] for path, uri in artifact.files.items()],
    }


def _is_plain_json(data: Any) -> bool:
    """True when JSON gives back exactly `data` (no tuples, no non-string keys, no other types)."""
    try:
        return bool(json.loads(json.dumps(data)) == data)
    except (TypeError, ValueError, RecursionError):
        return False


def _decode_artifact(data: dict[str, Any]) -> Artifact:
    lines = {tuple(path): (int(first), int(last)) for path, first, last in data["lines"]}
    return Artifact(
        kind=str(data["kind"]), path=str(data["path"]), uri=str(data["uri"]),
        data=data["data"] if data["raw"] is True else decode(data["data"]),
        lines=lines, context=decode(data["context"]),
        files={tuple(path): str(uri) for path, uri in data["files"]},
    )


def decode(data: Any) -> Any:
    """The inverse of `encode`; raises (KeyError, TypeError, ValueError) on anything foreign."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "__artifact__" in data:
        return _decode_artifact(data)
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


def catalogue_digest(engine: Any, rule_dirs: Sequence[Path]) -> str:
    """The engine's rules, the files of configured rule directories and installed rule packs."""
    parts: list[str | bytes] = [repr(sorted(engine.rules(), key=lambda meta: meta.id))]
    token = getattr(engine, "cache_token", None)
    if callable(token):
        parts.append(str(token()))
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
            text = json.dumps({"format": FORMAT, "key": key, "payload": encode(payload)})
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


def artifact_digest(artifact: Artifact, file_hash: str) -> str | None:
    """What an engine sees of a file: the artifact itself and the file's bytes."""
    try:
        return digest(json.dumps(encode_artifact(artifact)), file_hash)
    except (Unencodable, TypeError, ValueError, RecursionError):
        return None


def split_by_file(findings: Iterable[Finding], uris: Sequence[str]) -> dict[str, list[Finding]] | None:
    """Findings per artifact file; None when one names another file (then nothing is cached)."""
    grouped: dict[str, list[Finding]] = {uri: [] for uri in uris}
    for finding in findings:
        if finding.location.uri not in grouped:
            return None
        grouped[finding.location.uri].append(finding)
    return grouped
