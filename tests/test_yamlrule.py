"""The declarative rule language: operators, wildcards, three-valued logic, schema errors."""

from __future__ import annotations

import pytest

from scanner.model import Artifact
from scanner.rule import RuleContext
from scanner.yamlrule import RuleLoadError, evaluate, load_yaml_rule, parse_path

TEMPLATE = {"Parameters": {"Known": {"Type": "String", "Default": "x"}, "Unknown": {"Type": "String"}}}
CTX = RuleContext(artifact=Artifact(kind="cloudformation", path="t.yaml", uri="t.yaml", data=TEMPLATE), resources=[])

PROPS = {
    "Enabled": "true",
    "Port": 22,
    "Name": "app-prod",
    "Known": {"Ref": "Known"},
    "Unknown": {"Ref": "Unknown"},
    "Rules": [{"Cidr": "10.0.0.0/8"}, {"Cidr": "0.0.0.0/0"}],
}


@pytest.mark.parametrize(
    "condition, verdict, path",
    [
        ({"path": "Enabled", "equals": True}, True, ()),
        ({"path": "Enabled", "equals": False}, False, ("Enabled",)),
        ({"path": "Port", "in": [22, 3389]}, True, ()),
        ({"path": "Port", "not_in": ["22"]}, False, ("Port",)),
        ({"path": "Port", "gte": 1024}, False, ("Port",)),
        ({"path": "Port", "lt": 1024}, True, ()),
        ({"path": "Name", "regex": "^app-"}, True, ()),
        ({"path": "Missing", "exists": False}, True, ()),
        ({"path": "Missing", "exists": True}, False, ("Missing",)),
        ({"path": "Missing", "equals": True}, False, ("Missing",)),
        ({"path": "Missing", "equals": True, "default": True}, True, ()),
        ({"path": "Missing", "not_equals": "x"}, True, ()),
        ({"path": "Known", "equals": "x"}, True, ()),
        ({"path": "Unknown", "equals": "x"}, None, ()),
        ({"path": "Rules/*/Cidr", "not_equals": "0.0.0.0/0"}, False, ("Rules", 1, "Cidr")),
        ({"path": "Rules[*].Cidr", "regex": r"^\d"}, True, ()),
        ({"path": "Rules/0/Cidr", "equals": "10.0.0.0/8"}, True, ()),
        ({"all": [{"path": "Port", "equals": 22}, {"path": "Unknown", "equals": "y"}]}, None, ()),
        ({"all": [{"path": "Port", "equals": 23}, {"path": "Unknown", "equals": "y"}]}, False, ("Port",)),
        ({"any": [{"path": "Port", "equals": 23}, {"path": "Unknown", "equals": "y"}]}, None, ()),
        ({"any": [{"path": "Port", "equals": 23}, {"path": "Name", "equals": "y"}]}, False, ("Name",)),
        ({"any": [{"path": "Port", "equals": 22}, {"path": "Unknown", "equals": "y"}]}, True, ()),
        ({"not": {"path": "Port", "equals": 22}}, False, ("Port",)),
        ({"not": {"path": "Unknown", "equals": 22}}, None, ()),
    ],
)
def test_condition_decision_table(condition, verdict, path):
    got_verdict, got_path = evaluate(condition, PROPS, CTX)
    assert got_verdict is verdict
    if verdict is False:
        assert got_path == path


def test_parse_path_accepts_both_spellings():
    assert parse_path("A.B[*].C") == parse_path("A/B/*/C") == ("A", "B", "*", "C")


@pytest.mark.parametrize(
    "text, message",
    [
        ("id: bad\ntitle: t\nresource_types: [X]\ncondition: {path: A, exists: true}\n", "invalid rule at id"),
        ("id: ORG-X-001\ntitle: t\nresource_types: [X]\ncondition: {path: A, equalz: 1}\n", "invalid rule at condition"),
        ("id: ORG-X-001\ntitle: t\n", "invalid rule"),
        ("id: [unclosed\n", "not a readable YAML rule"),
    ],
)
def test_invalid_rule_files_name_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    with pytest.raises(RuleLoadError) as error:
        load_yaml_rule(path)
    assert str(path) in str(error.value) and message in str(error.value)
