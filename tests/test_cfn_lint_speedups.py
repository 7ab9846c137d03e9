"""cfn-lint with idp-scan's speed-ups finds exactly what cfn-lint alone finds.

The reference is cfn-lint in a fresh process (none of the speed-ups installed), with the
configuration the engine uses; the engine's findings are compared as (rule, line, message).
"""

from __future__ import annotations

import json
from collections import deque
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scanner.engines import cfn_lint, cfn_lint_speedups
from scanner.inputs import cfn
from tests.conftest import SHARED, needs_shared

Triple = tuple[str, int, str]

_REFERENCE = textwrap.dedent("""
    import json, sys
    from cfnlint.decode import decode
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner
    from cfnlint.template import Template
    config = ConfigMixIn(regions=["us-east-1"], include_checks=["I"])
    rules = Runner(config).rules
    out = {}
    for path in sys.argv[1:]:
        template, matches = decode(path)
        found = []
        if not matches:
            config.set_template_args(template)
            t = Template(path, template, config.regions, config.parameters)
            matches = t.transform() or list(rules.run(filename=path, cfn=t, config=config))
            config.set_template_args({})
        for m in matches:
            triple = [str(m.rule.id), int(m.linenumber), str(m.message)]
            if triple not in found:
                found.append(triple)
        out[path] = found
    print(json.dumps(out))
""")

RDS = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  EngineName:
    Type: String
    Default: mysql
  Version:
    Type: String
    Default: "8.0.35"
Conditions:
  Big: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  WrongClassForMysql:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: mysql, EngineVersion: "8.0.35", DBInstanceClass: db.t1.micro, AllocatedStorage: "20"}
  RightClassForPostgres:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: postgres, EngineVersion: "16.3", DBInstanceClass: db.m5.large, AllocatedStorage: "20"}
  UpperCaseEngine:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: MySQL, EngineVersion: "8.0.35", DBInstanceClass: db.t1.micro, AllocatedStorage: "20"}
  EngineFromParameter:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: !Ref EngineName, EngineVersion: "8.0.35", DBInstanceClass: db.t1.micro, AllocatedStorage: "20"}
  VersionFromParameter:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: mysql, EngineVersion: !Ref Version, DBInstanceClass: db.t1.micro, AllocatedStorage: "20"}
  ClassFromCondition:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: mysql, EngineVersion: "8.0.35", DBInstanceClass: !If [Big, db.t1.micro, db.m5.large], AllocatedStorage: "20"}
  NumericVersion:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: aurora-mysql, EngineVersion: 10.11, DBInstanceClass: db.t1.micro, DBClusterIdentifier: c}
  NoVersion:
    Type: AWS::RDS::DBInstance
    Properties: {Engine: sqlserver-ex, DBInstanceClass: db.x1.nothing, AllocatedStorage: "20"}
