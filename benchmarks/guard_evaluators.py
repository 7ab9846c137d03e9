"""Which Guard evaluator: the cfn-guard 3.1.1 binary (npm) or PyPI's cfn-guard-rs, measured.

    python -m benchmarks.guard_evaluators REGISTRY_RULES CT_RULES CORPUS [--json FILE]

1. The Guard Rules Registry's own tests (`tests/*_tests.yml` beside each rule file, the pairs
   `cfn-guard test -d` makes): cases whose every expectation holds, per evaluator.
2. The Control Tower rules over a template corpus: (template, rule) verdicts of cfn-guard-rs
   against the binary's, and evaluation errors.

cfn-guard-rs is optional (`pip install cfn-guard-rs==0.3.3` in a scratch environment, then
PYTHONPATH to it); without it only the binary is measured. Templates are decoded with
idp-scan's own loader (short-form tags become their long form) for cfn-guard-rs, which takes
a decoded document; the binary reads the files itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from scanner.engines import cfn_guard_binary as guard
from scanner.engines.cfn_guard_rules import rule_test_pairs


def registry_binary(binary: Path, rules: Path) -> dict[str, Any]:
    started = time.perf_counter()
    pairs = rule_test_pairs([rules])
    cases = failed = 0
    for rule_file, test_file in pairs:
        results = guard.run_tests(binary, rule_file, test_file)
        cases += len(results)
        failed += sum(not r.passed for r in results)
    return {"rule_files": len(pairs), "cases": cases, "failed": failed, "seconds": round(time.perf_counter() - started, 2)}


def _rs_statuses(run: Any, data: Any, rules_text: str) -> dict[str, str]:
    report = json.loads(run(json.dumps(data, default=str), rules_text, False))
    return guard.file_verdict(report).statuses


def _short_form_loader() -> Any:
    """YAML with CloudFormation's short-form tags in long form, as cfn-guard reads them."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", construct)
    return Loader


def registry_rs(rules: Path) -> dict[str, Any]:
    import yaml
    from cfn_guard_rs.cfn_guard_rs import run_checks_rs  # type: ignore[import-not-found]

    loader = _short_form_loader()

    started = time.perf_counter()
    cases = failed = errors = 0
    for rule_file, test_file in rule_test_pairs([rules]):
        text = rule_file.read_text()
        for case in yaml.load(test_file.read_text(), Loader=loader) or []:
            cases += 1
            try:
                statuses = _rs_statuses(run_checks_rs, case.get("input") or {}, text)
            except Exception:
                errors += 1
                failed += 1
                continue
            expected = (case.get("expectations") or {}).get("rules") or {}
            failed += any(statuses.get(name, guard.SKIP) != want for name, want in expected.items())
    return {"cases": cases, "failed": failed, "errors": errors, "seconds": round(time.perf_counter() - started, 2)}


def corpus_templates(corpus: Path) -> list[tuple[Path, Any]]:
    from scanner.inputs import cfn

    found = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        try:
            artifacts, _ = cfn.load_variants(path.read_text(encoding="utf-8"), path, str(path))
        except Exception:
            continue
        if artifacts:
            found.append((path, artifacts[0].data))
    return found


def ct_binary(binary: Path, rule_files: list[Path], templates: list[tuple[Path, Any]]) -> tuple[dict[tuple[str, str], str], dict[str, Any]]:
    started = time.perf_counter()
    verdicts: dict[tuple[str, str], str] = {}
    errors = 0
    for path, _ in templates:
        try:
            result = guard.validate(binary, rule_files, [path])
        except guard.GuardFailed:
            errors += 1
            continue
        for rule, status in result.verdicts[0].statuses.items():
            verdicts[(str(path), rule)] = status
    return verdicts, {"templates": len(templates), "errors": errors, "seconds": round(time.perf_counter() - started, 2)}


def ct_rs(rule_files: list[Path], templates: list[tuple[Path, Any]]) -> tuple[dict[tuple[str, str], str], dict[str, Any]]:
    from cfn_guard_rs.cfn_guard_rs import run_checks_rs

    started = time.perf_counter()
    texts = [f.read_text() for f in rule_files]
    verdicts: dict[tuple[str, str], str] = {}
    errors = 0
    for path, data in templates:
        for text in texts:
            try:
                statuses = _rs_statuses(run_checks_rs, data, text)
            except Exception:
                errors += 1
                continue
            for rule, status in statuses.items():
                verdicts[(str(path), rule)] = status
    return verdicts, {"evaluations": len(templates) * len(texts), "errors": errors, "seconds": round(time.perf_counter() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", type=Path)
    parser.add_argument("control_tower", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--binary", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    binary = guard.find_binary(args.binary, [Path.cwd()])
    rule_files = sorted(args.control_tower.rglob("*.guard"))
    templates = corpus_templates(args.corpus)
    report: dict[str, Any] = {"binary": str(binary), "version": guard.version(binary)}
    report["registry_binary"] = registry_binary(binary, args.registry)
    ct_verdicts, report["control_tower_binary"] = ct_binary(binary, rule_files, templates)
    try:
        import cfn_guard_rs  # noqa: F401
    except ImportError:
        report["cfn_guard_rs"] = "not installed"
    else:
        report["registry_cfn_guard_rs"] = registry_rs(args.registry)
        rs_verdicts, summary = ct_rs(rule_files, templates)
        keys = set(ct_verdicts) & set(rs_verdicts)
        summary["compared"] = len(keys)
        summary["different"] = sum(ct_verdicts[k] != rs_verdicts[k] for k in keys)
        summary["missing"] = len(set(ct_verdicts) - set(rs_verdicts))
        report["control_tower_cfn_guard_rs"] = summary
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
