"""Which discovered units this run scans: those changed since a git ref, and one shard of them.

A directory unit (a Terraform module, a `cdk.out`) is scanned whole when any file in it
changed; a generated directory that git does not track (`cdk.out` is usually ignored) cannot
be compared, so it is always scanned. Terraform files loaded one by one are widened to their
module: a change to one `.tf` file rescans every `.tf` file beside it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

from scanner.inputs import Unit, unit_reads, unit_sources
from scanner.model import Finding
from scanner.settings import ConfigError

TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"--changed-since: git could not be run: {exc}") from exc
    if proc.returncode != 0:
        raise ConfigError(f"--changed-since: git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def changed_files(root: Path, ref: str) -> set[Path]:
    """Files added, copied, modified or renamed since the merge base with REF, committed or not,
    plus untracked files that are not ignored."""
    base = _git(root, "merge-base", ref, "HEAD").strip()
    changed = _git(root, "diff", "--name-only", "-z", "--diff-filter=ACMRT", base).split("\0")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    return {(root / name).resolve() for name in (*changed, *untracked) if name}


def deleted_files(root: Path, ref: str) -> set[Path]:
    """Files deleted since the merge base with REF (the old side of a rename too): a deletion is
    a change, judged against the base (an account that disappears, a module that lost its
    tfvars, baseline entries left behind)."""
    base = _git(root, "merge-base", ref, "HEAD").strip()
    deleted = _git(root, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=D", base).split("\0")
    return {root.resolve() / name for name in deleted if name}


def _tracked(root: Path, directory: Path) -> bool:
    return bool(_git(root, "ls-files", "-z", "--", str(directory.resolve())).strip("\0"))


def _is_terraform(path: Path) -> bool:
    return path.name.lower().endswith(TERRAFORM_SUFFIXES)


def select_changed(units: Sequence[Unit], root: Path, changed: set[Path]) -> list[Unit]:
    changed_modules = {p.parent for p in changed if _is_terraform(p)}
    kept: list[Unit] = []
    for unit in units:
        path = unit.path.resolve()
        if path.is_dir():
            # What the loader reads outside the directory (a Terraform root's ../modules/x) counts too;
            # a kind that lists every file it reads (Terraform) is judged by those files alone.
            sources = unit_sources(unit)
            reads = tuple(r.resolve() for r in sources) if sources is not None else (path, *(r.resolve() for r in unit_reads(unit)))
            keep = any(p.is_relative_to(r) for p in changed for r in reads) or not _tracked(root, path)
            if sources is not None and not keep:  # a deleted Terraform file where the unit reads (its tfvars)
                folders = {r.parent for r in reads}
                keep = any(not p.exists() and _is_terraform(p) and p.parent in folders for p in changed)
        else:
            keep = path in changed or (_is_terraform(path) and path.parent in changed_modules)
        if keep:
            kept.append(unit)
    return kept


def select_shard(units: Sequence[Unit], shard: tuple[int, int]) -> list[Unit]:
    """The K-th of N slices (1-based) of the units in their sorted order: round robin, so
    every shard gets a similar mix, and the same tree always splits the same way."""
    index, count = shard
    ordered = sorted(units, key=lambda u: u.uri)
    return ordered[index - 1 :: count]


def narrow(units: Sequence[Unit], findings: Sequence[Finding], root: Path, changed_since: str | None,
           shard: tuple[int, int] | None, deleted: set[Path] | None = None) -> tuple[list[Unit], list[Finding]]:
    """The units to scan, and the discovery findings (unreadable files) that belong to them.
    `deleted` (files deleted since the ref) count as changes of the directories they were in."""
    kept, notes = list(units), list(findings)
    if changed_since:
        changed = changed_files(root, changed_since)
        kept = select_changed(kept, root, changed | (deleted or set()))
        notes = [f for f in notes if (root / f.location.uri).resolve() in changed]
    if shard is not None:
        kept = select_shard(kept, shard)
        notes = notes if shard[0] == 1 else []
    return kept, notes