"""


_SET_OF_NAMES = re.compile(r"\{('[^{}]*')\}")


def unordered(message: str) -> str:
    """A message with a Python set of names in it (E3041's resources), in one order: two processes hash differently."""
    return _SET_OF_NAMES.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def reference(paths: list[Path]) -> dict[str, set[Triple]]:
    """cfn-lint's own findings, computed in a process without the speed-ups."""
    completed = subprocess.run([sys.executable, "-c", _REFERENCE, *map(str, paths)], capture_output=True, text=True,
                               check=True)
    return {path: {(r, line, unordered(m)) for r, line, m in found} for path, found in json.loads(completed.stdout).items()}


def engine_findings(paths: list[Path]) -> dict[str, set[Triple]]:
    engine = cfn_lint.CfnLintEngine()
    out = {}
    for path in paths:
        artifact, _ = cfn.load_text(path.read_text(encoding="utf-8"), path, str(path))
        assert artifact is not None, path
        out[str(path)] = {(f.rule_id, f.location.start_line, unordered(f.message)) for f in engine.scan([artifact])}
    return out


def test_e3062_checks_only_the_written_engine_and_finds_the_same(tmp_path: Path) -> None:
    template = tmp_path / "rds.yaml"
    template.write_text(RDS)
    ours = engine_findings([template])[str(template)]
    assert ours == reference([template])[str(template)]
    e3062_lines = {line for rule, line, _ in ours if rule == "E3062"}
    assert {14, 20} <= e3062_lines  # the wrong classes written for a literal engine name
    assert 17 not in e3062_lines


def test_e3062_keeps_the_full_schema_where_a_value_is_a_function() -> None:
    engine = cfn_lint.CfnLintEngine()
    rule = engine._runner()[1].data["E3062"]
    by_engine = rule.validate
    full = by_engine.full
    assert by_engine.schema_for({"Engine": "MySQL", "EngineVersion": "8.0", "DBInstanceClass": "db.t3.micro"}) != full
    assert len(by_engine.schema_for({"Engine": "mysql"})["allOf"]) < len(full["allOf"]) / 10
    assert by_engine.schema_for({"Engine": {"Ref": "E"}}) is full
    assert by_engine.schema_for({"Engine": "mysql", "EngineVersion": {"Ref": "V"}}) is full
    assert by_engine.schema_for({"Engine": "mysql", "DBInstanceClass": {"Fn::If": ["C", "a", "b"]}}) is full
    assert by_engine.schema_for({"Engine": "true"}) is full


def test_validator_classes_are_built_once_per_definition() -> None:
    cfn_lint_speedups.install()
    from cfnlint.jsonschema import CfnTemplateValidator

    first = CfnTemplateValidator({}).extend(validators={"x": len})
    again = CfnTemplateValidator({}).extend(validators={"x": len})
    other = CfnTemplateValidator({}).extend(validators={"x": str})
    assert first is again
    assert other is not first
    validator = first(schema={"type": "string"})
    evolved = validator.evolve(schema={"type": "number"})
    assert (type(evolved), evolved.schema, evolved.cfn, evolved.context) == (first, {"type": "number"}, validator.cfn,
                                                                             validator.context)


def sample(corpus: str, count: int) -> list[Path]:
    """`count` templates spread over the corpus (without transforms: cfn-lint's SAM translation
    names resources by run, so a second translation is not comparable line by line)."""
    paths = sorted(p for p in (SHARED / "corpus" / corpus).rglob("*") if p.suffix in cfn.SUFFIXES and p.is_file())
    chosen: list[Path] = []
    for path in paths[::max(1, len(paths) // (count * 4))]:
        if len(chosen) == count:
            break
        text = path.read_text(encoding="utf-8", errors="replace")
        if cfn.looks_like_template(text) and "Transform" not in text:
            artifact, _ = cfn.load_text(text, path, str(path))
            if artifact is not None:
                chosen.append(path)
    return chosen


@needs_shared
@pytest.mark.parametrize("corpus", ["cfn", "cfn-lint-fixtures", "checkov-cfn-fixtures"])
def test_a_sample_of_the_corpora_gives_cfn_lints_own_findings(corpus: str) -> None:
    paths = sample(corpus, 10)
    assert len(paths) == 10
    assert engine_findings(paths) == reference(paths)


def test_regex_patterns_are_compiled_once_and_answer_as_regex_does() -> None:
    import regex

    cfn_lint_speedups.install()
    assert regex.search.__name__ == "fast_search"  # installed over regex's own functions
    compiled = regex.compile("^ab+")
    assert regex.search("b+", "xabbb").span() == (2, 5)
    assert regex.match("^AB+", "abbbc", regex.IGNORECASE).group() == "abbb"
    assert regex.fullmatch("[a-z]+", "abc1") is None and regex.fullmatch("[a-z]+", "abc").group() == "abc"
    assert regex.findall(r"\$\{([^}]+)\}", "${A}-${B.C}") == ["A", "B.C"]
    assert regex.search(compiled, "abbb").group() == "abbb"  # a compiled pattern: regex's own path
    assert regex.search(r"\L<words>", "say hi", words=["hi"]).group() == "hi"  # a named list: the same
    for _ in range(2):  # an invalid pattern (a template's AllowedPattern) raises every time
        with pytest.raises(regex.error):
            regex.search("(unclosed", "x")


def test_validators_contexts_and_paths_are_copied_as_their_init_would_build_them() -> None:
    import dataclasses

    from cfnlint.context.context import Path as ContextPath
    from cfnlint.context.context import create_context_for_template
    from cfnlint.decode import decode_str
    from cfnlint.jsonschema import CfnTemplateValidator
    from cfnlint.template import Template

    cfn_lint_speedups.install()
    decoded, _ = decode_str(RDS)
    context = create_context_for_template(Template("rds.yaml", decoded, ["us-east-1"]))

    def by_init(obj, **changes):  # what cfn-lint's own evolve does
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
        return type(obj)(**{**fields, **changes})

    assert context.module_names == ()  # a cached property in the instance: not a field, not copied
    copied = context.evolve(strict_types=False, ref_values={"A": 1})
    assert vars(copied) == vars(by_init(context, strict_types=False, ref_values={"A": 1}))
    assert "module_names" not in vars(copied) and copied.ref_values == {"A": 1} and context.ref_values == {}
    with pytest.raises(TypeError):
        context.evolve(no_such_field=1)

    path = context.path.descend(path="Resources", cfn_path="Resources").descend(path="Db", cfn_path="AWS::RDS::DBInstance")
    assert path == ContextPath(deque(["Resources", "Db"]), deque(), deque(["Resources", "AWS::RDS::DBInstance"]))
    assert vars(path.descend(path=0)) == vars(by_init(path, path=path.path + deque([0])))
    with pytest.raises(ValueError):
        path.descend(cfn_path="Fn::Sub")
    with pytest.raises(ValueError):
        path.descend(cfn_path=3)

    validator = CfnTemplateValidator(schema={"type": "object"}, context=context)
    evolved = validator.evolve(schema={"type": "string"})
    assert vars(evolved) == vars(by_init(validator, schema={"type": "string"}))
    fresh = validator.evolve(context=None, resolver=None)  # `__post_init__` fills both in, as before
    assert fresh.context is not None and fresh.resolver is not None and fresh.resolver is not validator.resolver


def test_the_keyword_index_follows_the_child_rules(tmp_path: Path) -> None:
    template = tmp_path / "rds.yaml"
    template.write_text(RDS)
    engine = cfn_lint.CfnLintEngine()
    artifact, _ = cfn.load_text(RDS, template, "rds.yaml")
    assert artifact is not None and engine.scan([artifact])  # a run links the child rules
    dispatcher = engine._runner()[1].data["E1101"]
    index = dispatcher.cfnLint
    keyword = next(k for child in dispatcher.child_rules.values() if child is not None and child.id for k in child.keywords)
    before = list(index.rules_for(keyword))
    assert before
    stand_in = type("StandIn", (), {"id": "X9999", "keywords": [keyword]})()
    dispatcher.child_rules["X9999"] = stand_in
    try:
        assert index.rules_for(keyword) == [*before, stand_in]
    finally:
        del dispatcher.child_rules["X9999"]
    assert index.rules_for(keyword) == before
    dispatcher.child_rules = dict(dispatcher.child_rules, X9999=stand_in)  # replaced from outside
    assert index.rules_for(keyword) == [*before, stand_in]
    dispatcher.child_rules.pop("X9999")
    assert index.rules_for(keyword) == before
