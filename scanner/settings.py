"""One frozen Settings per run: defaults < configuration file < command line.

The configuration is `.idp-scan.yaml` at the scan root (the repository root, see `scan_root`),
else `[tool.idp-scan]` in the root's `pyproject.toml`, unless `--config` names another. It is
validated against `schemas/config.schema.json`; an unknown key is an error with a suggestion.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from scanner.config_sections import (DEFAULT_CFN_LINT_TIMEOUT, DEFAULT_CHECKOV_TIMEOUT, AccountsSettings, CacheSettings,
                                     CfnLintSettings, CheckovSettings, GuardSettings, Limits, TerraformSettings, section_of)
from scanner.model import Severity

CONFIG_NAMES = (".idp-scan.yaml", ".idp-scan.yml")
DEFAULT_ENGINES = ("native", "checkov", "cfn-lint", "schema", "cdk-validation")
DEFAULT_BUDGET = 180.0


class ConfigError(Exception):
    """The configuration cannot be used; the run exits 2."""


@dataclass(frozen=True)
class Settings:
    paths: tuple[Path, ...]
    root: Path
    config_file: Path | None = None
    engines: tuple[str, ...] | None = None  # None: every default engine that is installed
    fail_on: Severity | None = Severity.ERROR
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rule_dirs: tuple[Path, ...] = ()
    budget: float = DEFAULT_BUDGET
    jobs: int | None = None  # worker processes; None: every core this process may use
    unit_timeout: float | None = None  # per engine x chunk of files; None: a share of the budget
    changed_since: str | None = None  # git ref: scan only what changed since it
    # The merged configuration as written: hashed into the cache keys (any change of policy is a
    # new key) and handed to native rules as `RuleContext.options`. The code reads the typed sections.
    options: Mapping[str, Any] = field(default_factory=dict)
    baseline: Path | None = None  # fingerprints of accepted findings (BASELINED)
    waivers: Path | None = None  # the central waivers file
    mandatory: tuple[str, ...] = ()  # rule id prefixes that cannot be suppressed inline
    no_suppressions: bool = False  # audit: every suppression and the baseline are ignored
    shard: tuple[int, int] | None = None  # (K, N): scan only the K-th of N slices of the units
    as_of: datetime.date | None = None  # `--as-of`: the date expiry checks count from
    limits: Limits = Limits()
    terraform: TerraformSettings = TerraformSettings()
    allowed_regions: tuple[str, ...] | None = None  # `regions.allowed`; None: not checked
    accounts: AccountsSettings = AccountsSettings()
    guard: GuardSettings = GuardSettings()
    cfn_lint: CfnLintSettings = CfnLintSettings()
    checkov: CheckovSettings = CheckovSettings()
    severity_overrides: Mapping[str, str] = field(default_factory=dict)  # rule id -> error|warning|note
    cache: CacheSettings = CacheSettings()


@lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    text = package_files.files("scanner").joinpath("schemas/config.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def git_root(start: Path) -> Path | None:
    """The nearest enclosing directory with `.git`, if any."""
    here = start.resolve()
    here = here if here.is_dir() else here.parent
    return next((c for c in (here, *here.parents) if (c / ".git").exists()), None)


def find_repo_root(start: Path) -> Path:
    """The nearest enclosing directory with `.git`, else the start directory itself."""
    found = git_root(start)
    if found is not None:
        return found
    here = start.resolve()
    return here if here.is_dir() else here.parent


def scan_root(paths: Sequence[Path], given: Path | None = None, cwd: Path | None = None) -> Path:
    """The one directory every URI, the configuration and the cache are relative to, whatever
    the order of the paths: `--root`; else the git repository of the working directory when it
    holds every path; else the one repository holding them all; else the working directory
    when it holds them all; else their common parent."""
    if given is not None:
        return given.resolve()
    here = (cwd or Path.cwd()).resolve()
    resolved = [p.resolve() for p in paths]
    repository = git_root(here)
    if repository is not None and all(p.is_relative_to(repository) for p in resolved):
        return repository
    repositories = {git_root(p) for p in resolved}
    only = repositories.pop() if len(repositories) == 1 else None
    if only is not None:
        return only
    if all(p.is_relative_to(here) for p in resolved):
        return here
    common = Path(os.path.commonpath([str(p) for p in resolved]))
    return common if common.is_dir() else common.parent


def find_config(root: Path) -> Path | None:
    """The configuration at the scan root: `.idp-scan.yaml` (`.yml`), else `[tool.idp-scan]` in
    its `pyproject.toml`. One below the root applies only when `--config` names it, so a pull
    request cannot loosen the policy by adding one beside the code it changes."""
    for name in CONFIG_NAMES:
        if (root / name).is_file():
            return root / name
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and _pyproject_section(pyproject) is not None:
        return pyproject
    return None


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    section = document.get("tool", {}).get("idp-scan")
    return section if isinstance(section, dict) else None


def read_config(path: Path) -> dict[str, Any]:
    if path.name == "pyproject.toml":
        section = _pyproject_section(path)
        return section if section is not None else {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys to values")
    return document


def _unknown_keys(config: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    """Unknown keys at every level the schema closes, each with a did-you-mean."""
    problems: list[str] = []
    known = schema.get("properties", {})
    for key, value in config.items():
        if key not in known:
            if schema.get("additionalProperties", True) is False:
                guess = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else f" (known keys: {', '.join(sorted(known))})"
                problems.append(f"unknown key '{where}{key}'{hint}")
            continue
        if isinstance(value, Mapping) and known[key].get("type") == "object":
            problems.extend(_unknown_keys(value, known[key], f"{where}{key}."))
    return problems


def validate_config(config: Mapping[str, Any], source: str) -> None:
    import jsonschema

    schema = config_schema()
    problems = _unknown_keys(config, schema, "")
    if not problems:
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            problems.append(f"'{where}': {error.message}")
    if problems:
        raise ConfigError(f"{source}: invalid configuration:\n  " + "\n  ".join(problems))


def _fail_on(text: str) -> Severity | None:
    return None if text == "never" else Severity.parse(text)


def _terraform_options(config: Mapping[str, Any], cli_var_files: Sequence[str], base: Path) -> dict[str, Any]:
    """Var files as [{"root": directory or None (every root), "file": path}], in Terraform's
    order of precedence (later wins): the configuration's, then the command line's as given.
    In the configuration a list is for every root (relative to its file); a mapping gives
    each root (relative to the file) its own files (relative to that root). On the command
    line `ROOT=FILE` gives FILE to ROOT, a bare FILE to every root (both relative to here)."""
    configured = config.get("var_files", ())
    entries: list[dict[str, str | None]] = []
    if isinstance(configured, Mapping):
        for root, files in configured.items():
            entries += [{"root": str((base / root).resolve()), "file": str((base / root / f).resolve())} for f in files]
    else:
        entries += [{"root": None, "file": str((base / f).resolve())} for f in configured]
    for given in cli_var_files:
        root, _, file = given.partition("=") if "=" in given and Path(given.partition("=")[0]).is_dir() else ("", "", given)
        entries.append({"root": str(Path(root).resolve()) if root else None, "file": str(Path(file).resolve())})
    for entry in entries:
        if entry["root"] is not None and not Path(entry["root"]).is_dir():
            raise ConfigError(f"{entry['root']}: Terraform root module directory not found (for {entry['file']})")
        if not Path(str(entry["file"])).is_file():
            raise ConfigError(f"{entry['file']}: Terraform variables file not found")
    return {**config, "var_files": entries}


def var_file_roots(paths: Sequence[Path], terraform: Mapping[str, Any]) -> tuple[Path, ...]:
    """The roots that a variables file named among the paths is given to: scanned with it."""
    named = {p.resolve() for p in paths if p.is_file()}
    roots = [Path(str(e["root"])) for e in terraform.get("var_files", ()) if e["root"] and Path(str(e["file"])) in named]
    return tuple(dict.fromkeys(r for r in roots if r not in {p.resolve() for p in paths}))


def build_settings(
    paths: Sequence[Path],
    config_path: Path | None = None,
    cli: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults < config file < command line (`cli` holds only the options the user gave)."""
    scan_paths = tuple(paths) or (Path("."),)
    for path in scan_paths:
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory")
    given_root = (cli or {}).get("root")
    root = scan_root(scan_paths, Path(given_root) if given_root else None)
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: configuration file not found")
    config_file = config_path or find_config(root)
    config = read_config(config_file) if config_file else {}
    if config_file:
        validate_config(config, str(config_file))
    merged: dict[str, Any] = {**config, **{k: v for k, v in (cli or {}).items() if v is not None and k != "root"}}
    base = config_file.parent if config_file else Path.cwd()
    merged["terraform"] = _terraform_options(config.get("terraform", {}), merged.pop("var_files", None) or [], base)
    engines = merged.get("engines")
    regions = section_of(merged, "regions").get("allowed")
    cfn_lint = section_of(merged, "cfn_lint")
    return Settings(
        paths=scan_paths + var_file_roots(scan_paths, merged["terraform"]),
        root=root,
        config_file=config_file,
        engines=tuple(engines) if engines else None,
        fail_on=_fail_on(str(merged.get("fail_on", "error"))),
        select=tuple(merged.get("select", ())),
        ignore=tuple(merged.get("ignore", ())),
        rule_dirs=tuple((base / d) for d in config.get("rules", ())),
        budget=float(merged.get("budget", DEFAULT_BUDGET)),
        jobs=int(merged["jobs"]) if merged.get("jobs") is not None else None,
        unit_timeout=float(merged["unit_timeout"]) if merged.get("unit_timeout") is not None else None,
        changed_since=merged.get("changed_since"),
        options=merged,
        baseline=_policy_file(merged.get("baseline"), (cli or {}).get("baseline") is not None, base),
        waivers=_policy_file(merged.get("waivers"), False, base),
        mandatory=tuple(merged.get("mandatory", ())),
        no_suppressions=bool(merged.get("no_suppressions", False)),
        shard=parse_shard(merged["shard"]) if merged.get("shard") else None,
        as_of=merged.get("as_of"),
        limits=Limits.from_section(section_of(merged, "limits")),
        terraform=TerraformSettings.from_entries(merged["terraform"]["var_files"]),
        allowed_regions=tuple(str(r) for r in regions) if regions is not None else None,
        accounts=AccountsSettings.from_section(section_of(merged, "accounts")),
        guard=GuardSettings.from_section(section_of(merged, "guard"), base),
        cfn_lint=CfnLintSettings(
            regions=tuple(str(r) for r in cfn_lint["regions"]) if cfn_lint.get("regions") else None,
            as_of=cfn_lint.get("as_of"),
            timeout=float(cfn_lint.get("timeout", DEFAULT_CFN_LINT_TIMEOUT)),
        ),
        checkov=CheckovSettings(timeout=float(section_of(merged, "checkov").get("timeout", DEFAULT_CHECKOV_TIMEOUT))),
        severity_overrides=dict(section_of(merged, "severity")),
        cache=CacheSettings(enabled=merged.get("cache") is not False,
                            directory=str(merged["cache_dir"]) if merged.get("cache_dir") else None),
    )


def _policy_file(value: Any, from_cli: bool, base: Path) -> Path | None:
    """A policy file named on the command line is relative to the working directory;
    one named in the configuration is relative to the configuration file."""
    if not value:
        return None
    path = Path(str(value))
    return path if from_cli or path.is_absolute() else base / path


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ConfigError(f"--shard: expected K/N with 1 <= K <= N, got '{text}'")
    return int(match[1]), int(match[2])
