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
    """Turns artifacts into findings. Failures of single files are findings, not exceptions."""

    name: str

    def rules(self) -> Sequence[RuleMeta]:
        """Every rule this engine may report, for `rules list` and SARIF."""
        ...

    def accepts(self, artifact: Artifact) -> bool: ...

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]: ...


EngineFactory = Callable[[Settings], Engine]


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
    return [load_factory(name, table[name])(settings) for name in selected_engine_names(settings)]
