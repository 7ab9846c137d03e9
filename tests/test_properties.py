"""Property-based: generated and mutated templates never crash the scanner, never pass a file it
could not parse, and load the same way every time. Modest example counts here; the long run is
`benchmarks/fuzz.py`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.engines.native import NativeEngine
from scanner.catalogue import build_catalogue
from scanner.inputs import Loaded, Unit, input_kinds
from scanner.model import Severity

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = ["AWS::S3::Bucket", "AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::RDS::DBInstance",
         "AWS::ECS::Service", "AWS::Made::Up", "Custom::X", "AWS::Serverless::Function"]
KEYS = ["AccessControl", "SecurityGroupIngress", "CidrIp", "FromPort", "ToPort", "IpProtocol", "PolicyDocument",
        "Statement", "Effect", "Action", "Resource", "Policies", "StorageEncrypted", "DeploymentConfiguration",
        "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Condition", "PublicAccessBlockConfiguration"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-70000, 70000), st.sampled_from(["*", "0.0.0.0/0", "PublicRead", "tcp", "-1", "22", "Allow", ""]),
                    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=20)
RESOURCES = st.dictionaries(
    st.from_regex(r"[A-Z][A-Za-z0-9]{0,8}", fullmatch=True),
    st.fixed_dictionaries({"Type": st.sampled_from(TYPES)}, optional={"Properties": st.one_of(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5), VALUES)}),
    min_size=1, max_size=4,
)
TEMPLATES = st.fixed_dictionaries(
    {"AWSTemplateFormatVersion": st.just("2010-09-09"), "Resources": RESOURCES},
    optional={"Transform": st.sampled_from(["AWS::Serverless-2016-10-31", "Acme", ["AWS::LanguageExtensions"]])},
)


def render(template: dict[str, Any], as_json: bool) -> str:
    return json.dumps(template, indent=1) if as_json else yaml.safe_dump(template, sort_keys=False)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A rendered template, then a few of the edits that break files in real life."""
    text = render(draw(TEMPLATES), draw(st.booleans()))
    raw = text.encode()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(raw)))
        edit = draw(st.sampled_from(["truncate", "insert", "delete", "duplicate-line", "bytes", "nest", "alias"]))
        if edit == "truncate":
            raw = raw[:at]
        elif edit == "insert":
            raw = raw[:at] + draw(st.sampled_from([b":", b"- ", b"[", b"{", b"}", b'"', b"'", b"\t", b"&a ", b"*a", b"!Ref ", b"!!python/object ", b"\n  ", b"<<: "])) + raw[at:]
        elif edit == "delete":
            raw = raw[:at] + raw[at + draw(st.integers(1, 20)):]
        elif edit == "duplicate-line":
            lines = raw.split(b"\n")
            index = draw(st.integers(0, max(len(lines) - 1, 0)))
            raw = b"\n".join(lines[: index + 1] + lines[index:])
        elif edit == "bytes":
            raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
        elif edit == "nest":
            depth = draw(st.integers(90, 300))
            raw = raw[:at] + b"[" * depth + b"]" * depth + raw[at:]
        else:
            raw = b"a: &a [x, x, x, x, x, x, x, x]\n" + b"".join(
                b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + i,) * 2 + (97 + i,) * 8) for i in range(8)
            ) + raw
    return raw


def load(raw: bytes, name: str = "template.yaml") -> Loaded:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        kind = next(k for k in input_kinds() if k.name == "cloudformation")
        return kind.load(Unit(kind.name, path, name))


def decodes(raw: bytes) -> bool:
    """Independently of the scanner: does cfn-lint's decoder accept the file as UTF-8?"""
    from cfnlint.decode import decode_str

    try:
        decoded, matches = decode_str(raw.decode("utf-8-sig"))
    except Exception:
        return False
    return decoded is not None and not matches


@EXAMPLES
@given(mutated())
def test_a_file_that_could_not_be_parsed_never_passes(raw):
    loaded = load(raw)  # never raises: that is half the property
    blocking = [f for f in loaded.findings if f.severity is Severity.ERROR]
    if not decodes(raw) and raw.strip():
        assert blocking, raw
    if not loaded.artifacts and raw.strip() and not decodes(raw):
        assert blocking


@EXAMPLES
@given(mutated())
def test_loading_is_deterministic(raw):
    first, second = load(raw), load(raw)
    assert first.findings == second.findings
    assert [a.data for a in first.artifacts] == [a.data for a in second.artifacts]


ENGINE = NativeEngine([entry.rule for entry in build_catalogue(()).values()])


@EXAMPLES
@given(TEMPLATES, st.booleans())
def test_rules_never_crash_on_generated_templates(template, as_json):
    loaded = load(render(template, as_json).encode())
    findings = list(ENGINE.scan(loaded.artifacts))
    assert [f.message for f in findings if f.rule_id == "IDP005"] == []


# --- Terraform and account files: mutated real fixtures, through the fuzzer's own checks ------

from benchmarks.fuzz import Case, check, mutate, seeds  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402

SEEDS = [s for s in seeds([FIXTURES]) if s[0] in ("terraform", "accounts", "terraform-plan")]
KINDS = {k.name: k for k in input_kinds()}


@EXAMPLES
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_mutated_terraform_plans_and_account_files_never_crash_or_pass_unparsed(seed, rng):
    kind, name, raw = seed
    case = Case(kind, name, mutate(raw, rng))
    assert check(case, KINDS, case_seconds=30) is None


def test_the_seed_pool_covers_every_kind():
    assert {kind for kind, _, _ in SEEDS} == {"terraform", "accounts", "terraform-plan"}
