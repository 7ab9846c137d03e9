"""Loading: an input unit becomes artifacts, load findings and the comments of the files it read,
by one function for every caller.

The pipeline's workers load the units of a run with `checked_load`; the reference artifacts of
a cross-file engine (every account file under the scanned paths, with --changed-since) are
loaded by `load_units` with the same function, the same limits (set on each unit) and,
when given, the same cache.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, Protocol, Sequence

from scanner.failures import failure
from scanner.findings.stamping import stamp_artifacts
from scanner.inputs import InputKind, Loaded, Unit, input_kinds
from scanner.inputs.comments import with_comments
from scanner.inputs.metadata_suppressions import with_suppressions
from scanner.model import Artifact, FileComments, Finding, Location

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
Digests = tuple[str | None, ...]  # per artifact: its content digest for the engine cache keys, if any


def _quiet(_: str) -> None:
    return None


class LoadCache(Protocol):
    """Loads kept between runs (`scanner.cache.ResultCache`)."""

    def cached_load(self, unit: Unit) -> tuple[Loaded, Digests] | None: ...

    def store_load(self, unit: Unit, loaded: Loaded, finished: bool) -> Digests: ...


def load_unit(unit: Unit) -> Loaded:
    """Load one unit; a loader bug must not sink the run or pass silently."""
    return checked_load(unit)[0]


def checked_load(unit: Unit) -> tuple[Loaded, bool]:
    """(what the loader gave, whether it finished without raising: only then may it be cached)."""
    try:
        loaded, finished = with_suppressions(_kinds_by_name()[unit.kind].load(unit)), True
    except Exception as exc:
        log.debug("loader %s failed on %s", unit.kind, unit.uri, exc_info=True)
        crashed = failure("IDP001", f"{unit.uri} could not be loaded: {type(exc).__name__}: {exc}", Location(unit.uri))
        loaded, finished = Loaded(findings=(crashed,)), False
    return _judged(unit, _commented(unit, loaded)), finished


def _commented(unit: Unit, loaded: Loaded) -> Loaded:
    """With the comments of the files it read; comments that cannot be read suppress nothing."""
    try:
        return with_comments(unit, loaded)
    except Exception:
        log.debug("comments of %s could not be read", unit.uri, exc_info=True)
        return loaded


def _judged(unit: Unit, loaded: Loaded) -> Loaded:
    """What loading a Terraform root found (a missing module, a variable without value) is
    about that root, wherever in its files the block stands: moving the block to another file
    of the root keeps the finding's identity."""
    if unit.kind != "terraform":
        return loaded
    return replace(loaded, findings=tuple(stamp_artifacts(loaded.findings, default=unit.uri)))


def _kinds_by_name() -> dict[str, InputKind]:
    return {kind.name: kind for kind in input_kinds()}


def load_units(units: Sequence[Unit], progress: Progress = _quiet, cache: LoadCache | None = None) -> Loaded:
    """Every unit's artifacts, load findings and comments, in order; through `cache` when given."""
    artifacts: list[Artifact] = []
    findings: list[Finding] = []
    comments: list[FileComments] = []
    for number, unit in enumerate(units, start=1):
        progress(f"loading {number}/{len(units)} {unit.uri}")
        loaded = _cached_or_loaded(unit, cache) if cache is not None else load_unit(unit)
        artifacts.extend(loaded.artifacts)
        findings.extend(loaded.findings)
        comments.extend(loaded.comments)
    return Loaded(tuple(artifacts), tuple(findings), tuple(comments))


def _cached_or_loaded(unit: Unit, cache: LoadCache) -> Loaded:
    cached = cache.cached_load(unit)
    if cached is not None:
        return cached[0]
    loaded, finished = checked_load(unit)
    cache.store_load(unit, loaded, finished)
    return loaded
