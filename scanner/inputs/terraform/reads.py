"""What a Terraform root reads, found by a cheap text scan before any parsing: the local module
directories it reaches and every file Terraform reads for it (the cache and `--changed-since`
decide by these)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from scanner.inputs.terraform.files import SUFFIX, read_text
from scanner.inputs.terraform.tfvars import own_tfvars

MAX_MODULE_DIRS = 10_000  # a bound on the module directories followed from one root (hostile input)


_LOCAL_SOURCE = re.compile(r"""^\s*source\s*=\s*"(\.\.?/[^"]*)"\s*$""", re.MULTILINE)


_FILE_CALL = re.compile(r'\b(?:file|templatefile|filebase64|filesha256|filemd5)\(\s*"(\$\{path\.(?:module|root)\}/)?([^"$]+)"')


def sources(root: Path, var_files: Sequence[Path] = ()) -> list[Path]:
    """Every file Terraform reads for a root: `*.tf` and `*.tf.json` of the root and of each
    local module it reaches, the files their `file()`/`templatefile()` calls name literally,
    the root's own tfvars and the var files given to it. Nothing else under the directory
    (`.terraform/`, `.git`, `node_modules`, a cache) changes what a scan of it finds."""
    root = root.resolve()
    found: list[Path] = []
    for directory in [root, *sorted(local_module_dirs(root))]:
        own = sorted([*directory.glob(f"*{SUFFIX}"), *directory.glob(f"*{SUFFIX}.json")])
        found += own
        for path in own:
            found += _file_targets(path, directory, root)
    found += [*own_tfvars(root), *var_files]
    return [p for p in dict.fromkeys(found) if p.is_file()]


def _file_targets(path: Path, module: Path, root: Path) -> list[Path]:
    """Files a module names in `file("${path.module}/x")`-style calls (relative to the module
    with `path.module`, else to the root, Terraform's working directory)."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError):
        return []
    return [((module if prefix.startswith("${path.module}") else root) / name).resolve() for prefix, name in _FILE_CALL.findall(text)]


def local_module_dirs(directory: Path) -> set[Path]:
    """Every local module directory a root reaches, transitively (the root itself excluded)."""
    root = directory.resolve()
    seen: set[Path] = set()
    todo = [root]
    while todo and len(seen) < MAX_MODULE_DIRS:
        for called in local_module_calls(todo.pop()):
            if called not in seen and called != root and called.is_dir():
                seen.add(called)
                todo.append(called)
    return seen


def local_module_calls(directory: Path) -> set[Path]:
    """Directories this module calls as local modules (a cheap scan, before any parsing)."""
    called: set[Path] = set()
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError):
            continue
        for source in _LOCAL_SOURCE.findall(text):
            called.add((directory / source).resolve())
    return called
