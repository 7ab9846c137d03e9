#!/usr/bin/env python3
"""Signal measurement for issue 15: how much of what idp-scan reports is one finding per concern.

Runs `<venv>/bin/idp-scan scan ... --format json=... --no-cache` (default engines, a private
IDP_SCAN_CACHE_DIR, cwd = the input set so paths are relative to it) on every input set under
--inputs, and computes from the JSON reports, per set and per scanner version:

- files scanned; findings (every status), open findings, superseded findings;
- blocking: open findings of severity error;
- flagged resources: distinct (artifact, or location uri when the report has no artifact, resource
  name) with an open finding; open findings per flagged resource; blocking per template (CFN/CDK
  templates and Terraform roots scanned; module .tf files and CDK validation reports not counted);
- duplicates: open findings on one resource of one file that report the same concern as another
  open finding there (ids in one equivalence group, or listed in the other's `also_reported_as`,
  or a native rule and one of its declared aliases; IDP-NET-001 + IDP-NET-002 on one line; and
  IDP-TAG-001 / IDP-TTL-001 of several resources at one line of one artifact: a SAM resource and
  what it generates, the instances of one Terraform count/for_each block). Counted as extra
  findings: a group of n findings of one concern is n-1. Reported apart: a file's failure reported
  by idp-scan and again by cfn-lint (IDP010 + E0000 duplicate key, IDP019 + E0001 transform);
- open past a suppressed owner: open findings of another engine on a resource where the native
  rule owning that concern is suppressed or baselined;
- contradictions: open findings of another engine (checkov, cfn-lint, cdk-validation) whose id is
  a declared alias of a native rule (or a settling row of the version's equivalence table in
  scanner/findings/concerns.py, else CKV2_AWS_6/E2531/E2533) on a resource of a
  type that native rule applies to, where that native rule has no finding (any status but
  superseded): the native rule passed it, or could not decide it;
- the 20 most frequent blocking rule ids.

Input sets: every directory directly under an --inputs directory (repeatable; set names unique);
a `SCAN_PATHS` file in a set lists the paths to scan (one a line, relative to the set), else `.`.
A set whose name starts with `cdk-team` is team-written and left out of the "public sets" top 20.

    python signal_measure.py --venv before=/work/measure-before/.venv --venv after=/work/measure-after/.venv \
        --inputs /work/measure-inputs --out /tmp/signal.md
    python signal_measure.py --venv /work/measure-after/.venv --inputs /work/measure-inputs --out /tmp/x.md
    python signal_measure.py --venv final=/path/.venv --inputs ... --with /tmp/signal.md.json --out /tmp/y.md  # add earlier columns

Reports are kept in --reports (default: beside --out) and reused with --reuse. A summary JSON is
written beside the markdown (`<out>.json`); --with reads such a file and adds its columns.
Handles both report formats: before 9252583 findings have no `artifact`/`instance` and no
`superseded` status (superseded findings are not open in either).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

# Equivalent concerns (issue 15), on one resource of one file.
GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"IDP-NET-001", "CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "W2508"}),
    frozenset({"IDP-LAMBDA-001", "E2531", "E2533", "W2531", "CKV_AWS_363"}),
    frozenset({"IDP-DATA-001", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"}),
    frozenset({"IDP-DATA-002", "CKV_AWS_16", "W9008"}),
    frozenset({"IDP-DATA-003", "CKV_AWS_17", "W9011"}),
)
# Checks of other engines that test exactly a native rule's concern although not declared as its
# aliases: its pass decides them. Used for versions without scanner/findings/concerns.py; a version
# that has it contributes its own rows (settles=True) too. W2531 is not here: it warns ahead of the
# deprecation date, when IDP-LAMBDA-001 rightly passes.
SETTLING: dict[str, str] = {
    "CKV2_AWS_6": "IDP-DATA-001",
    "E2531": "IDP-LAMBDA-001",
    "E2533": "IDP-LAMBDA-001",
}
SCOPE_WIDE = ("IDP-TAG-001", "IDP-TTL-001")
# One failure of a file reported by idp-scan and by cfn-lint (no resource, so matched per file):
# a duplicate key (IDP010 / cfn-lint E0000), a SAM transform that failed (IDP019 / E0001).
FAILURE_TWINS = {"E0000": "IDP010", "E0001": "IDP019"}
NOT_OPEN = {"superseded", "suppressed", "baselined", "passed"}


# --------------------------------------------------------------------------- running

def parse_venv(spec: str) -> tuple[str, Path]:
    if "=" in spec:
        label, path = spec.split("=", 1)
        return label, Path(path).resolve()
    path = Path(spec).resolve()
    return path.parent.name, path


def input_sets(root: Path) -> list[tuple[str, Path, list[str]]]:
    sets = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        listing = d / "SCAN_PATHS"
        paths = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()] if listing.exists() else ["."]
        sets.append((d.name, d, paths))
    return sets


def scan(venv: Path, set_dir: Path, paths: list[str], report: Path, jobs: int | None, budget: float) -> dict[str, Any]:
    report.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nice", "-n", "10", str(venv / "bin" / "idp-scan"), "scan", *paths,
           "--format", f"json={report}", "--no-cache", "--budget", str(budget)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    with tempfile.TemporaryDirectory(prefix="signal-cache-") as cache:
        env = {**os.environ, "IDP_SCAN_CACHE_DIR": cache, "NO_COLOR": "1"}
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=set_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.monotonic() - start
    if not report.exists():
        raise SystemExit(f"{' '.join(cmd)} (in {set_dir}) wrote no report, exit {proc.returncode}:\n{proc.stderr[-2000:]}")
    meta = {"exit": proc.returncode, "seconds": round(seconds, 1), "command": " ".join(cmd[3:]), "cwd": str(set_dir)}
    report.with_suffix(".run.json").write_text(json.dumps(meta, indent=1))
    return meta


def catalogue(venv: Path) -> dict[str, dict[str, Any]]:
    """Native rules: {id: {aliases, types}} from `idp-scan rules list` / `rules show`."""
    exe = str(venv / "bin" / "idp-scan")
    listing = subprocess.run([exe, "rules", "list"], capture_output=True, text=True, check=True).stdout
    rules: dict[str, dict[str, Any]] = {}
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == "native":
            show = subprocess.run([exe, "rules", "show", parts[0]], capture_output=True, text=True, check=True).stdout
            aliases: list[str] = []
            types: set[str] = set()
            for ln in show.splitlines():
                if ln.startswith("Aliases:"):
                    aliases = [a.strip() for a in ln.split(":", 1)[1].split(",") if a.strip()]
                elif ln.startswith("Applies to"):
                    types |= {t.strip() for t in ln.split(":", 1)[1].split(",") if t.strip()}
            rules[parts[0]] = {"aliases": aliases, "types": sorted(types)}
    return rules


def equivalences(venv: Path) -> list[list[Any]]:
    """The version's own table of cross-engine equivalences, [owner, other, settles] (empty before it existed)."""
    code = ("import json\nfrom scanner.findings.concerns import EQUIVALENCES\n"
            "print(json.dumps([[e.owner, e.other, e.settles] for e in EQUIVALENCES]))")
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    try:
        return json.loads(proc.stdout) if proc.returncode == 0 else []
    except ValueError:
        return []


