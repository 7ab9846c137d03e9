"""The guard engine's verdicts against `cfn-guard validate` run directly on the same files.

    python -m benchmarks.guard_conformance CORPUS [RULES ...] [--json FILE]

RULES default to the Control Tower rules of the installed @cdklabs/cdk-validator-cfnguard.
For every CloudFormation template idp-scan finds in CORPUS: the (template, rule) pairs that
FAIL when cfn-guard reads the file itself, against the rules the engine reports findings of
(open or suppressed), and every engine error (an IDP0xx finding). Templates with a SAM
transform are listed apart: idp-scan hands the rules the expanded template (what deploys),
cfn-guard the written one, so their verdicts may differ by design. Exit 0 only when the other
templates agree and no engine error occurred.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from scanner.engines import cfn_guard_binary as guard
from scanner.engines.cfn_guard import GuardEngine, GuardOptions
from scanner.engines.cfn_guard_rules import CONTROL_TOWER, load_rules, rule_files
from scanner.inputs import cfn, transforms
from scanner.model import Artifact

BATCH = 16


def templates(corpus: Path) -> list[Artifact]:
    """The CloudFormation artifacts idp-scan loads from the corpus."""
    from scanner.discovery import discover
    from scanner.inputs import input_kinds
    from scanner.inputs.loading import load_units

    units, _ = discover([corpus], corpus, input_kinds())
    artifacts = load_units(units).artifacts
    return [a for a in artifacts if a.kind == cfn.KIND]


def direct(binary: Path, rules: Sequence[Path], artifacts: Sequence[Artifact]) -> tuple[dict[str, set[str]], list[str]]:
    """FAILing rule names per template, cfn-guard reading each file itself; files it rejects."""
    failing: dict[str, set[str]] = {}
    errors: list[str] = []
    for start in range(0, len(artifacts), BATCH):
        batch = list(artifacts[start:start + BATCH])
        try:
            verdicts = list(guard.validate(binary, rules, [Path(a.path) for a in batch]).verdicts)
        except guard.GuardFailed:
            verdicts = []
            for artifact in batch:  # one by one, to name the file cfn-guard rejects
                try:
                    verdicts.extend(guard.validate(binary, rules, [Path(artifact.path)]).verdicts)
                except guard.GuardFailed as exc:
                    errors.append(f"{artifact.uri}: {exc}")
                    verdicts.append(guard.FileVerdict(artifact.path, {}, ()))
        for artifact, verdict in zip(batch, verdicts):
            failing[artifact.uri] = {name for name, status in verdict.statuses.items() if status == guard.FAIL}
    return failing, errors


@dataclass
class Comparison:
    templates: int = 0
    compared_pairs: int = 0  # (template, rule) pairs, every configured rule on every template
    failing_pairs: int = 0
    different: list[str] = field(default_factory=list)
    sam_different: list[str] = field(default_factory=list)
    engine_errors: list[str] = field(default_factory=list)
    direct_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        return not self.different and not self.engine_errors


def compare(binary: Path, rule_paths: Sequence[Path], artifacts: Sequence[Artifact]) -> Comparison:
    files = rule_files(rule_paths)
    ids = {rule.name: rule.meta.id for rule in load_rules(files)}
    result = Comparison(templates=len(artifacts), compared_pairs=len(artifacts) * len(ids))
    started = time.perf_counter()
    expected, result.direct_errors = direct(binary, files, artifacts)
    result.seconds["cfn-guard direct"] = round(time.perf_counter() - started, 2)
    engine = GuardEngine(GuardOptions(rules=tuple(str(p) for p in rule_paths), binary=binary, timeout=600))
    started = time.perf_counter()
    found: dict[str, set[str]] = {a.uri: set() for a in artifacts}
    for start in range(0, len(artifacts), BATCH):
        for finding in engine.scan(artifacts[start:start + BATCH]):
            if finding.engine == "idp-scan":
                result.engine_errors.append(f"{finding.location.uri}: {finding.rule_id} {finding.message}")
            else:
                found[finding.location.uri].add(finding.rule_id)
    result.seconds["guard engine"] = round(time.perf_counter() - started, 2)
    for artifact in artifacts:
        want = {ids.get(name, name) for name in expected.get(artifact.uri, set())}
        result.failing_pairs += len(want)
        if want != found[artifact.uri]:
            line = f"{artifact.uri}: only cfn-guard {sorted(want - found[artifact.uri])}, only idp-scan {sorted(found[artifact.uri] - want)}"
            expanded = any(name == transforms.SAM for name in transforms.declared(_written(artifact)))
            (result.sam_different if expanded else result.different).append(line)
    return result


def _written(artifact: Artifact) -> Any:
    """The template as written (the artifact holds it after transforms)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        return yaml.load(Path(artifact.path).read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, yaml.YAMLError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("rules", type=Path, nargs="*")
    parser.add_argument("--binary", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    start_points = [Path.cwd(), args.corpus]
    binary = guard.find_binary(args.binary, start_points)
    rules = args.rules or [guard.package_dirs(start_points)[0] / "rules" / CONTROL_TOWER / "cfn-guard"]
    artifacts = templates(args.corpus)
    result = compare(binary, rules, artifacts)
    report = {"binary": str(binary), "version": guard.version(binary), "rules": [str(r) for r in rules], **result.__dict__,
              "agree": result.agree}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result.agree else 1


if __name__ == "__main__":
    sys.exit(main())
