"""checkov's graph checks without threads: each task runs when it is submitted, in the worker's
own thread.

checkov runs its graph checks in a thread pool per scan, and every attribute or resource check
in a thread pool of its own (never shut down): on the CloudFormation corpora that is about
2,500 pools and their threads for 423 scans. In a worker process that already has a core to
itself the threads only add their start-up, their hand-over of the interpreter lock and their
waiting; checkov's results do not depend on them (each task appends to its own check's lists,
which checkov reads only after every task has finished).

A task's exception is kept in its future, as a pool's worker keeps it, and surfaces where
checkov asks for the result (it mostly does not). Only an interruption that is not an
`Exception` (the engine's time limit, Ctrl-C) propagates at once: with threads it reached the
main thread alone, while the pool's threads ran on.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Future
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator

# The modules whose pools are replaced, and how each names ThreadPoolExecutor.
_DIRECT = (
    "checkov.common.checks_infra.solvers.attribute_solvers.base_attribute_solver",
    "checkov.common.checks_infra.solvers.resource_solvers.base_resource_solver",
)
_THROUGH_CONCURRENT = "checkov.common.graph.checks_infra.registry"


class InlineExecutor:
    """The part of `ThreadPoolExecutor` checkov uses, run in the caller's thread."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - kept in the future, as a pool's worker keeps it
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        futures = [self.submit(function, *args) for args in zip(*iterables)]
        return (future.result() for future in futures)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *_: object) -> None:
        pass


@lru_cache(maxsize=1)
def run_graph_checks_inline() -> None:
    """Replace checkov's graph-check thread pools with `InlineExecutor` (once per process)."""
    for name in _DIRECT:
        setattr(importlib.import_module(name), "ThreadPoolExecutor", InlineExecutor)
    registry = importlib.import_module(_THROUGH_CONCURRENT)
    real = registry.concurrent.futures
    futures = SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    futures.ThreadPoolExecutor = InlineExecutor
    setattr(registry, "concurrent", SimpleNamespace(futures=futures))