# --------------------------------------------------------------------------- measuring

def is_open(f: dict[str, Any]) -> bool:
    return f.get("status", "open") not in NOT_OPEN


def where(f: dict[str, Any]) -> str:
    return f.get("artifact") or f["location"]["uri"]


def res_name(f: dict[str, Any]) -> str | None:
    r = f.get("resource")
    return r.get("name") if r else None


def res_key(f: dict[str, Any]) -> tuple[str, str] | None:
    name = res_name(f)
    return (where(f), name) if name else None


def natives(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in rules.items() if not k.startswith("_")}


class Equivalence:
    """Union of the issue's groups and the version's native aliases; `also_reported_as` per finding."""

    def __init__(self, rules: dict[str, dict[str, Any]]) -> None:
        self.groups: list[frozenset[str]] = list(GROUPS)
        for rid, meta in natives(rules).items():
            if meta["aliases"]:
                self.groups.append(frozenset({rid, *meta["aliases"]}))
        for owner, other, _ in rules.get("_equivalences", []):
            self.groups.append(frozenset({owner, other}))

    def same(self, a: dict[str, Any], b: dict[str, Any]) -> bool:
        x, y = a["rule_id"], b["rule_id"]
        if x == y:
            return False
        if y in a.get("also_reported_as", []) or x in b.get("also_reported_as", []):
            return True
        if any(x in g and y in g for g in self.groups):
            return True
        if {x, y} == {"IDP-NET-001", "IDP-NET-002"}:  # one all-traffic rule reported twice
            return a["location"]["start_line"] == b["location"]["start_line"]
        return False


