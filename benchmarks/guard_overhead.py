"""What the Control Tower Guard rules add to a cold default run.

    python -m benchmarks.guard_overhead CORPUS [--rounds 2] [--json FILE]

Times `idp-scan scan CORPUS` cold (an empty cache each time) with the default engines, then
the same with `guard: {rules: [control-tower]}` (the 237 controls of the installed
@cdklabs/cdk-validator-cfnguard), alternating, each as a child process measured with
`os.wait4` (wall, and CPU of the process and its workers, cfn-guard included). Prints the
medians and the added share of wall and CPU time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.run import measure

IDP_SCAN = str(Path(sys.executable).parent / "idp-scan")


def run(corpus: Path, rounds: int, jobs: int | None) -> dict[str, object]:
    rows: dict[str, list[tuple[float, float, int]]] = {"default": [], "default + Control Tower": []}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "guard.yaml"
        config.write_text(f"guard:\n  rules: [{_control_tower()}]\n  binary: {_binary()}\n")
        plain = Path(folder) / "plain.yaml"
        plain.write_text("{}\n")
        for number in range(rounds):
            for name, config_file in (("default", plain), ("default + Control Tower", config)):
                argv = [IDP_SCAN, "scan", str(corpus), "--config", str(config_file), "--format", "json=/dev/null"]
                argv += ["--jobs", str(jobs)] if jobs else []
                cache = Path(folder) / f"cache-{name.replace(' ', '')}-{number}"
                m = measure(name, argv, env={"IDP_SCAN_CACHE_DIR": str(cache)})
                rows[name].append((m.wall, m.cpu, m.exit_code))
    medians = {name: {"wall": statistics.median(r[0] for r in runs), "cpu": statistics.median(r[1] for r in runs),
                      "exit_codes": [r[2] for r in runs]} for name, runs in rows.items()}
    base, guard = medians["default"], medians["default + Control Tower"]
    return {
        "rounds": rounds,
        "runs": {name: [{"wall": round(w, 2), "cpu": round(c, 2), "exit": e} for w, c, e in runs] for name, runs in rows.items()},
        "median": {name: {k: round(v, 2) if isinstance(v, float) else v for k, v in m.items()} for name, m in medians.items()},
        "added_wall": f"{100 * (float(guard['wall']) / float(base['wall']) - 1):.1f}%",  # type: ignore[arg-type]
        "added_cpu": f"{100 * (float(guard['cpu']) / float(base['cpu']) - 1):.1f}%",  # type: ignore[arg-type]
    }


def _control_tower() -> Path:
    from scanner.engines.cfn_guard_binary import package_dirs

    return package_dirs([Path.cwd()])[0] / "rules" / "control-tower" / "cfn-guard"


def _binary() -> Path:
    from scanner.engines.cfn_guard_binary import find_binary

    return find_binary(None, [Path.cwd()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = run(args.corpus, args.rounds, args.jobs)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
