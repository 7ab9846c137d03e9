"""Checks that run before a parser sees a file: size, encoding, nesting, alias expansion, tags.

Every check answers with findings instead of raising, and none of them builds the document:
a file over a limit is reported, not parsed. The YAML checks read the event stream, which
PyYAML produces without recursion and lazily, so a hostile file is rejected after the first
few hundred events instead of after minutes (libyaml is quadratic in flow nesting depth) or
a RecursionError (the composer and constructor recurse).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scanner.failures import failure
from scanner.model import Finding, Location
from scanner.config_sections import Limits as Limits  # the `limits:` section; loaders import it from here

_UNSAFE_TAG = "tag:yaml.org,2002:python/"
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class Rejected(Exception):
    """A file that must not be parsed; carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def over_size(path: Path, uri: str, limit: int, key: str = "max_file_bytes") -> Finding | None:
    """IDP012 when the file is larger than `limit` bytes (checked before anything reads it)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return failure("IDP016", f"File could not be read: {exc.strerror or exc}", Location(uri))
    if size <= limit:
        return None
    return failure(
        "IDP012",
        f"File is {size:,} bytes, over the limit of {limit:,} bytes, so it was not parsed "
        f"(raise `limits.{key}` if this file is meant to be scanned; CloudFormation itself rejects templates over 1 MB).",
        Location(uri),
    )


def read_checked(path: Path, uri: str, limits: Limits) -> str:
    """The text of a file within the size limit; raises Rejected with the reason otherwise."""
    too_big = over_size(path, uri, limits.max_file_bytes)
    if too_big is not None:
        raise Rejected(too_big)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise Rejected(failure("IDP016", f"File could not be read: {exc.strerror or exc}", Location(uri))) from exc
    if len(raw) > limits.max_file_bytes:  # grew since stat
        raise Rejected(failure("IDP012", f"File is over the limit of {limits.max_file_bytes:,} bytes, so it was not parsed.", Location(uri)))
    return decode_bytes(raw, uri)


def decode_bytes(raw: bytes, uri: str) -> str:
    """UTF-8 (BOM optional) or UTF-16 with a BOM; binary and other encodings are rejected."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Rejected(failure("IDP013", f"File starts with a UTF-16 byte-order mark but is not valid UTF-16: {exc.reason}.", Location(uri))) from exc
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise Rejected(failure(
                "IDP013",
                f"File is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8.",
                Location(uri, line, line),
            )) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise Rejected(failure("IDP013", "File contains NUL bytes: it is binary, or UTF-16 without a byte-order mark; save it as UTF-8.", Location(uri, line, line)))
    if not text.strip():
        raise Rejected(failure("IDP014", "File is empty; CloudFormation rejects an empty template. Delete the file or add its content.", Location(uri)))
    return text


def yaml_shape(text: str, uri: str, limits: Limits, check_tags: bool = True) -> Finding | None:
    """The first limit the YAML document breaks, read from its event stream; None if within limits.

    Syntax errors are not this check's business: the decoder reports them with its own message.
    `check_tags=False` leaves tags to a loader that only composes (account files).
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    frames: list[list[Any]] = []  # [anchor, expanded node count] of each open collection
    sizes: dict[str, int] = {}
    total = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else 1
            tag = getattr(event, "tag", None)
            if check_tags and tag and tag.startswith(_UNSAFE_TAG):
                return failure(
                    "IDP001",
                    f"YAML tag `!!{tag[len('tag:yaml.org,2002:'):]}` is not allowed in infrastructure code; it was never "
                    "constructed (these files hold data, never code).",
                    Location(uri, line, line),
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                frames.append([event.anchor, 1])
                if len(frames) > limits.max_depth:
                    return _limit(uri, line, f"nests deeper than {limits.max_depth} levels", "max_depth")
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, count = frames.pop()
                if anchor:
                    sizes[anchor] = count
            elif isinstance(event, yaml.ScalarEvent):
                count = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                count = sizes.get(event.anchor or "", 1)
            else:
                continue
            if frames:
                frames[-1][1] += count
            total += count
            if total > limits.max_nodes or (frames and frames[-1][1] > limits.max_nodes):
                return _limit(uri, line, f"expands to more than {limits.max_nodes:,} values (YAML aliases included)", "max_nodes")
    except yaml.YAMLError:
        return json_depth(text, uri, limits)
    return None


def json_depth(text: str, uri: str, limits: Limits) -> Finding | None:
    """Nesting depth of JSON the YAML scanner refused (tabs): strings are always double-quoted."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limits.max_depth:
                line = text.count("\n", 0, match.start()) + 1
                return _limit(uri, line, f"nests deeper than {limits.max_depth} levels", "max_depth")
        elif token in "]}":
            depth -= 1
    return None


def _limit(uri: str, line: int, what: str, key: str) -> Finding:
    return failure(
        "IDP011",
        f"Document {what}, so it was not parsed (a guard against alias bombs and recursion; "
        f"raise `limits.{key}` if this file is meant to be scanned).",
        Location(uri, line, line),
    )
