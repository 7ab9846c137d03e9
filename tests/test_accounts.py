"""Account requests: native v1, LZA and ADF files give exact findings at the field's line."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from scanner.engines.account_schema import schema_for
from scanner.engines.schema import SchemaEngine
from scanner.inputs import accounts
from scanner.model import Severity
from scanner.settings import build_settings
from tests.conftest import FIXTURES, REPO, SHARED, finding_set, needs_shared
from tests.sarif_validation import multitool, multitool_errors, schema_errors

ACCOUNTS = FIXTURES / "accounts"
AS_OF = ("--as-of", "2026-11-22", "--config", str(ACCOUNTS / ".idp-scan.yaml"))  # the fixtures' own policy
V1 = "fixtures/accounts/v1/violations.yaml"
PAYMENTS = "fixtures/accounts/v1/payments.yaml"


def test_v1_one_violation_of_each_kind_at_its_line(scan):
    code, report = scan(ACCOUNTS / "v1", *AS_OF)
    assert code == 1
    assert finding_set(report) == {
        ("IDP-ACCT-001", V1, 2, "missing-owner"),
        ("IDP-ACCT-002", V1, 18, "unknown-field"),
        ("IDP-ACCT-003", V1, 20, "Bad Name"),
        ("IDP-ACCT-004", V1, 29, "payments-prod"),
        ("IDP-ACCT-005", V1, 39, "duplicate-email"),
        ("IDP-ACCT-006", V1, 55, "duplicate-alias"),
        ("IDP-ACCT-007", V1, 58, "bad-email"),
        ("IDP-ACCT-008", V1, 67, "foreign-domain"),
        ("IDP-ACCT-009", V1, 77, "unknown-ou"),
        ("IDP-ACCT-010", V1, 90, "foreign-region"),
        ("IDP-ACCT-011", V1, 96, "bad-environment"),
        ("IDP-ACCT-012", V1, 107, "bad-cost-center"),
        ("IDP-ACCT-013", V1, 118, "zero-budget"),
        ("IDP-ACCT-014", V1, 120, "sandbox-no-expiry"),
        ("IDP-ACCT-015", V1, 137, "preview-too-long"),
        ("IDP-ACCT-016", V1, 145, "prod-two-workloads"),
        # IDP-ACCT-011 on `suppressed-environment` (line 153) is suppressed by the comment above the entry.
    }


def test_messages_name_the_field_and_what_is_expected(scan):
    _, report = scan(ACCOUNTS / "v1", *AS_OF)
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages["unknown-field"] == "Unknown field `budget_ud`: did you mean `budget_usd`?"
    assert messages["missing-owner"] == "Required field `owner` is missing in account `missing-owner`."
    assert "expected 3 to 50 lowercase letters" in messages["Bad Name"]
    assert messages["preview-too-long"] == (
        "`expires_at` 2027-06-30 is more than 14 days away; `preview` accounts may live until 2026-12-06 at most (accounts.max_ttl_days).")
    assert not any("is not valid under any of the given schemas" in m for m in messages.values())


def test_lza_one_violation_of_each_kind(scan):
    code, report = scan(ACCOUNTS / "lza", *AS_OF)
    lza = "fixtures/accounts/lza/accounts-config.yaml"
    assert code == 1
    assert finding_set(report) == {
        ("IDP-ACCT-017", lza, 2, ""),
        ("IDP-ACCT-003", lza, 12, "Shared Services"),
        ("IDP-ACCT-005", lza, 18, "Network"),
        ("IDP-ACCT-009", lza, 23, "Tenant01"),
    }
    ou = next(f for f in report["findings"] if f["rule_id"] == "IDP-ACCT-009")
    assert "known: Root, Security, Infrastructure, Workloads" in ou["message"]  # from organization-config.yaml


def test_adf_one_violation_of_each_kind(scan):
    code, report = scan(ACCOUNTS / "adf", *AS_OF)
    adf = "fixtures/accounts/adf/adf-accounts/test.yml"
    assert code == 1
    assert finding_set(report) == {
        ("IDP-ACCT-001", adf, 3, "company-test-1"),
        ("IDP-ACCT-005", adf, 10, "company-test-2"),
        ("IDP-ACCT-003", adf, 11, "company-test-2"),  # support_level gold
        ("IDP-ACCT-003", adf, 14, "company-test-2"),  # a two-key tag: another field, another finding
        ("IDP-ACCT-009", adf, 18, "company-test-3"),
        ("IDP-ACCT-008", adf, 19, "company-test-3"),
        ("IDP-ACCT-003", adf, 20, "company-test-3"),  # alias with capitals
    }


def test_compliant_request_passes(scan):
    code, report = scan(ACCOUNTS / "v1" / "payments.yaml", *AS_OF)
    assert (code, finding_set(report)) == (0, set())


def test_expiry_counts_from_the_injected_date(tmp_path):
    settings = build_settings([ACCOUNTS / "v1" / "payments.yaml"])
    artifact, _ = accounts.load(ACCOUNTS / "v1" / "payments.yaml", PAYMENTS, (ACCOUNTS / "v1" / "payments.yaml").read_text())
    assert artifact is not None
    later = SchemaEngine(settings, today=datetime.date(2027, 2, 1)).scan([artifact])
    assert {(f.rule_id, f.location.start_line, f.resource.name if f.resource else "") for f in later} == {
        ("IDP-ACCT-015", 23, "payments-sandbox")}
    assert list(SchemaEngine(settings, today=datetime.date(2026, 11, 22)).scan([artifact])) == []


def test_comment_on_the_entry_suppresses_that_account_only(scan):
    code, report = scan(ACCOUNTS / "v1" / "violations.yaml", "--engines", "schema", *AS_OF)
    suppressed = [f for f in report["findings"] if f["status"] == "suppressed"]
    assert [(f["rule_id"], f["resource"]["name"], f["status_reason"]) for f in suppressed] == [
        ("IDP-ACCT-011", "suppressed-environment", "comment at fixtures/accounts/v1/violations.yaml:149: migration account, environment renamed in Q1")]
    assert not any(f["rule_id"] == "IDP034" for f in report["findings"]), "the comment is read once"


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("accounts:\n  - name: a\n    email: [\n", 4, "could not be parsed"),
    ("accounts:\n  - name: !!python/object/apply:os.system [echo hi]\n    email: x@y.example\n", 2, "unsupported YAML tag"),
    ("accounts:\n  - name: a\n    name: b\n    email: x@y.example\n", 3, "duplicate key 'name'"),
    ("x: &x [*x]\naccounts:\n  - email: x@y.example\n", 1, "refers to itself"),
    ("accounts:\n  - <<: 3\n    email: x@y.example\n", 2, "expected a mapping"),
])
def test_unreadable_account_file_is_a_blocking_failure(tmp_path, scan, text, line, fragment):
    path = tmp_path / "acct.yaml"
    path.write_text(text)
    code, report = scan(path, "--engines", "schema", *AS_OF)
    [finding] = report["findings"]
    assert (code, finding["rule_id"], finding["location"]["start_line"]) == (1, "IDP070", line)
    assert fragment in finding["message"]


def test_alias_bomb_is_refused_not_expanded(tmp_path, scan):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\naccounts:\n  - email: x@y.example\n")
    code, report = scan(path, "--engines", "schema", *AS_OF)
    # The shared hostile-input guard (IDP011, limits.max_nodes) refuses it before it is composed.
    assert (code, [f["rule_id"] for f in report["findings"]]) == (1, ["IDP011"])


def test_files_that_only_mention_accounts_are_not_account_files(tmp_path, scan):
    path = tmp_path / "other.yaml"
    path.write_text("accounts:\n  - id: 1\n")
    code, report = scan(path, "--engines", "schema")
    assert (code, report["findings"], report["scanned"]) == (0, [], [])


def test_sarif_names_the_account_and_validates(tmp_path):
    from scanner.cli import main

    out = tmp_path / "accounts.sarif"
    main(["scan", str(ACCOUNTS), *AS_OF, "--format", f"sarif={out}"])
    log = json.loads(out.read_text())
    assert schema_errors(log) == []
    run = log["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "IDP-ACCT-005" and "violations" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "duplicate-email"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 39
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["IDP-ACCT-005"]["shortDescription"]["text"] == "Account e-mail is not unique"
    tool = multitool()
    if tool is not None:
        assert multitool_errors(out, tool) == []


def test_every_account_check_has_its_own_id_title_and_help():
    settings = build_settings([ACCOUNTS])
    metas = SchemaEngine(settings).rules()
    assert [m.id for m in metas] == [f"IDP-ACCT-{n:03d}" for n in range(1, 21)]
    assert len({m.title for m in metas}) == 20
    assert all(m.help_markdown and m.severity is Severity.ERROR for m in metas)


def test_schemas_are_draft_2020_12_and_accept_the_compliant_request():
    for kind in accounts.KINDS:
        schema = schema_for(kind)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "anyOf" not in json.dumps(schema) and "oneOf" not in json.dumps(schema)
    document = yaml.safe_load((ACCOUNTS / "v1" / "payments.yaml").read_text(), )
    for account in document["accounts"]:
        account["expires_at"] = str(account.get("expires_at", "2027-01-31"))
    assert list(jsonschema.Draft202012Validator(schema_for(accounts.V1)).iter_errors(document)) == []
    first_line = (ACCOUNTS / "v1" / "payments.yaml").read_text().splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=")
    assert (ACCOUNTS / "v1" / first_line.split("=", 1)[1]).resolve() == REPO / "scanner/schemas/accounts-v1.schema.json"


def test_bad_as_of_in_config_is_reported(tmp_path, scan):
    (tmp_path / ".idp-scan.yaml").write_text("engines: [schema]\naccounts: {as_of: tomorrow}\n")
    (tmp_path / "a.yaml").write_text((ACCOUNTS / "v1" / "payments.yaml").read_text())
    code, report = scan(tmp_path)
    assert (code, [f["rule_id"] for f in report["findings"]]) == (1, ["IDP075"])


@needs_shared
def test_real_lza_and_adf_examples_give_no_false_errors(scan):
    corpus = SHARED / "corpus" / "accounts"
    code, report = scan(corpus, "--engines", "schema", *AS_OF[:2])  # defaults, not the fixtures' policy
    errors = {(f["rule_id"], Path(f["location"]["uri"]).name, f["location"]["start_line"])
              for f in report["findings"] if f["severity"] == "error"}
    # Both are LZA's own negative examples: a duplicated e-mail and a duplicated alias.
    assert errors == {
        ("IDP-ACCT-005", "2c508b-accounts-config.yaml", 29),
        ("IDP-ACCT-006", "bf13a1-accounts-config.yaml", 33),
    }
    assert len(report["scanned"]) == 15


def test_shared_defaults_by_anchor_and_merge_key(tmp_path, scan):
    (tmp_path / ".idp-scan.yaml").write_text("engines: [schema]\n")
    (tmp_path / "team.yaml").write_text(
        "x-defaults: &defaults\n  organizational_unit: Workloads/Dev\n  environment: dev\n  owner: team-a\n"
        "  cost_center: CC-0001\n  regions: [eu-west-1]\n  budget_usd: 100\n"
        "accounts:\n"
        "  - <<: *defaults\n    name: team-dev\n    email: aws+team-dev@corp.example\n"
        "  - <<: *defaults\n    name: team-prod\n    email: aws+team-prod@corp.example\n    environment: prod\n")
    code, report = scan(tmp_path, *AS_OF)
    # The entry's own `environment: prod` overrides the default; prod needs a workload.
    assert (code, finding_set(report)) == (1, {("IDP-ACCT-016", "team.yaml", 12, "team-prod")})
