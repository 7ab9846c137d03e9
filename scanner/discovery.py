"""Walk the given paths and decide, by content, which files are infrastructure code."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from scanner.failures import failure
from scanner.inputs import MAX_SNIFF_BYTES, InputKind, Unit
from scanner.model import Finding, Location
from scanner.settings import CONFIG_NAMES

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".terraform",
     ".idp-scan-cache", ".mypy_cache", ".pytest_cache", ".tox", ".nox"}
)


def repo_relative(path: Path, root: Path) -> str:
    """A forward-slash URI relative to the repository root (or the path as given, outside it)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(resolved, root)).as_posix()


def join_uri(base: str, name: str) -> str:
    """`name` inside the repo-relative directory `base` (the root is "." or ""), never `./x`."""
    return name if base in ("", ".") else f"{base.rstrip('/')}/{name}"


def is_within(uri: str, base: str) -> bool:
    """Whether a repo-relative URI is `base` or lies under it (everything lies under the root)."""
    return base in ("", ".") or uri == base or uri.startswith(base.rstrip("/") + "/")


def _skip_dir(directory: Path) -> bool:
    if directory.name in SKIPPED_DIRS:
        return True
    if (directory / "pyvenv.cfg").is_file() or (directory / "CACHEDIR.TAG").is_file():
        return True  # a virtualenv, or a cache directory (ours writes the standard tag)
    # CDK asset staging folders hold bundled application code, not infrastructure.
    return directory.name.startswith("asset.") and (directory.parent / "manifest.json").is_file()


def _head(path: Path) -> str:
    with path.open("rb") as handle:
        raw = handle.read(MAX_SNIFF_BYTES)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8", errors="replace")


def _walk(root: Path) -> Iterable[tuple[Path, list[str], list[str]]]:
    """(directory, files, symlinked directories); links are never descended into, so loops cannot hang."""
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        links = sorted(d for d in dirs if (here / d).is_symlink())
        dirs[:] = sorted(d for d in dirs if d not in links and not _skip_dir(here / d))
        yield here, sorted(files), links


