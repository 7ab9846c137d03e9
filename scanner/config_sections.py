"""The configuration's sections, typed: a frozen dataclass per section the code reads, built once
by `settings.build_settings` from the schema-checked file (defaults < file < command line).

Sections only the native rules read (`tags`, `ttl`, `images`, `health_checks`, `lambda`) reach
them as `RuleContext.options`, the rule API, and are read there with `rules.common.option`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

DEFAULT_MAX_FILE_BYTES = 1024 * 1024  # CloudFormation rejects templates over 1 MB
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_NODES = 500_000  # after alias expansion; a 1 MB template has ~100k nodes
DEFAULT_MAX_PLAN_BYTES = 64 * 1024 * 1024  # plans of large estates run to tens of MB
DEFAULT_CHECKOV_TIMEOUT = 60.0  # seconds per file
DEFAULT_CFN_LINT_TIMEOUT = 120.0  # seconds per template


@dataclass(frozen=True)
class Limits:
    """Bounds on what a loader parses (configuration key `limits`)."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES
    max_plan_bytes: int = DEFAULT_MAX_PLAN_BYTES

    @classmethod
    def from_section(cls, given: Mapping[str, Any]) -> Limits:
        return cls(
            max_file_bytes=int(given.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)),
            max_depth=int(given.get("max_depth", DEFAULT_MAX_DEPTH)),
            max_nodes=int(given.get("max_nodes", DEFAULT_MAX_NODES)),
            max_plan_bytes=int(given.get("max_plan_bytes", DEFAULT_MAX_PLAN_BYTES)),
        )


@dataclass(frozen=True)
class VarFile:
    """A Terraform variables file, for one root module (`root`) or for every root (None)."""

    root: Path | None
    file: Path


@dataclass(frozen=True)
class TerraformSettings:
    """`terraform:` with the command line's `--var-file`s, in order of precedence (later wins)."""

    var_files: tuple[VarFile, ...] = ()

    @classmethod
    def from_entries(cls, entries: Sequence[Mapping[str, str | None]]) -> TerraformSettings:
        return cls(tuple(VarFile(Path(e["root"]) if e["root"] is not None else None, Path(str(e["file"]))) for e in entries))

    def files_for(self, root: Path) -> list[Path]:
        """The var files given to this root (or to every root), in order of precedence."""
        return [v.file for v in self.var_files if v.root is None or v.root == root]


@dataclass(frozen=True)
class AccountsSettings:
    """`accounts:` as written (None: not configured); `engines.account_checks.Policy` judges by it."""

    organizational_units: tuple[str, ...] | None = None
    allowed_regions: tuple[str, ...] | None = None  # None: `regions.allowed`
    email_domains: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    cost_center_pattern: str | None = None
    max_ttl_days: Mapping[str, int] = field(default_factory=dict)
    as_of: Any = None  # a date or its text, as written; `--as-of` overrides it

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> AccountsSettings:
        def strings(key: str) -> tuple[str, ...] | None:
            return tuple(str(v) for v in section[key]) if section.get(key) is not None else None

        pattern = section.get("cost_center_pattern")
        return cls(
            organizational_units=strings("organizational_units"),
            allowed_regions=strings("allowed_regions"),
            email_domains=strings("email_domains"),
            environments=strings("environments"),
            cost_center_pattern=str(pattern) if pattern is not None else None,
            max_ttl_days=dict(section.get("max_ttl_days") or {}),
            as_of=section.get("as_of"),
        )


@dataclass(frozen=True)
class GuardSettings:
    """`guard:`, its files resolved against the configuration's folder (`base`)."""

    rules: tuple[str, ...] = ()  # paths, or `control-tower`
    binary: Path | None = None
    parameters: Mapping[str, Any] | None = None
    timeout: float | None = None  # None: a share of the unit timeout or the budget
    base: Path = Path(".")

    @classmethod
    def from_section(cls, section: Mapping[str, Any], base: Path) -> GuardSettings:
        binary, timeout = section.get("binary"), section.get("timeout")
        return cls(
            rules=tuple(str(r) for r in section.get("rules") or ()),
            binary=(base / str(binary)) if binary else None,
            parameters=section.get("parameters") or None,
            timeout=float(timeout) if timeout else None,
            base=base,
        )


@dataclass(frozen=True)
class CfnLintSettings:
    """`cfn_lint:`; `regions` None: `regions.allowed`, else cfn-lint's default region."""

    regions: tuple[str, ...] | None = None
    as_of: Any = None  # a date or its text, as written (the engine parses it)
    timeout: float = DEFAULT_CFN_LINT_TIMEOUT


@dataclass(frozen=True)
class CheckovSettings:
    """`checkov:`."""

    timeout: float = DEFAULT_CHECKOV_TIMEOUT


@dataclass(frozen=True)
class CacheSettings:
    """`cache:` and `cache_dir:` (`--no-cache` turns it off); `cache.store.cache_directory`
    resolves the directory (the environment first)."""

    enabled: bool = True
    directory: str | None = None  # relative to the configuration file


def section_of(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = config.get(key)
    return value if isinstance(value, Mapping) else {}
