"""Walk the given paths and decide, by content, which files are infrastructure code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from scanner.failures import failure
from scanner.inputs import MAX_SNIFF_BYTES, InputKind, Unit
from scanner.model import Finding, Location

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


def _walk(root: Path) -> Iterable[tuple[Path, list[str]]]:
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not _skip_dir(here / d))
        yield here, sorted(files)


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


def discover(paths: Sequence[Path], root: Path, kinds: Sequence[InputKind]) -> tuple[list[Unit], list[Finding]]:
    """Units to load, in a stable order; each file and directory is claimed at most once."""
    units: dict[Path, Unit] = {}
    findings: list[Finding] = []
    claimed_dirs: list[Path] = []

    def offer_file(path: Path, given: bool = False) -> None:
        resolved = path.resolve()
        if resolved in units or any(resolved.is_relative_to(d) for d in claimed_dirs):
            return
        owner = claiming_ancestor(path, root, kinds) if given else None
        if owner is not None:  # a template inside a cdk.out: scanned once, as part of its assembly
            offer_dir(owner)
            return
        try:
            head = _head(path)
        except OSError as exc:
            findings.append(failure("IDP001", f"File could not be read: {exc.strerror}", Location(repo_relative(path, root))))
            return
        for kind in kinds:
            if kind.claims_file is not None and kind.claims_file(path, head):
                if kind.per_directory:  # the file's directory is the unit (a Terraform module)
                    if resolved.parent not in units:
                        units[resolved.parent] = Unit(kind.name, path.parent, repo_relative(path.parent, root))
                    return
                units[resolved] = Unit(kind.name, path, repo_relative(path, root))
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
        for directory, files in _walk(given):
            if any(directory.resolve().is_relative_to(d) for d in claimed_dirs):
                continue
            if offer_dir(directory):
                continue
            for name in files:
                offer_file(directory / name)
    kept = list(units.values())
    for kind in kinds:
        if kind.prune is not None:
            own = [u for u in kept if u.kind == kind.name]
            kept = [u for u in kept if u.kind != kind.name] + kind.prune(own)
    return sorted(kept, key=lambda u: u.uri), findings
