"""Time idp-scan cold, warm and on one file against the checkov and cfn-lint CLIs, in one run.

    python -m benchmarks.run                      # generate 200 templates (+ Terraform, accounts) and compare
    python -m benchmarks.run ../shared/corpus/cfn # a corpus of your own
    python -m benchmarks.run --templates 1000 --no-baselines   # idp-scan alone, at scale
    python -m benchmarks.run TREE --before OLD/.venv/bin/idp-scan  # also an older install, same run

Every command runs as a child process; wall time, CPU time (user + system, its worker
processes included) and the peak resident memory of its largest process come from
`os.wait4`. Ratios compare idp-scan with checkov alone, cfn-lint alone and both run one after
the other on the same files (and with `--before`, the older install), measured in the same run
on the same machine, so machine load affects both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from benchmarks.generate import generate

CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")


@dataclass(frozen=True)
class Measurement:
    name: str
    command: str
    wall: float
    cpu: float
    peak_mib: float
    exit_code: int


def measure(name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Measurement:
    started = time.perf_counter()
    process = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(name, " ".join(argv), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                       process.returncode)


def templates_in(corpus: Path) -> list[Path]:
    """CloudFormation templates, found the way idp-scan finds them (by content)."""
    from scanner.inputs.cfn import looks_like_template

    found = []
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and path.suffix.lower() in CFN_SUFFIXES:
            try:
                head = path.read_text(encoding="utf-8", errors="replace")[:65536]
            except OSError:
                continue
            if looks_like_template(head):
                found.append(path)
    return found


def idp_scan(target: Path, cache: Path, engines: str | None, jobs: int | None, budget: float | None,
             executable: str | None = None) -> list[str]:
    command = [executable] if executable else [sys.executable, "-m", "scanner"]
    argv = [*command, "scan", str(target), "--quiet", "--format", "sarif=" + os.devnull]
    argv += ["--engines", engines] if engines else []
    argv += ["--jobs", str(jobs)] if jobs else []
    argv += ["--budget", str(budget)] if budget else []
    return argv


def checkov(target: Path) -> list[str]:
    flag = "-f" if target.is_file() else "-d"
    return ["checkov", flag, str(target), "--quiet", "--compact", "--skip-download", "-o", "json",
            "--framework", "cloudformation", "terraform"]


def run(corpus: Path, engines: str | None, jobs: int | None, budget: float | None, baselines: bool,
        one_file: Path | None, before: str | None = None) -> dict[str, object]:
    templates = templates_in(corpus)
    single = one_file or (templates[0] if templates else None)
    work = Path(tempfile.mkdtemp(prefix="idp-scan-bench-"))
    cache = {"IDP_SCAN_CACHE_DIR": str(work / "cache")}
    rows = [
        measure("idp-scan cold", idp_scan(corpus, work, engines, jobs, budget), cache),
        measure("idp-scan warm", idp_scan(corpus, work, engines, jobs, budget), cache),
    ]
    if before:
        old = {"IDP_SCAN_CACHE_DIR": str(work / "cache-before")}
        rows.append(measure("before cold", idp_scan(corpus, work, engines, jobs, budget, before), old))
        rows.append(measure("before warm", idp_scan(corpus, work, engines, jobs, budget, before), old))
    if single is not None:
        rows.append(measure("idp-scan one file", idp_scan(single, work, engines, jobs, budget),
                            {"IDP_SCAN_CACHE_DIR": str(work / "cache-one")}))
    if baselines:
        if shutil.which("checkov"):
            rows.append(measure("checkov", checkov(corpus)))
        if shutil.which("cfn-lint") and templates:
            rows.append(measure("cfn-lint", ["cfn-lint", "--", *map(str, templates)]))
        if single is not None and shutil.which("checkov"):
            rows.append(measure("checkov one file", checkov(single)))
        if single is not None and shutil.which("cfn-lint"):
            rows.append(measure("cfn-lint one file", ["cfn-lint", "--", str(single)]))
    shutil.rmtree(work, ignore_errors=True)
    return {"corpus": str(corpus), "templates": len(templates), "one_file": str(single), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "rows": [asdict(r) for r in rows], "ratios": ratios(rows)}


def ratios(rows: Sequence[Measurement]) -> dict[str, float]:
    """idp-scan cold and warm against each baseline of the same run: wall, CPU, peak memory."""
    by_name = {r.name: r for r in rows}
    baselines = {"checkov + cfn-lint": [by_name[n] for n in ("checkov", "cfn-lint") if n in by_name]}
    baselines.update({name: [by_name[name]] for name in ("checkov", "cfn-lint") if name in by_name})
    for temperature in ("cold", "warm"):
        if f"before {temperature}" in by_name:
            baselines[f"before {temperature}"] = [by_name[f"before {temperature}"]]
    out: dict[str, float] = {}
    for temperature in ("cold", "warm"):
        ours = by_name.get(f"idp-scan {temperature}")
        for label, measured in baselines.items():
            if ours is None or not measured or (label.startswith("before") and not label.endswith(temperature)):
                continue
            wall, cpu = sum(r.wall for r in measured), sum(r.cpu for r in measured)
            out[f"{temperature} wall / {label}"] = ours.wall / wall
            out[f"{temperature} cpu / {label}"] = ours.cpu / cpu if cpu else 0.0
            if len(measured) == 1:
                out[f"{temperature} peak / {label}"] = ours.peak_mib / measured[0].peak_mib if measured[0].peak_mib else 0.0
    return out


def table(report: dict[str, object]) -> str:
    lines = [f"corpus: {report['corpus']} ({report['templates']} templates); one file: {report['one_file']}",
             f"cpus: {report['cpus']}, load average at the end: {', '.join(f'{x:.1f}' for x in report['load_average'])}",  # type: ignore[attr-defined]
             "", f"| {'run':<20} | {'wall s':>8} | {'cpu s':>8} | {'peak MiB':>9} | exit |",
             f"|{'-' * 22}|{'-' * 10}|{'-' * 10}|{'-' * 11}|------|"]
    for row in report["rows"]:  # type: ignore[attr-defined]
        lines.append(f"| {row['name']:<20} | {row['wall']:>8.2f} | {row['cpu']:>8.2f} | {row['peak_mib']:>9.1f} | {row['exit_code']:>4} |")
    ratios_ = report["ratios"]
    if ratios_:
        lines.append("")
        lines += [f"{name}: {value:.3f}" for name, value in ratios_.items()]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, help="files to scan (default: a generated corpus)")
    parser.add_argument("--templates", type=int, default=200, help="templates to generate (no corpus given)")
    parser.add_argument("--resources", type=int, default=10, help="resources per generated template")
    parser.add_argument("--terraform", type=int, default=10, help="Terraform modules to generate")
    parser.add_argument("--accounts", type=int, default=10, help="account files to generate")
    parser.add_argument("--engines", help="idp-scan --engines (default: its default engines)")
    parser.add_argument("--jobs", type=int, help="idp-scan --jobs")
    parser.add_argument("--budget", type=float, help="idp-scan --budget")
    parser.add_argument("--one-file", type=Path, help="the file of the one-file runs (default: the first template)")
    parser.add_argument("--no-baselines", action="store_true", help="do not run checkov and cfn-lint")
    parser.add_argument("--before", help="an older idp-scan executable, also timed cold and warm in this run")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    generated = None
    corpus = args.corpus
    if corpus is None:
        generated = Path(tempfile.mkdtemp(prefix="idp-scan-corpus-"))
        corpus = generated / "corpus"
        generate(corpus, args.templates, args.resources, args.terraform, args.accounts)
    try:
        report = run(corpus.resolve(), args.engines, args.jobs, args.budget, not args.no_baselines, args.one_file,
                     args.before)
    finally:
        if generated is not None:
            shutil.rmtree(generated, ignore_errors=True)
    print(table(report), end="")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
