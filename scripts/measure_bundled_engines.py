"""Measure the bundled engines the way idp-scan runs them: in-process, warm, one batch.

Usage: .venv/bin/python scripts/measure_bundled_engines.py DIRECTORY [MAX_TEMPLATES]
Prints start-up (import + prepare), the first template, and the per-template cost over the
CloudFormation templates found under DIRECTORY, in wall and CPU seconds.
"""
import glob, sys, time
from pathlib import Path
t0 = time.perf_counter()
from scanner.engines.checkov_engine import CheckovEngine
from scanner.engines.cfn_lint import CfnLintEngine
from scanner.inputs import cfn
t = time.perf_counter(); print(f"import scanner engines: {t - t0:.2f} s")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10**6
files = sorted(glob.glob(f"{sys.argv[1]}/**/*.*", recursive=True))
arts = []
for f in files:
    try:
        text = Path(f).read_text(encoding="utf-8")
    except Exception:
        continue
    if not cfn.looks_like_template(text):
        continue
    a, _ = cfn.load_text(text, Path(f), f)
    if a is not None:
        arts.append(a)
arts = arts[:n]
print(f"templates: {len(arts)} ({sum(Path(a.path).stat().st_size for a in arts)//1024} KiB)")
for engine in (CheckovEngine(), CfnLintEngine()):
    s, c = time.perf_counter(), time.process_time(); engine.prepare(); p, pc = time.perf_counter() - s, time.process_time() - c
    s, c = time.perf_counter(), time.process_time(); list(engine.scan(arts[:1])); first, fc = time.perf_counter() - s, time.process_time() - c
    s, c = time.perf_counter(), time.process_time(); found = list(engine.scan(arts)); el, ec = time.perf_counter() - s, time.process_time() - c
    print(f"{engine.name}: prepare {p:.2f} s wall / {pc:.2f} s cpu; first template {first:.2f}/{fc:.2f} s; {len(arts)} templates {el:.1f}/{ec:.1f} s = {el / len(arts) * 1000:.0f}/{ec / len(arts) * 1000:.0f} ms per template (wall/cpu); {len(found)} findings, {sum(f.rule_id.startswith('IDP') for f in found)} IDP0xx")
