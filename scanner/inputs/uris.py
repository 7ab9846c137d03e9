"""Repo-relative URIs of the files a unit reads besides its own path."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Callable


def uri_maker(root_dir: Path, root_uri: str) -> Callable[[Path], str]:
    """Repo-relative URIs of files near a unit, from the unit's own path and URI."""
    base = root_dir.resolve()

    def uri_of(path: Path) -> str:
        return posixpath.normpath(posixpath.join(root_uri, Path(os.path.relpath(path.resolve(), base)).as_posix()))

    return uri_of