def duplicates(open_: list[dict[str, Any]], eq: Equivalence) -> list[list[dict[str, Any]]]:
    """Groups (connected by `eq.same`) of >1 open findings on one resource of one file, and
    scope-wide rules reported for several resources at one line of one file."""
    by_res: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in open_:
        k = res_key(f)
        if k:
            by_res[k].append(f)
    out: list[list[dict[str, Any]]] = []
    for fs in by_res.values():
        seen: set[int] = set()
        for i, f in enumerate(fs):
            if i in seen:
                continue
            comp, todo = [i], [i]
            seen.add(i)
            while todo:
                j = todo.pop()
                for k2, g in enumerate(fs):
                    if k2 not in seen and eq.same(fs[j], g):
                        seen.add(k2)
                        comp.append(k2)
                        todo.append(k2)
            if len(comp) > 1:
                out.append([fs[c] for c in comp])
    # A scope-wide concern (tags, expiry) reported for several resources at one line of one
    # artifact: a SAM resource and what it generates (MyFunction + MyFunctionRole), or the
    # instances of one Terraform count/for_each block (this[0], this[1]). Instances of one
    # module called twice (module.a.x, module.b.x) are separate fixes, so not duplicates.
    scope: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for f in open_:
        name = res_name(f)
        if f["rule_id"] in SCOPE_WIDE and name:
            kind = (f.get("resource") or {}).get("kind", "")
            block = re.sub(r"\[[^\]]*\]", "", name) if kind == "terraform" else ""
            scope[(f["rule_id"], where(f), f["location"]["uri"], str(f["location"]["start_line"]), block)].append(f)
    out += [fs for fs in scope.values() if len({res_name(f) for f in fs}) > 1]
    return out


