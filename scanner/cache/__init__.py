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

`ResultCache` is what the pipeline sees: it owns the keys (`keys`), the encoding (`codec`) and
the directory (`store`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from scanner.cache.codec import Unencodable, loaded_json
from scanner.cache.keys import (artifact_digest, config_digest, dependencies, dependencies_hold, digest, engine_prefix,
                                load_key, rules_key, sources_digest, split_by_artifact, unit_digest)
from scanner.cache.store import Cache, cache_directory
from scanner.failures import is_blocking_failure, recurs
from scanner.inputs import Loaded, Unit
from scanner.inputs.loading import Digests
from scanner.model import Artifact, Finding, RuleMeta

if TYPE_CHECKING:
    from scanner.engines import Engine
    from scanner.settings import Settings

class ResultCache:
    """Loads, engine results and rule lists of earlier runs; with no directory, never a hit."""

    def __init__(self, directory: Path | None, root: Path, config: str = "", sources: str = "") -> None:
        self._store = Cache(directory)
        self._root = root
        self._config, self._sources = config, sources
        self._unit_hash: dict[str, str] = {}  # unit uri -> digest of its files, taken once per run
        self._prefixes: dict[str, str] = {}
        self.listed: dict[str, Sequence[RuleMeta]] = {}  # engine -> its rules, as keyed (read from the cache)

    @classmethod
    def for_settings(cls, settings: Settings) -> ResultCache:
        directory = cache_directory(settings.root, settings.cache, settings.config_file)
        if directory is None:
            return cls(None, settings.root)
        return cls(directory, settings.root, config_digest(settings.options), sources_digest(settings.rule_dirs))

    @property
    def enabled(self) -> bool:
        return self._store.directory is not None

    # -- loads ---------------------------------------------------------------------------
    def cached_load(self, unit: Unit) -> tuple[Loaded, Digests] | None:
        """A unit's earlier load, while its files and the local modules it read are unchanged."""
        if not self.enabled or self._hash(unit) is None:
            return None
        payload = self._store.get("load", load_key(unit, self._unit_hash[unit.uri]))
        if not isinstance(payload, dict):
            return None
        loaded, digests, deps = payload.get("loaded"), payload.get("digests"), payload.get("dependencies")
        if not isinstance(loaded, Loaded) or not all(isinstance(a, Artifact) for a in loaded.artifacts):
            return None
        if not isinstance(digests, list) or len(digests) != len(loaded.artifacts):
            return None
        if not isinstance(deps, dict) or not dependencies_hold(deps):
            return None
        return loaded, tuple(digests)

    def store_load(self, unit: Unit, loaded: Loaded, finished: bool) -> Digests:
        """Keep a fresh load (unless its loader crashed); its artifacts' content digests."""
        none: Digests = (None,) * len(loaded.artifacts)
        unit_hash = self._hash(unit) if self.enabled else None
        if unit_hash is None:
            return none
        try:
            deps = dependencies(self._root, unit.path, loaded.artifacts)
        except OSError:
            return none
        content = digest(unit_hash, *sorted(deps.values()))
        try:
            texts, loaded_text = loaded_json(loaded)
        except (Unencodable, TypeError, ValueError, RecursionError):
            return none  # not encodable: neither cached nor its engine results
        digests = [artifact_digest(text, content) for text in texts]
        if finished:  # else the loader crashed (perhaps for a passing reason)
            payload = f'{{"loaded": {loaded_text}, "digests": {json.dumps(digests)}, "dependencies": {json.dumps(deps)}}}'
            self._store.put_text(load_key(unit, unit_hash), payload)
        return tuple(digests)

    def _hash(self, unit: Unit) -> str | None:
        if unit.uri not in self._unit_hash:
            try:
                self._unit_hash[unit.uri] = unit_digest(unit)
            except OSError:
                return None
        return self._unit_hash[unit.uri]

    # -- engine results ------------------------------------------------------------------
    def engine_key(self, engine: Engine, content: str | None) -> str | None:
        """The key of `engine`'s findings on an artifact of that content digest; None: not cached."""
        prefix = self._prefix(engine)
        return digest(prefix, content) if content and prefix else None

    def cached_findings(self, engine: Engine, key: str) -> list[Finding] | None:
        cached = self._store.get(f"engine.{engine.name}", key)
        if isinstance(cached, list) and all(isinstance(f, Finding) for f in cached):
            return cached
        return None

    def store_findings(self, artifacts: Sequence[Artifact], findings: Sequence[Finding], keys: Sequence[str | None]) -> None:
        """An engine's findings on a chunk, per artifact under its key: only when they split by
        the artifacts' files, and only what would recur on the same bytes."""
        per_artifact = [list(findings)] if len(artifacts) == 1 else split_by_artifact(findings, artifacts)
        if per_artifact is None:
            return
        for key, found in zip(keys, per_artifact):
            if key and not any(_is_transient_failure(f) for f in found):
                self._store.put(key, found)

    def _prefix(self, engine: Engine) -> str | None:
        """Computed when the engine first meets an artifact: it needs the engine's rule list,
        and listing checkov's checks means importing checkov."""
        if not self.enabled:
            return None
        if engine.name not in self._prefixes:
            self.listed[engine.name] = self._rules(engine)
            self._prefixes[engine.name] = engine_prefix(engine, self.listed[engine.name], self._config, self._sources)
        return self._prefixes[engine.name]

    def _rules(self, engine: Engine) -> Sequence[RuleMeta]:
        """An engine's rule list, cached: listing checkov's checks means importing checkov."""
        key = rules_key(engine, self._config, self._sources)
        cached: Any = self._store.get("rules", key)
        if isinstance(cached, list) and cached and all(isinstance(meta, RuleMeta) for meta in cached):
            return cached
        rules = list(engine.rules())
        self._store.put(key, rules)
        return rules

    def counts(self) -> dict[str, float]:
        """Hits and misses per kind of entry, for the run's timings."""
        counts = {f"cache.{kind}.hits": float(count) for kind, count in self._store.hits.items()}
        counts.update((f"cache.{kind}.misses", float(count)) for kind, count in self._store.misses.items())
        return counts


def _is_transient_failure(finding: Finding) -> bool:
    """A failure that may not recur (a timeout, a dead worker, the budget): never cached. One
    that recurs on the same bytes is cached, so a warm run need not start the engine again
    only to fail the same way."""
    return is_blocking_failure(finding) and not recurs(finding.rule_id)
