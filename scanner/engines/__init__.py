"""Engines behind one Protocol, found as values: a literal table plus entry points.

Bundled engines are named by import path and imported only when selected, so a native-only
run never pays checkov's start-up. Third-party engines register in the `idp_scan.engines`
entry-point group; they are listed without importing and loaded only when selected.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Callable, Iterable, Protocol, Sequence

from scanner.model import Artifact, Finding, RuleMeta
from scanner.settings import DEFAULT_ENGINES, Settings

ENTRY_POINT_GROUP = "idp_scan.engines"

BUILTIN_ENGINES: dict[str, str] = {
    "native": "scanner.engines.native:create",
    "checkov": "scanner.engines.checkov_engine:create",
    "cfn-lint": "scanner.engines.cfn_lint:create",
    "schema": "scanner.engines.schema:create",
    "cdk-validation": "scanner.engines.cdk_validation:create",
    "guard": "scanner.engines.cfn_guard:create",
}
# Engines in the default set only when their configuration asks for them (no rules, no work).
CONFIGURED_ENGINES: dict[str, Callable[[Settings], bool]] = {
    "guard": lambda settings: bool(settings.guard.rules),
}


class Engine(Protocol):
    """Turns artifacts into findings. Failures of single files are findings, not exceptions.

    Every capability the pipeline and the cache use is a member here; `EngineBase` gives each
    its default. An engine with only the four core members (`name`, `rules`, `accepts`, `scan`)
    gets those defaults from `as_engine`.
    """

    name: str
    # Checks span files (unique account names): every artifact in one unit once every load is
    # over, never split, never cached per file. Default False.
    cross_file: bool
    # Rule ids known only after reading the input (a CDK validation report): `rules()` is asked
    # again in the worker after `scan`. Default False.
    rules_from_scan: bool
    # Part of the cache key: a new version is never served an old version's results. Default "".
    version: str

    def rules(self) -> Sequence[RuleMeta]:
        """Every rule this engine may report, for `rules list` and SARIF."""
        ...

    def accepts(self, artifact: Artifact) -> bool: ...

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]: ...

    def prepare(self) -> None:
        """Heavy imports and set-up, once, before the worker processes fork. Default: nothing."""
        ...

    def cache_token(self) -> str | None:
        """What else its results depend on (a binary's version, a date), in the cache key. Default None."""
        ...

    def module(self) -> str:
        """The module that implements it: its distribution's version is part of the cache key."""
        ...

    def reference_kinds(self) -> tuple[str, ...]:
        """Input kinds of which a cross-file engine needs every unit under the scanned paths,
        also those this run does not scan (--changed-since): the pipeline loads them and hands
        them to `scan_against`. Default ()."""
        ...

    def scan_against(self, artifacts: Sequence[Artifact], reference: Sequence[Artifact]) -> Iterable[Finding]:
        """`scan`, with the reference artifacts of `reference_kinds`. Default: `scan(artifacts)`."""
        ...


class EngineBase:
    """The defaults of every capability of `Engine`; bundled engines inherit them."""

    name: str = ""
    cross_file: bool = False
    rules_from_scan: bool = False
    version: str = ""

    def rules(self) -> Sequence[RuleMeta]:
        raise NotImplementedError

    def accepts(self, artifact: Artifact) -> bool:
        raise NotImplementedError

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        raise NotImplementedError

    def prepare(self) -> None:
        return None

    def cache_token(self) -> str | None:
        return None

    def module(self) -> str:
        return type(self).__module__

    def reference_kinds(self) -> tuple[str, ...]:
        return ()

    def scan_against(self, artifacts: Sequence[Artifact], reference: Sequence[Artifact]) -> Iterable[Finding]:
        return self.scan(artifacts)


class CoreEngine(Protocol):
    """What an engine must have; the rest of `Engine` has defaults."""

    name: str

    def rules(self) -> Sequence[RuleMeta]: ...

    def accepts(self, artifact: Artifact) -> bool: ...

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]: ...


class _WithDefaults(EngineBase):
    """An engine with the core members only (a third party's), given the defaults."""

    def __init__(self, engine: CoreEngine) -> None:
        self._engine = engine
        self.name = engine.name

    def rules(self) -> Sequence[RuleMeta]:
        return self._engine.rules()

    def accepts(self, artifact: Artifact) -> bool:
        return self._engine.accepts(artifact)

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        return self._engine.scan(artifacts)

    def module(self) -> str:
        return type(self._engine).__module__


def as_engine(engine: Engine | CoreEngine) -> Engine:
    """The engine itself when it inherits `EngineBase`, else the engine with the defaults."""
    return engine if isinstance(engine, EngineBase) else _WithDefaults(engine)


EngineFactory = Callable[[Settings], Engine | CoreEngine]


class EngineError(Exception):
    """An engine that cannot be found or loaded; the run exits 2."""


def available_engines() -> dict[str, str]:
    """Engine name -> import path, bundled first; a duplicate name is an error."""
    table = dict(BUILTIN_ENGINES)
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name in table:
            raise EngineError(f"engine name '{point.name}' is registered twice: {table[point.name]} and {point.value}")
        table[point.name] = point.value
    return table


def selected_engine_names(settings: Settings) -> tuple[str, ...]:
    table = available_engines()
    if settings.engines is None:
        configured = tuple(name for name, wanted in CONFIGURED_ENGINES.items() if wanted(settings))
        return tuple(name for name in (*DEFAULT_ENGINES, *configured) if name in table)
    unknown = [name for name in settings.engines if name not in table]
    if unknown:
        raise EngineError(f"unknown engine(s): {', '.join(unknown)} (available: {', '.join(sorted(table))})")
    return settings.engines


def load_factory(name: str, target: str) -> EngineFactory:
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise EngineError(f"engine '{name}' ({target}) cannot be loaded: {exc}") from exc
    if not callable(factory):
        raise EngineError(f"engine '{name}' ({target}) is not callable")
    return factory  # type: ignore[no-any-return]


def create_engines(settings: Settings) -> list[Engine]:
    table = available_engines()
    return [as_engine(load_factory(name, table[name])(settings)) for name in selected_engine_names(settings)]
