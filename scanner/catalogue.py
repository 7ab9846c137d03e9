"""The native rule catalogue, built on request: bundled pack, configured directories, packs.

Nothing registers itself: bundled rules are listed by the pack, directories are read when
the configuration names them, and installed packs are found through the `idp_scan.rules`
entry-point group, then loaded. A duplicate id is an error naming both sources.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

from scanner.rule import RULE_ID, NativeRule, Rule
from scanner.yamlrule import RuleLoadError, load_yaml_rule

ENTRY_POINT_GROUP = "idp_scan.rules"


class CatalogueError(Exception):
    """A rule source that cannot be used (bad file, duplicate id)."""


@dataclass(frozen=True)
class CatalogueEntry:
    rule: NativeRule
    source: str


def bundled_entries() -> list[CatalogueEntry]:
    import idp_scan_rules

    entries = [CatalogueEntry(cls(), f"bundled:{cls.__module__}") for cls in idp_scan_rules.python_rules()]
    for file in idp_scan_rules.yaml_rule_files():
        entries.append(CatalogueEntry(_yaml_rule(Path(str(file))), f"bundled:{file.name}"))
    return entries


def _yaml_rule(path: Path) -> NativeRule:
    try:
        return load_yaml_rule(path)
    except RuleLoadError as exc:
        raise CatalogueError(str(exc)) from exc


def _python_rules_in(path: Path) -> list[NativeRule]:
    """Rule classes defined in a Python file of a configured rule directory."""
    module_name = f"idp_scan_user_rules.{path.parent.name}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CatalogueError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise CatalogueError(f"{path}: failed to import: {exc}") from exc
    return [
        obj()
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module_name and hasattr(obj, "id")
    ]


def directory_entries(directory: Path) -> list[CatalogueEntry]:
    if not directory.is_dir():
        raise CatalogueError(f"{directory}: rule directory does not exist")
    entries: list[CatalogueEntry] = []
    for path in sorted(directory.rglob("*")):
        if "fixtures" in path.relative_to(directory).parts or not path.is_file():
            continue
        if path.suffix in (".yaml", ".yml"):
            entries.append(CatalogueEntry(_yaml_rule(path), str(path)))
        elif path.suffix == ".py" and not path.name.startswith(("_", "test_")):
            entries.extend(CatalogueEntry(rule, str(path)) for rule in _python_rules_in(path))
    return entries


def _rules_from_object(obj: Any) -> Iterable[NativeRule]:
    produced = obj() if callable(obj) and not isinstance(obj, type) else obj
    if isinstance(produced, type) and issubclass(produced, Rule):
        return [produced()]
    return [item() if isinstance(item, type) else item for item in produced]


def entry_point_entries() -> list[CatalogueEntry]:
    """Installed rule packs: each entry point names a rule class, a list, or a callable returning one."""
    entries: list[CatalogueEntry] = []
    for point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            loaded = point.load()
            rules = list(_rules_from_object(loaded))
        except Exception as exc:
            raise CatalogueError(f"rule pack {point.name} ({point.value}): failed to load: {exc}") from exc
        entries.extend(CatalogueEntry(rule, f"pack:{point.name}") for rule in rules)
    return entries


def build_catalogue(rule_dirs: Sequence[Path] = (), with_packs: bool = True) -> dict[str, CatalogueEntry]:
    entries = bundled_entries()
    for directory in rule_dirs:
        entries.extend(directory_entries(directory))
    if with_packs:
        entries.extend(entry_point_entries())
    catalogue: dict[str, CatalogueEntry] = {}
    for entry in entries:
        rule_id = entry.rule.id
        if not RULE_ID.match(rule_id):
            raise CatalogueError(f"{entry.source}: rule id {rule_id!r} must look like ORG-AREA-123")
        if rule_id in catalogue:
            raise CatalogueError(f"duplicate rule id {rule_id}: defined in {catalogue[rule_id].source} and in {entry.source}")
        catalogue[rule_id] = entry
    return catalogue
