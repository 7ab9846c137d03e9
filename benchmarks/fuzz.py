"""Mutation fuzzing of every input kind, for a fixed time budget.

    python -m benchmarks.fuzz                    # 120 s over the repo's fixtures
    python -m benchmarks.fuzz --seconds 600 ../shared/corpus/cfn ../shared/corpus/accounts
    python -m benchmarks.fuzz --seed 7           # reproduce a run
    python -m benchmarks.fuzz --cases 4000 --seed 1   # exactly these cases on any machine (CI)

Seeds are real files (templates, .tf files, plans, account files); each case mutates one
seed the way files break in real life (truncation, stray bytes, deleted spans, duplicated
lines, deep nesting, alias bombs, unsafe tags) and loads it through its input kind, as a scan
would. A case fails when loading raises, takes longer than --case-seconds, or yields no
artifact and no blocking finding for a file its parser rejects. Failing inputs are written to
--out (default: fuzz-failures/) with the reason, and the exit code is 1. A case stuck where no
signal reaches (C code) ends the run after 3 x --case-seconds with a traceback; its input is
--out/in-progress.
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from scanner.inputs import InputKind, Loaded, Unit, input_kinds
from scanner.model import Severity

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS = (REPO / "fixtures",)
SUFFIX_KIND = {".yaml": "cloudformation", ".yml": "cloudformation", ".json": "cloudformation", ".template": "cloudformation", ".tf": "terraform"}
INSERTS = (b":", b"- ", b"[", b"{", b"}", b"]", b'"', b"'", b"\t", b"&a ", b"*a", b"!Ref ", b"!!python/object/apply:os.system ['true'] ",
           b"\n  ", b"<<: *a\n", b"\x00", b"\xff\xfe", b"${", b"}}", b"{{ .Values.x }}", b"\r\n", b"#", b"\\")


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    raw: bytes


def seeds(paths: Sequence[Path]) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of every seed file, in a stable order."""
    found = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for path in files:
            kind = seed_kind(path)
            if kind and path.stat().st_size <= 256 * 1024:
                found.append((kind, path.name, path.read_bytes()))
    return found


def seed_kind(path: Path) -> str | None:
    head = path.read_bytes()[:4096]
    if path.suffix == ".yaml" and any(head.lstrip().startswith(k) or b"\n" + k in head for k in (b"accounts:", b"mandatoryAccounts:", b"workloadAccounts:")):
        return "accounts"
    if path.suffix == ".json" and b'"terraform_version"' in head:
        return "terraform-plan"
    return SUFFIX_KIND.get(path.suffix)


def mutate(raw: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(raw))
        edit = rng.choice(("truncate", "insert", "delete", "duplicate-line", "bytes", "nest", "alias", "swap-lines"))
        if edit == "truncate":
            raw = raw[:at]
        elif edit == "insert":
            raw = raw[:at] + rng.choice(INSERTS) + raw[at:]
        elif edit == "delete":
            raw = raw[:at] + raw[at + rng.randint(1, 40):]
        elif edit == "duplicate-line" or edit == "swap-lines":
            lines = raw.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if edit == "duplicate-line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            raw = b"\n".join(lines)
        elif edit == "bytes":
            raw = raw[:at] + rng.randbytes(rng.randint(1, 8)) + raw[at:]
        elif edit == "nest":
            depth = rng.choice((50, 101, 500, 5000))
            opener, closer = rng.choice(((b"[", b"]"), (b"{a: ", b"}"), (b'{"a": ', b"}")))
            raw = raw[:at] + opener * depth + closer * depth + raw[at:]
        else:
            bomb = b"a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + b"".join(
                b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 9)) for i in range(1, rng.randint(2, 10))
            )
            raw = bomb + raw
    return raw


