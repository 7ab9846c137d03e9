"""`idp-scan:ignore` comments in Terraform, YAML and any other file with `#` or `//` comments.

    # idp-scan:ignore IDP-NET-001 expires=2027-03-31 reason="bastion behind VPN"

A comment at the end of a line applies to that line; a comment on a line of its own applies to
the next line that is neither blank nor a comment. The line it applies to is matched against
the finding's line and the first lines of the finding's resource, so a comment above
`resource "aws_security_group" "bastion" {` or above a template's logical id covers the whole
resource. Comments are read from the file text, so this works for every file-based input.

They are read when a unit is loaded (`with_comments`), from every file the unit read: its own
file, the files its kind says it reads (a Terraform root's, its local modules', its var files)
and those its artifacts were read from (a plan's `.tf` files). The load cache keeps them with
the artifacts; the gate only reads them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from pathlib import Path

from scanner.failures import failure
from scanner.inputs import Loaded, Unit, read_text, unit_sources
from scanner.inputs.metadata_suppressions import parse_date
from scanner.inputs.uris import uri_maker
from scanner.model import CommentSuppression, FileComments, Finding, Location, Suppression

MARKER = re.compile(r"(?:#|//)\s*idp-scan:ignore\b(?P<rest>.*)$")
PAIR = re.compile(r"""\s*(?P<key>[A-Za-z_]+)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>\S+))""")
KEYS = ("reason", "expires", "owner")
# Extensions whose files have no comments: a marker in a JSON string is data, not a waiver.
NO_COMMENTS = (".json",)
# Files whose `#` comments are read (CDK sources in TypeScript or Python are not).
COMMENT_SUFFIXES = (".tf", ".hcl", ".tfvars", ".yaml", ".yml", ".template", ".cfn")


def with_comments(unit: Unit, loaded: Loaded) -> Loaded:
    """A unit's load with the comments of every file it read, whether or not it parsed: a
    template that fails to parse is reported, and the comments in it are still waivers."""
    found = []
    for uri, path in sorted(comment_files(unit, loaded).items()):
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError):
            continue  # the loader reports why it cannot be read
        suppressions, problems = parse(text, uri)
        if suppressions or problems:
            found.append(FileComments(uri, tuple(suppressions), tuple(problems)))
    return replace(loaded, comments=tuple(found))


def comment_files(unit: Unit, loaded: Loaded) -> dict[str, Path]:
    """Repo-relative URI -> file, for each file the unit read that may hold comments; a file
    over the size limit is not read here either."""
    base = unit.path if unit.path.is_dir() else unit.path.parent
    base_uri = unit.uri if unit.path.is_dir() else (posixpath.dirname(unit.uri) or ".")
    uri_of = uri_maker(base, base_uri)
    files = {unit.uri: unit.path} if unit.path.is_file() else {}
    files.update((uri_of(path), path) for path in unit_sources(unit) or ())
    for artifact in loaded.artifacts:
        for uri in artifact.files.values():
            files.setdefault(uri, base / posixpath.relpath(uri, base_uri))
    return {uri: path for uri, path in files.items() if _readable(path, unit)}


def _readable(path: Path, unit: Unit) -> bool:
    if path.suffix.lower() not in COMMENT_SUFFIXES:
        return False
    try:
        return path.is_file() and path.stat().st_size <= unit.limits.max_file_bytes
    except OSError:
        return False


def _is_comment_only(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(("#", "//"))


def _target(lines: list[str], index: int, marker_start: int) -> int | None:
    if lines[index][:marker_start].strip():
        return index + 1
    for later in range(index + 1, len(lines)):
        if lines[later].strip() and not _is_comment_only(lines[later]):
            return later + 1
    return None


def _fields(rest: str) -> tuple[list[str], dict[str, str], str]:
    """Rule ids, key=value pairs, and whatever could not be read."""
    head = rest.strip().split(None, 1)
    if not head or "=" in head[0]:
        return [], {}, rest.strip()
    ids = [part for part in head[0].split(",") if part]
    tail = head[1] if len(head) > 1 else ""
    pairs: dict[str, str] = {}
    position = 0
    while position < len(tail):
        match = PAIR.match(tail, position)
        if match is None:
            break
        pairs[match["key"]] = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
        position = match.end()
    return ids, pairs, tail[position:].strip()


def parse(text: str, uri: str) -> tuple[list[CommentSuppression], list[Finding]]:
    if uri.lower().endswith(NO_COMMENTS) or "idp-scan:ignore" not in text:
        return [], []
    lines = text.splitlines()
    waivers: list[CommentSuppression] = []
    problems: list[Finding] = []
    for index, line in enumerate(lines):
        match = MARKER.search(line)
        if match is None:
            continue
        location = Location(uri, index + 1, index + 1)
        ids, pairs, leftover = _fields(match["rest"])
        unknown = sorted(set(pairs) - set(KEYS))
        expires = parse_date(pairs["expires"]) if "expires" in pairs else None
        problem = _problem(ids, unknown, leftover, "expires" in pairs and expires is None, pairs.get("expires", ""))
        if problem:
            problems.append(failure("IDP030", f"idp-scan:ignore comment cannot be read: {problem}. It does not suppress.", location))
            continue
        target = _target(lines, index, match.start())
        for rule_id in ids:
            suppression = Suppression(rule_id=rule_id, reason=pairs.get("reason", ""), location=location,
                                      expires=expires, owner=pairs.get("owner", ""), origin="idp-scan")
            waivers.append(CommentSuppression(suppression, target))
    return waivers, problems


def _problem(ids: list[str], unknown: list[str], leftover: str, bad_date: bool, date_text: str) -> str:
    if not ids:
        return "it must start with a rule id (`# idp-scan:ignore RULE-ID reason=\"...\"`)"
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} (known: {', '.join(KEYS)})"
    if bad_date:
        return f"expires={date_text} is not a date (YYYY-MM-DD)"
    if leftover:
        return f"unexpected text '{leftover}' (quote the reason: reason=\"...\")"
    return ""
