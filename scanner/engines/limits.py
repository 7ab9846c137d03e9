"""A per-call time limit for foreign engines that have none of their own (cfn-lint, checkov).

The simplest stoppable way inside one process: an interval timer whose signal raises in the
running Python code. It works in a process's main thread (the CLI, and each worker process of
an executor); elsewhere the limit is not enforced and the caller's own deadline must stop it.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator


class EngineTimeout(BaseException):
    """The engine did not finish within its limit.

    A BaseException, so that the engines' own `except Exception` handlers (checkov turns a
    raising check into an UNKNOWN result, cfn-lint a raising rule into E0002) cannot swallow it.
    """


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise EngineTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
