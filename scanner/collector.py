"""The garbage collector during a scan: kept off what cannot be garbage.

A scan's process holds, for the whole run, what it imported (checkov and cfn-lint: about a
million objects) and what it loaded. Python's collector walks every tracked object in each full
collection, and full collections come more often as the heap grows: while the engines are
imported (a second of the warm-up on 846 templates) and while the reports are built, the
collector mostly re-reads the same live objects.

- `paused()`: no collection while the engines are imported (imports make modules, classes and
  functions that live as long as the process, and almost no garbage).
- `settled()`: objects alive when the block starts (and at each nested start) are left out of
  collections until the outermost block ends. They are still freed by reference counting; only
  a reference cycle among them would wait until then.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_depth = 0  # open `settled()` blocks


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def settled() -> Iterator[None]:
    global _depth
    gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()
