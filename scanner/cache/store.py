"""The cache's store: a directory of JSON entries, each repeating its key."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.cache.codec import Unencodable, decode, encode
from scanner.config_sections import CacheSettings

FORMAT = "idp-scan-cache/1"
ENV_DIR = "IDP_SCAN_CACHE_DIR"
DEFAULT_DIR = ".idp-scan-cache"
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# idp-scan content cache: safe to delete.\n"
GITIGNORE = "# idp-scan content cache: never committed.\n*\n"


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


def cache_directory(root: Path, configured_cache: CacheSettings, config_file: Path | None) -> Path | None:
    """`cache: false` (or `--no-cache`) turns it off; else `IDP_SCAN_CACHE_DIR`, else the
    configured `cache_dir` (relative to the configuration file), else `.idp-scan-cache/` at the root."""
    if not configured_cache.enabled:
        return None
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured)
    if configured_cache.directory:
        base = config_file.parent if config_file else root
        return base / configured_cache.directory
    return root / DEFAULT_DIR
