"""Profile loading and the cfn-lint engine in one process, as a worker runs them.

    python -m benchmarks.profile_engines CORPUS [CORPUS ...] [--top 10] [--engine checkov] [--chunk 16]

Discovers the units idp-scan would scan under CORPUS, loads them (timed, profiled), then runs
the engine on the loaded artifacts the way a worker does (rules loaded once, per template),
in chunks of `--chunk` files as the pipeline hands them out (default: all at once), and prints
wall and CPU time of each stage and the top functions by cumulative time.
`--dump FILE` keeps the engine's profile for `python -m pstats`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path
from typing import Any, Callable, Sequence


def _profiled(work: Callable[[], Any], top: int, label: str, dump: Path | None = None) -> Any:
    profile = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    result = work()
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"== {label}: {wall:.2f} s wall, {cpu:.2f} s CPU (under the profiler)")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-(top * 160):])
    if dump is not None:
        stats.dump_stats(str(dump))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    from scanner.discovery import discover
    from scanner.engines import cfn_lint, checkov_engine
    from scanner.inputs import input_kinds
    from scanner.inputs.loading import load_units

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--no-profile-load", action="store_true", help="time loading without the profiler")
    parser.add_argument("--dump", type=Path, help="write the engine's profile here")
    parser.add_argument("--engine", choices=("cfn-lint", "checkov"), default="cfn-lint")
    parser.add_argument("--chunk", type=int, default=0, help="files per engine call (default: all)")
    args = parser.parse_args(argv)
    roots = [p.resolve() for p in args.corpus]
    units, _ = discover(roots, Path(*roots[0].parts[:2]) if len(roots) > 1 else roots[0], input_kinds())
    units = [u for u in units if u.kind == "cloudformation"]
    print(f"{len(units)} CloudFormation units")
    engine: Any = cfn_lint.CfnLintEngine() if args.engine == "cfn-lint" else checkov_engine.CheckovEngine()
    engine.prepare()  # imported before the workers fork, as the pipeline does
    if args.no_profile_load:
        started = time.perf_counter()
        artifacts = load_units(units).artifacts
        print(f"== load: {time.perf_counter() - started:.2f} s wall")
    else:
        artifacts = _profiled(lambda: load_units(units), args.top, "load").artifacts
    size = args.chunk or len(artifacts)

    def scan() -> list[Any]:
        return [f for i in range(0, len(artifacts), size) for f in engine.scan(artifacts[i:i + size])]

    findings = _profiled(scan, args.top, args.engine, args.dump)
    print(f"{len(findings)} {args.engine} findings on {len(artifacts)} artifacts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