def _real(path: Path) -> Path | None:
    """Where a path really is; None for a dangling link or a loop."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved


def _link_finding(link: Path, roots: Sequence[Path], root: Path) -> Finding | None:
    """A note for a link that points outside the scanned roots or to nothing (not followed)."""
    target = _real(link)
    if target is not None and any(target.is_relative_to(r) for r in roots):
        return None
    where = "to nothing (dangling or a loop)" if target is None else "outside the scanned paths"
    return failure("IDP017", f"Symbolic link points {where}; not followed.", Location(repo_relative_link(link, root)))


def repo_relative_link(link: Path, root: Path) -> str:
    """The link's own repo-relative path (not its target's)."""
    absolute = Path(os.path.abspath(link))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(absolute, root)).as_posix()


def claiming_ancestor(path: Path, root: Path, kinds: Sequence[InputKind]) -> Path | None:
    """The outermost directory above a given file, inside the repository, that a kind claims."""
    found = None
    resolved = path.resolve()
    for directory in resolved.parents:
        if not directory.is_relative_to(root) or directory == root:
            break
        if any(k.claims_dir is not None and k.claims_dir(directory) for k in kinds):
            found = directory
    return found


POLICY_KEYS = ("fail_on", "ignore", "select", "mandatory", "baseline", "waivers", "severity", "engines", "rules")
_NOT_A_CONFIG = object()


def _config_document(path: Path) -> Any:
    """What a configuration file holds (None when unreadable), or `_NOT_A_CONFIG`: a
    `pyproject.toml` without a `[tool.idp-scan]` table, or any other file."""
    if path.name not in (*CONFIG_NAMES, "pyproject.toml"):
        return _NOT_A_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
        if path.name in CONFIG_NAMES:
            return yaml.safe_load(text)
        return tomllib.loads(text).get("tool", {}).get("idp-scan", _NOT_A_CONFIG)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError):
        return None if path.name in CONFIG_NAMES else _NOT_A_CONFIG


def nested_config(path: Path, root: Path) -> Finding | None:
    """A configuration below the root is not applied; say so, and what it would have changed."""
    document = _config_document(path)
    if document is _NOT_A_CONFIG:
        return None
    keys = [k for k in POLICY_KEYS if isinstance(document, dict) and k in document]
    would = f"; it sets {', '.join(keys)}, which would change the policy that judges this tree" if keys else ""
    return failure("IDP039", f"Configuration file not applied: only the root's configuration (or --config) applies{would}.",
                   Location(repo_relative_link(path, root)))


def discover(paths: Sequence[Path], root: Path, kinds: Sequence[InputKind]) -> tuple[list[Unit], list[Finding]]:
    """Units to load, in a stable order; each file and directory is claimed at most once."""
    units: dict[Path, Unit] = {}
    findings: list[Finding] = []
    claimed_dirs: list[Path] = []
    roots = [r for r in (_real(p) for p in paths) if r is not None]

    def offer_file(path: Path, given: bool = False) -> None:
        resolved = path.resolve()
        if resolved in units or any(resolved.is_relative_to(d) for d in claimed_dirs):
            return
        owner = claiming_ancestor(path, root, kinds) if given else None
        if owner is not None:  # a template inside a cdk.out: scanned once, as part of its assembly
            offer_dir(owner)
            return
        uri = repo_relative(path, root)
        if not path.is_file():  # a FIFO would block the read forever; git cannot hold one anyway
            if any(kind.claims_file is not None and kind.claims_file(path, "") for kind in kinds):
                findings.append(failure("IDP016", "Not a regular file (a pipe, socket or device); not read.", Location(uri)))
            return
        try:
            head = _head(path)
        except OSError as exc:
            findings.append(failure("IDP016", f"File could not be read: {exc.strerror or exc}", Location(uri)))
            return
        for kind in kinds:
            if kind.claims_file is not None and kind.claims_file(path, head):
                if kind.per_directory:  # the file's directory is the unit (a Terraform module)
                    if resolved.parent not in units:
                        units[resolved.parent] = Unit(kind.name, path.parent, repo_relative(path.parent, root))
                    return
                units[resolved] = Unit(kind.name, path, uri)
                return

    def offer_dir(directory: Path) -> bool:
        for kind in kinds:
            if kind.claims_dir is not None and kind.claims_dir(directory):
                resolved = directory.resolve()
                if resolved not in units and not any(resolved.is_relative_to(d) for d in claimed_dirs):
                    for inner in [p for p in units if p.is_relative_to(resolved)]:
                        del units[inner]  # given earlier on its own (a template, a nested assembly)
                    claimed_dirs[:] = [d for d in claimed_dirs if not d.is_relative_to(resolved)]
                    units[resolved] = Unit(kind.name, directory, repo_relative(directory, root))
                    claimed_dirs.append(resolved)
                return True
        return False

    for given in paths:
        if given.is_file():
            offer_file(given, given=True)
            continue
        for directory, files, links in _walk(given):
            if any(directory.resolve().is_relative_to(d) for d in claimed_dirs):
                continue
            findings.extend(f for f in (_link_finding(directory / d, roots, root) for d in links) if f)
            if offer_dir(directory):
                continue
            for name in files:
                path = directory / name
                notice = nested_config(path, root) if directory.resolve() != root.resolve() else None
                if notice is not None:
                    findings.append(notice)
                    continue
                if path.is_symlink():
                    note = _link_finding(path, roots, root)
                    if note is not None:
                        findings.append(note)
                        continue
                offer_file(path)
    kept = list(units.values())
    for kind in kinds:
        if kind.prune is not None:
            own = [u for u in kept if u.kind == kind.name]
            kept = [u for u in kept if u.kind != kind.name] + kind.prune(own)
    return sorted(kept, key=lambda u: u.uri), sorted(set(findings), key=lambda f: f.sort_key)