def load_case(kind: InputKind, case: Case) -> Loaded:
    """Load a case the way a scan does: from a file in a directory of its own."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / case.name
        path.write_bytes(case.raw)
        target = path.parent if kind.per_directory else path
        return kind.load(Unit(kind.name, target, case.name))


def rejected_by_parser(case: Case) -> bool:
    """Independently of the scanner: would this kind's parser refuse the bytes?"""
    try:
        utf16 = case.raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        text = case.raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError:
        return True
    try:
        if case.kind == "cloudformation":
            from cfnlint.decode import decode_str

            decoded, matches = decode_str(text)
            return decoded is None or bool(matches)
        if case.kind == "terraform":
            from scanner.inputs.terraform.hcl import parse_hcl

            parse_hcl(text)
        elif case.kind == "terraform-plan":
            import json

            json.loads(text)
        else:
            import yaml

            yaml.compose(text, Loader=yaml.CSafeLoader)
    except RecursionError:
        return True
    except Exception:
        return True
    return False


class _Timeout(BaseException):
    """Not an Exception: a loader's `except Exception` must not swallow the case's deadline."""


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout()


def check(case: Case, kinds: dict[str, InputKind], case_seconds: float) -> str | None:
    """The reason a case fails the properties, or None."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, case_seconds)
    try:
        return _verdict(case, kinds)
    except _Timeout:
        return f"took longer than {case_seconds} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _verdict(case: Case, kinds: dict[str, InputKind]) -> str | None:
    try:
        loaded = load_case(kinds[case.kind], case)
    except Exception as exc:
        return f"raised {type(exc).__name__}: {exc}"
    blocking = [f for f in loaded.findings if f.severity is Severity.ERROR]
    if not blocking and case.raw.strip() and rejected_by_parser(case):
        if case.kind == "cloudformation" and not loaded.artifacts and not loaded.findings:
            return None  # no longer looks like a template at all: not infrastructure code
        if case.kind == "accounts" and not loaded.artifacts:
            return None  # no longer an account file
        if case.kind == "terraform" and loaded.artifacts:
            return "passed a .tf file its parser rejects"
        if case.kind in ("cloudformation", "terraform-plan") and loaded.artifacts:
            return "passed a file its parser rejects"
    return None


def run(paths: Sequence[Path], seconds: float, seed: int, case_seconds: float, out: Path,
        log: Callable[[str], None] = print, max_cases: int | None = None) -> int:
    rng = random.Random(seed)
    pool = seeds(paths)
    if not pool:
        log("no seed files found")
        return 2
    kinds = {k.name: k for k in input_kinds()}
    started = time.monotonic()
    deadline = started + seconds
    cases = failures = 0
    per_kind: dict[str, int] = {}
    out.mkdir(parents=True, exist_ok=True)
    in_progress = out / "in-progress"
    while time.monotonic() < deadline and (max_cases is None or cases < max_cases):
        kind, name, raw = rng.choice(pool)
        case = Case(kind, name, mutate(raw, rng))
        # SIGALRM cannot interrupt C code (a regex, a C parser): a watchdog thread ends the
        # process instead, printing where it hung, and the case is already on disk.
        in_progress.write_bytes(case.raw)
        faulthandler.dump_traceback_later(case_seconds * 3, exit=True)
        reason = check(case, kinds, case_seconds)
        faulthandler.cancel_dump_traceback_later()
        cases += 1
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if reason:
            failures += 1
            (out / f"{failures:03d}-{name}").write_bytes(case.raw)
            (out / f"{failures:03d}-{name}.reason.txt").write_text(f"{kind}: {reason}\n")
            log(f"FAIL {kind} {name}: {reason}")
    in_progress.unlink()
    if not any(out.iterdir()):
        out.rmdir()
    log(f"{cases} cases in {time.monotonic() - started:.0f} s (seed {seed}, {len(pool)} seeds): {per_kind}; {failures} failure(s)")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="seed files or directories (default: fixtures/)")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    parser.add_argument("--cases", type=int, default=None,
                        help="stop after this many cases: with --seed, the same cases on every machine")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--case-seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    args = parser.parse_args(argv)
    return run(args.paths or list(DEFAULT_SEEDS), args.seconds, args.seed, args.case_seconds, args.out,
               max_cases=args.cases)


if __name__ == "__main__":
    sys.exit(main())
