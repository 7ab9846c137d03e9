"""Diff-aware account checks: compare the accounts now with the accounts at a git ref.

An existing account keeps its e-mail and its name; an account that is gone is reported. An
account is matched with its base version by name (then the e-mail must be the same), else by
e-mail (then the name must be the same); matched by neither, it was removed. Files deleted
since the ref (under the scanned paths) count as base versions too, so a moved account is
not reported as removed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator, Sequence

from scanner.engines.account_checks import scope_of
from scanner.engines.account_violation import AccountViolation
from scanner.inputs import accounts
from scanner.inputs.accounts import AccountEntry, entries
from scanner.model import Artifact, Location

GIT_TIMEOUT = 30


class HistoryError(Exception):
    """The base versions could not be read; the gate must fail closed."""


class UnreadableBase(Exception):
    """One file's base version does not parse: nothing in it could have been vended from it, so
    the file is noted and the comparison goes on with the others."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HistoryError(f"git could not be run: {exc}") from exc


def verify_ref(root: Path, ref: str) -> None:
    if ref.startswith("-"):
        raise HistoryError(f"'{ref}' is not a git ref")
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise HistoryError(f"{root} is not in a git repository")
    done = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0:
        raise HistoryError(f"git ref '{ref}' does not exist in {root} (fetch it first, e.g. fetch-depth: 0)")


def base_artifact(root: Path, ref: str, uri: str) -> Artifact | None:
    """The account file at `ref`, or None when it did not exist there or was no account file."""
    if uri.startswith("../"):
        return None
    if _git(root, "cat-file", "-e", f"{ref}:{uri}").returncode != 0:
        return None
    shown = _git(root, "show", f"{ref}:{uri}")
    if shown.returncode != 0:
        raise HistoryError(f"git show {ref}:{uri} failed: {shown.stderr.decode(errors='replace').strip()}")
    text = shown.stdout.decode("utf-8-sig", errors="replace")
    if not accounts.claims_file(Path(uri), text):
        return None
    artifact, problems = accounts.load(root / uri, uri, text)
    if artifact is None and problems:
        raise UnreadableBase(f"{uri} at {ref} could not be parsed ({problems[0].message}); its accounts were not compared")
    return artifact


def deleted_yaml_files(root: Path, ref: str, scanned_paths: Sequence[Path]) -> list[str]:
    """YAML files that existed at `ref` under the scanned paths and are gone now (repo-relative)."""
    specs = []
    for path in scanned_paths:
        try:
            specs.append(path.resolve().relative_to(root.resolve()).as_posix() or ".")
        except ValueError:
            continue
    if not specs:
        return []
    done = _git(root, "diff", "--no-renames", "--name-only", "--diff-filter=D", "-z", ref, "--", *specs)
    if done.returncode != 0:
        raise HistoryError(f"git diff against '{ref}' failed: {done.stderr.decode(errors='replace').strip()}")
    return [uri for uri in filter(None, done.stdout.decode(errors="replace").split("\0"))
            if Path(uri).suffix.lower() in accounts.SUFFIXES]


def _index(items: Sequence[AccountEntry], role: str) -> dict[tuple[str, str], AccountEntry]:
    index: dict[tuple[str, str], AccountEntry] = {}
    for entry in items:
        value = entry.text(role)
        if value is not None:
            index.setdefault((scope_of(entry.artifact), value.casefold()), entry)
    return index


def history_violations(ref: str, base: Sequence[Artifact], current: Sequence[Artifact]) -> Iterator[AccountViolation]:
    now = [e for a in current for e in entries(a)]
    by_name, by_email = _index(now, "name"), _index(now, "email")
    current_uris = {a.uri: a for a in current}
    for old in (e for a in base for e in entries(a)):
        name, email, scope = old.text("name"), old.text("email"), scope_of(old.artifact)
        if name is None or email is None:
            continue
        same_name = by_name.get((scope, name.casefold()))
        if same_name is not None:
            new_email = same_name.text("email")
            if new_email is not None and new_email.casefold() != email.casefold():
                yield AccountViolation("IDP-ACCT-018", same_name.locate("email"), same_name.name,
                                f"`email` of existing account `{name}` changed from `{email}` (at {ref}) to `{new_email}`; the root e-mail of an existing account must not change.")
            continue
        same_email = by_email.get((scope, email.casefold()))
        if same_email is not None:
            yield AccountViolation("IDP-ACCT-019", same_email.locate("name"), same_email.name,
                            f"existing account `{name}` (e-mail `{email}`) was renamed to `{same_email.name}`; the name of an existing account must not change.")
            continue
        still = current_uris.get(old.artifact.uri)
        line = old.artifact.locate(old.path).start_line  # a deleted file: where the entry stood at the ref
        where = still.locate((old.path[0],)) if still is not None else Location(old.artifact.uri, line, line)
        yield AccountViolation("IDP-ACCT-020", where, name,
                        f"account `{name}` (`{email}`) existed at {ref} and is gone; closing an account is a separate, deliberate process.")
