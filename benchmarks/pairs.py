"""idp-scan cold against checkov alone, alternated: each pair's ratio and the median.

    python -m benchmarks.pairs CORPUS                   # 5 pairs
    python -m benchmarks.pairs CORPUS --repeat 7 --before OLD/.venv/bin/idp-scan

On a shared virtual machine the speed of the same work drifts by 10-30% within minutes (the
same engine run on the same files measured 15.4 s, then 19.7 s). One run of `benchmarks.run`
then compares two moments as much as two programs. Here each idp-scan run (every default
engine, cold, its own cache directory) sits next to a `checkov -d` run on the same files (and,
with `--before`, an older install's cold run), so that a slow moment slows both sides of a
pair; the median of the pairs' ratios is the figure to quote.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from benchmarks.run import Measurement, checkov, idp_scan, measure


def pairs(corpus: Path, repeat: int, before: str | None) -> list[dict[str, Measurement]]:
    work = Path(tempfile.mkdtemp(prefix="idp-scan-pairs-"))
    runs: list[dict[str, Measurement]] = []
    for index in range(repeat):
        run = {"idp-scan": measure("idp-scan cold", idp_scan(corpus, work, None, None, None),
                                   {"IDP_SCAN_CACHE_DIR": str(work / f"cache-{index}")}),
               "checkov": measure("checkov", checkov(corpus))}
        if before:
            run["before"] = measure("before cold", idp_scan(corpus, work, None, None, None, before),
                                    {"IDP_SCAN_CACHE_DIR": str(work / f"cache-before-{index}")})
        runs.append(run)
        print(line(index, run), flush=True)
    return runs


def line(index: int, run: dict[str, Measurement]) -> str:
    ours, theirs = run["idp-scan"], run["checkov"]
    text = (f"pair {index + 1}: idp-scan {ours.wall:6.2f} s wall {ours.cpu:6.2f} s CPU {ours.peak_mib:6.0f} MiB"
            f" | checkov {theirs.wall:6.2f} s | idp-scan / checkov {ours.wall / theirs.wall:.3f}")
    if "before" in run:
        text += f" | before {run['before'].wall:6.2f} s, idp-scan / before {ours.wall / run['before'].wall:.3f}"
    return text


def summary(runs: list[dict[str, Measurement]]) -> dict[str, float]:
    ratios = [run["idp-scan"].wall / run["checkov"].wall for run in runs]
    out = {"median idp-scan / checkov": statistics.median(ratios), "lowest": min(ratios), "highest": max(ratios),
           "median idp-scan peak MiB": statistics.median(run["idp-scan"].peak_mib for run in runs)}
    if all("before" in run for run in runs):
        out["median idp-scan / before"] = statistics.median(run["idp-scan"].wall / run["before"].wall for run in runs)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=5, help="pairs to run (default 5)")
    parser.add_argument("--before", help="an older idp-scan executable, run cold in each pair too")
    parser.add_argument("--json", type=Path, help="also write every measurement as JSON")
    args = parser.parse_args(argv)
    runs = pairs(args.corpus.resolve(), args.repeat, args.before)
    result = summary(runs)
    for name, value in result.items():
        print(f"{name}: {value:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"corpus": str(args.corpus), "summary": result,
                                         "pairs": [{k: m.__dict__ for k, m in run.items()} for run in runs]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
