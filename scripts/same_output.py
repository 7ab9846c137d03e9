"""Proof that a change kept behaviour: two installs scan the same files, JSON and SARIF compared byte for byte.

    python scripts/same_output.py --before OLD/.venv/bin/idp-scan --after .venv/bin/idp-scan
    python scripts/same_output.py --before ... --after ... --corpus ../shared/corpus/cfn

Each side scans every committed fixture tree (with the configuration its tests name) and each
`--corpus` directory, without the cache, writing JSON and SARIF; the exit codes and both
reports must be identical. Run from the repository whose files are scanned (both installs scan
the same files, so a difference is the code's). Exit 0 when everything is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2026-11-22"

# (name, arguments): the fixture scans the test suite and README run, each with its own configuration.
FIXTURE_SCANS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("examples-compliant", ("fixtures/examples/compliant",)),
    ("examples-noncompliant", ("fixtures/examples/noncompliant",)),
    ("cdk-app", ("fixtures/cdk/app", "--config", "fixtures/cdk/app/.idp-scan.yaml")),
    ("cdk-python-app", ("fixtures/cdk/python-app",)),
    ("cdk-nag-app", ("fixtures/cdk/nag-app",)),
    ("accounts", ("fixtures/accounts", "--config", "fixtures/accounts/.idp-scan.yaml")),
    ("terraform", ("fixtures/terraform",)),
    ("engines", ("fixtures/engines/mixed", "fixtures/engines/terraform", "fixtures/engines/isolation")),
    ("guard-app", ("fixtures/guard/app", "--config", "fixtures/guard/app/.idp-scan.yaml")),
    ("hostile", ("fixtures/hostile", "--config", "fixtures/hostile/.idp-scan.yaml")),
    ("gate", ("fixtures/gate",)),
    ("rules", ("fixtures/rules",)),
    ("rule-lambda", ("fixtures/rules/IDP-LAMBDA-001", "--config", "fixtures/rules/IDP-LAMBDA-001/.idp-scan.yaml")),
    ("rule-region", ("fixtures/rules/IDP-REGION-001", "--config", "fixtures/rules/IDP-REGION-001/.idp-scan.yaml")),
    ("rule-ttl", ("fixtures/rules/IDP-TTL-001", "--config", "fixtures/rules/IDP-TTL-001/.idp-scan.yaml")),
)


def scan(executable: str, arguments: tuple[str, ...], out: Path, repo: Path) -> tuple[int, bytes, bytes, float]:
    json_file, sarif_file = out.with_suffix(".json"), out.with_suffix(".sarif")
    command = [executable, "scan", *arguments, "--as-of", AS_OF, "--no-cache",
               "--format", f"json={json_file}", "--format", f"sarif={sarif_file}"]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.monotonic() - started
    if completed.returncode not in (0, 1):
        sys.stderr.write(completed.stderr.decode(errors="replace")[-2000:])
    read = lambda path: path.read_bytes() if path.exists() else b"<missing>"  # noqa: E731
    return completed.returncode, read(json_file), read(sarif_file), elapsed


def first_difference(before: bytes, after: bytes) -> str:
    lines = difflib.unified_diff(before.decode(errors="replace").splitlines(), after.decode(errors="replace").splitlines(),
                                 "before", "after", n=1, lineterm="")
    return "\n".join(list(lines)[:20])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="idp-scan executable of the old code")
    parser.add_argument("--after", required=True, help="idp-scan executable of the new code")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="repository whose files are scanned (default: .)")
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="also scan this directory (repeatable)")
    parser.add_argument("--no-fixtures", action="store_true", help="scan only the --corpus directories")
    parser.add_argument("--engines", help="pass --engines to both sides (default: every default engine)")
    options = parser.parse_args(argv)
    repo = options.repo.resolve()
    scans = [] if options.no_fixtures else [(name, args) for name, args in FIXTURE_SCANS if (repo / args[0]).exists()]
    scans += [(f"corpus-{path.name}", (str(path.resolve()), "--root", str(path.resolve()))) for path in options.corpus]
    if options.engines:
        scans = [(name, (*args, "--engines", options.engines)) for name, args in scans]
    different = 0
    with tempfile.TemporaryDirectory(prefix="same-output-") as scratch:
        for name, arguments in scans:
            results = [scan(exe, arguments, Path(scratch) / f"{side}-{name}", repo)
                       for side, exe in (("before", options.before), ("after", options.after))]
            (code_a, json_a, sarif_a, time_a), (code_b, json_b, sarif_b, time_b) = results
            same = code_a == code_b and json_a == json_b and sarif_a == sarif_b
            different += not same
            print(f"{'same     ' if same else 'DIFFERENT'} {name:24} exit {code_a}/{code_b}  json {len(json_a):>9} B"
                  f"  sarif {len(sarif_a):>9} B  {time_a:6.1f} s / {time_b:6.1f} s", flush=True)
            if json_a != json_b:
                print(first_difference(json_a, json_b))
            elif sarif_a != sarif_b:
                print(first_difference(sarif_a, sarif_b))
    print(f"{len(scans) - different} of {len(scans)} scans byte-identical (JSON, SARIF, exit code)")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