def contradictions(findings: list[dict[str, Any]], rules: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    owner_of: dict[str, set[str]] = defaultdict(set)
    for rid, meta in natives(rules).items():
        for a in meta["aliases"]:
            owner_of[a].add(rid)
    for other, owner in SETTLING.items():
        if owner in rules:
            owner_of[other].add(owner)
    for owner, other, settles in rules.get("_equivalences", []):
        if settles and owner in rules:
            owner_of[other].add(owner)
    native = {(f["rule_id"], *k) for f in findings
              if f.get("engine") == "native" and f.get("status", "open") != "superseded" and (k := res_key(f))}
    out = []
    for f in findings:
        k = res_key(f)
        if not is_open(f) or f.get("engine") == "native" or k is None:
            continue
        rtype = (f.get("resource") or {}).get("type", "")
        for owner in sorted(owner_of.get(f["rule_id"], ())):
            if rtype in rules[owner]["types"] and (owner, *k) not in native:
                out.append((f, owner))
    return out


def leaked(findings: list[dict[str, Any]], eq: Equivalence) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Open findings of another engine on a resource where the native rule owning that concern
    is suppressed or baselined there: the suppression did not silence the concern."""
    held = [f for f in findings if f.get("engine") == "native" and f.get("status") in ("suppressed", "baselined") and res_key(f)]
    out = []
    for f in findings:
        if is_open(f) and f.get("engine") != "native" and (k := res_key(f)):
            o = next((h for h in held if res_key(h) == k and eq.same(h, f)), None)
            if o is not None:
                out.append((f, o))
    return out


def failure_twins(open_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """cfn-lint's findings of a failure idp-scan already reports as blocking on the same file."""
    native = {(f["rule_id"], f["location"]["uri"]) for f in open_}
    return [f for f in open_ if f["rule_id"] in FAILURE_TWINS and (FAILURE_TWINS[f["rule_id"]], f["location"]["uri"]) in native]


def measure(report: dict[str, Any], rules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    findings: list[dict[str, Any]] = report["findings"]
    open_ = [f for f in findings if is_open(f)]
    blocking = [f for f in open_ if f["severity"] == "error"]
    flagged = {k for f in open_ if (k := res_key(f))}
    on_resources = [f for f in open_ if res_key(f)]
    scanned = len(report.get("scanned", []))
    # Templates: CloudFormation/CDK templates and Terraform roots (directories); not module .tf files
    # read by a root, nor CDK validation reports.
    templates = sum(not (s.endswith(".tf") or s.endswith("validation-report.json")) for s in report.get("scanned", []))
    dups = duplicates(open_, Equivalence(rules))
    contra = contradictions(findings, rules)
    return {
        "files scanned": scanned,
        "complete": report.get("complete", True),
        "findings (all statuses)": len(findings),
        "open findings": len(open_),
        "superseded": sum(f.get("status") == "superseded" for f in findings),
        "blocking (open errors)": len(blocking),
        "report's blocking": report.get("blocking"),
        "open findings without a resource": len(open_) - len(on_resources),
        "flagged resources": len(flagged),
        "findings per flagged resource": round(len(on_resources) / len(flagged), 2) if flagged else 0,
        "templates (CFN/CDK templates, Terraform roots)": templates,
        "blocking per template": round(len(blocking) / templates, 2) if templates else 0,
        "duplicate findings (extra)": sum(len(g) - 1 for g in dups),
        "resources with a duplicate": len({res_key(g[0]) for g in dups}),
        "duplicate blocking (extra)": sum(max(0, sum(f["severity"] == "error" for f in g) - 1) for g in dups),
        "failure reported twice (E0000/IDP010, E0001/IDP019)": len(twins := failure_twins(open_)),
        "open past a suppressed owner": len(leaks := leaked(findings, Equivalence(rules))),
        "contradictions": len(contra),
        "blocking contradictions": sum(f["severity"] == "error" for f, _ in contra),
        "_leaks": [f"{f['rule_id']} ({f['engine']}, {f['severity']}) on {res_name(f)} {where(f)}:{f['location']['start_line']}: "
                   f"{o['rule_id']} there is {o['status']}" for f, o in leaks],
        "_twins": [f"{f['rule_id']} {f['location']['uri']}:{f['location']['start_line']} repeats {FAILURE_TWINS[f['rule_id']]}" for f in twins],
        "_top_blocking": Counter(f["rule_id"] for f in blocking).most_common(),
        "_duplicates": [[f"{f['rule_id']}@{where(f)}:{f['location']['start_line']} {res_name(f)} ({f['severity']})" for f in g] for g in dups],
        "_contradictions": [f"{f['rule_id']} ({f['engine']}, {f['severity']}) on {res_name(f)} [{f['resource'].get('type', '')}] "
                            f"{where(f)}:{f['location']['start_line']}: {owner} has no finding there" for f, owner in contra],
    }


# --------------------------------------------------------------------------- reporting

def table(header: list[str], rows: Iterable[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


SUMMED = ("templates (CFN/CDK templates, Terraform roots)", "open findings", "blocking (open errors)", "flagged resources",
          "duplicate findings (extra)", "duplicate blocking (extra)", "failure reported twice (E0000/IDP010, E0001/IDP019)",
          "open past a suppressed owner", "contradictions", "blocking contradictions")


def combined(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {m: sum(p[m] for p in parts) for m in SUMMED}
    on_resources = sum(p["open findings"] - p["open findings without a resource"] for p in parts)
    flagged, templates = total["flagged resources"], total["templates (CFN/CDK templates, Terraform roots)"]
    total["findings per flagged resource"] = round(on_resources / flagged, 2) if flagged else 0
    total["blocking per template"] = round(total["blocking (open errors)"] / templates, 2) if templates else 0
    return total


def render(summary: dict[str, Any], labels: list[str]) -> str:
    out = ["# idp-scan signal (issue 15)", ""]
    for label in labels:
        v = summary["versions"][label]
        out.append(f"- **{label}**: `{v['venv']}` — idp-scan at {v.get('commit', '?')}; {v.get('checkov', '')} {v.get('cfnlint', '')}")
    out.append("")
    sets = sorted({s for label in labels for s in summary["versions"][label]["sets"]})
    public = [s for s in sets if not s.startswith("cdk-team")]
    out += ["## Public sets combined (" + ", ".join(public) + ")", ""]
    totals = {lb: combined([summary["versions"][lb]["sets"][s] for s in public if s in summary["versions"][lb]["sets"]]) for lb in labels}
    out += [table(["metric", *labels], [[m, *[totals[lb][m] for lb in labels]] for m in totals[labels[0]]]), ""]
    for s in sets:
        out += [f"## {s}", ""]
        metrics = [m for m in next(summary["versions"][lb]["sets"][s] for lb in labels if s in summary["versions"][lb]["sets"]) if not m.startswith("_")]
        rows = [[m, *[summary["versions"][lb]["sets"].get(s, {}).get(m) for lb in labels]] for m in metrics]
        rows.append(["scan seconds / exit", *[
            (lambda r: f"{r.get('seconds')} / {r.get('exit')}")(summary["versions"][lb]["runs"].get(s, {})) for lb in labels]])
        out += [table(["metric", *labels], rows), ""]
    out += ["## Most frequent blocking rule ids", ""]
    for scope_name, included in (("public sets", [s for s in sets if not s.startswith("cdk-team")]), ("all sets", sets)):
        counts = {lb: Counter() for lb in labels}
        for lb in labels:
            for s in included:
                counts[lb].update(dict(summary["versions"][lb]["sets"].get(s, {}).get("_top_blocking", [])))
        for lb in labels:
            top = counts[lb].most_common(20)
            out += [f"### Top 20 blocking, {scope_name}, {lb} ({sum(counts[lb].values())} blocking)", ""]
            rows = [[i + 1, rid, n, *[counts[o][rid] for o in labels if o != lb],
                     " ".join(f"{s}:{dict(summary['versions'][lb]['sets'].get(s, {}).get('_top_blocking', [])).get(rid, 0)}" for s in included)]
                    for i, (rid, n) in enumerate(top)]
            out += [table(["#", "rule", lb, *[o for o in labels if o != lb], "per set"], rows), ""]
    out += ["## Details", ""]
    for lb in labels:
        for s in sets:
            m = summary["versions"][lb]["sets"].get(s)
            if not m:
                continue
            if m["_duplicates"]:
                out += [f"### Duplicates, {s}, {lb}", ""] + [f"- {' = '.join(g)}" for g in m["_duplicates"][:60]]
                if len(m["_duplicates"]) > 60:
                    out.append(f"- ... {len(m['_duplicates']) - 60} more")
                out.append("")
            if m.get("_twins"):
                out += [f"### Failures reported twice, {s}, {lb}", ""] + [f"- {c}" for c in m["_twins"][:60]] + [""]
            if m.get("_leaks"):
                out += [f"### Open past a suppressed owner, {s}, {lb}", ""] + [f"- {c}" for c in m["_leaks"][:60]] + [""]
            if m["_contradictions"]:
                out += [f"### Contradictions, {s}, {lb}", ""] + [f"- {c}" for c in m["_contradictions"][:60]]
                if len(m["_contradictions"]) > 60:
                    out.append(f"- ... {len(m['_contradictions']) - 60} more")
                out.append("")
    return "\n".join(out) + "\n"


def version_info(venv: Path) -> dict[str, str]:
    info: dict[str, str] = {"venv": str(venv)}
    src = venv.parent
    try:
        info["commit"] = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        pass
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    try:
        pkgs = {p["name"].lower(): p["version"] for p in json.loads(pip.stdout)}
        info["checkov"] = f"checkov {pkgs.get('checkov', '-')}"
        info["cfnlint"] = f"cfn-lint {pkgs.get('cfn-lint', '-')}"
    except ValueError:
        pass
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--venv", action="append", required=True, help="[LABEL=]path of a venv with idp-scan (repeatable)")
    ap.add_argument("--inputs", type=Path, action="append", required=True, help="directory of input sets (repeatable)")
    ap.add_argument("--out", type=Path, required=True, help="markdown output; <out>.json gets the summary")
    ap.add_argument("--reports", type=Path, help="where JSON reports go (default: <out>.reports/)")
    ap.add_argument("--reuse", action="store_true", help="reuse a set's report when it exists")
    ap.add_argument("--only", action="append", help="input set names to run (repeatable)")
    ap.add_argument("--with", dest="earlier", action="append", default=[], help="earlier summary JSON whose columns to add")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--budget", type=float, default=3600)
    args = ap.parse_args()
    reports = args.reports or args.out.with_name(args.out.name + ".reports")
    summary: dict[str, Any] = {"versions": {}}
    labels: list[str] = []
    for path in args.earlier:
        earlier = json.loads(Path(path).read_text())
        for lb, v in earlier["versions"].items():
            summary["versions"][lb] = v
            labels.append(lb)
    for spec in args.venv:
        label, venv = parse_venv(spec)
        rules: dict[str, Any] = catalogue(venv)
        rules["_equivalences"] = equivalences(venv)
        v = {**version_info(venv), "rules": rules, "sets": {}, "runs": {}}
        for name, set_dir, paths in [s for root in args.inputs for s in input_sets(root.resolve())]:
            if args.only and name not in args.only:
                continue
            report = reports / label / f"{name}.json"
            run_meta = report.with_suffix(".run.json")
            if args.reuse and report.exists():
                meta = json.loads(run_meta.read_text()) if run_meta.exists() else {}
            else:
                print(f"[{label}] scanning {name} ...", file=sys.stderr, flush=True)
                meta = scan(venv, set_dir, paths, report, args.jobs, args.budget)
                print(f"[{label}] {name}: exit {meta['exit']} in {meta['seconds']}s", file=sys.stderr, flush=True)
            v["runs"][name] = meta
            v["sets"][name] = measure(json.loads(report.read_text()), rules)
        summary["versions"][label] = v
        if label not in labels:
            labels.append(label)
    args.out.write_text(render(summary, labels))
    args.out.with_name(args.out.name + ".json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {args.out} and {args.out.name}.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
