"""Whatever an account file holds, the account checks answer with findings, never a traceback."""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.engines.account_rules import account_rules
from scanner.engines.schema import SchemaEngine
from scanner.failures import is_failure_rule
from scanner.inputs import accounts
from scanner.settings import build_settings
from tests.conftest import FIXTURES

FIELDS = ["name", "email", "organizational_unit", "environment", "owner", "cost_center", "workload", "regions",
          "budget_usd", "alias", "expires_at", "tags", "account_full_name", "organizational_unit_path",
          "accountAlias", "organizationalUnit", "support_level"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=20), st.sampled_from(["prod", "sandbox", "preview", "2027-01-31", "2020-02-30",
                                                           "a@corp.example", "eu-west-1", "CC-1234", "Root", "a, b"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
ENTRY = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8) | VALUES
DOCUMENT = st.fixed_dictionaries({}, optional={
    "accounts": st.lists(ENTRY, max_size=4) | VALUES,
    "mandatoryAccounts": st.lists(ENTRY, max_size=3) | VALUES,
    "workloadAccounts": st.lists(ENTRY, max_size=3),
})
KNOWN = set(account_rules())
SETTINGS = build_settings([FIXTURES / "accounts"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=DOCUMENT, second=DOCUMENT)
def test_any_document_gives_findings_not_tracebacks(first, second):
    artifacts, findings = [], []
    for number, document in enumerate((first, second)):
        text = yaml.safe_dump(document, sort_keys=False)
        artifact, problems = accounts.load(Path(f"f{number}.yaml"), f"f{number}.yaml", text)
        findings.extend(problems)
        if artifact is not None:
            artifacts.append(artifact)
    findings.extend(SchemaEngine(SETTINGS, today=datetime.date(2026, 11, 22)).scan(artifacts))
    assert all(f.rule_id in KNOWN or is_failure_rule(f.rule_id) for f in findings)
    assert all(f.location.start_line >= 1 for f in findings)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_loaded_or_refused(text):
    artifact, findings = accounts.load(Path("x.yaml"), "x.yaml", "accounts:\n" + text)
    assert artifact is not None or all(f.rule_id == "IDP070" for f in findings)
