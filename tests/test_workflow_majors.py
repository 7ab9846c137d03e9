"""Every action that action.yml and the README's workflows name is at least the major kept in
action/majors.toml (so the next deprecation is one edit there), and the README's workflows are
valid under the public workflow schema (json.schemastore.org/github-workflow.json)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

from tests.conftest import REPO

MINIMUM: dict[str, int] = tomllib.loads((REPO / "action" / "majors.toml").read_text())["minimum"]
WORKFLOW_SCHEMA = json.loads((Path(__file__).parent / "github-workflow.schema.json").read_text())
README = (REPO / "README.md").read_text()
SHA = re.compile(r"^[0-9a-f]{40}$")
OURS = "idp-scan/idp-scan"


def readme_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.S)


def uses_in(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        if isinstance(document.get("uses"), str):
            yield document["uses"]
        for value in document.values():
            yield from uses_in(value)
    elif isinstance(document, list):
        for item in document:
            yield from uses_in(item)


def pinned_comments(text: str) -> dict[str, str]:
    """`uses: owner/repo@<sha>  # v7.0.1`: the version a SHA pin stands for, from its comment."""
    return dict(re.findall(r"uses:\s*(\S+@[0-9a-f]{40})\s+#\s*(v\d+\S*)", text))


def every_use() -> list[tuple[str, str, str]]:
    """(where, uses, version) for action.yml and every YAML block of the README."""
    found = []
    for where, text in [("action.yml", (REPO / "action.yml").read_text())] + [(f"README block {i}", b) for i, b in enumerate(readme_blocks())]:
        comments = pinned_comments(text)
        for uses in uses_in(yaml.safe_load(text)):
            ref = uses.rsplit("@", 1)[1] if "@" in uses else ""
            found.append((where, uses, comments.get(uses, "") if SHA.match(ref) else ref))
    return found


def problem(uses: str, version: str) -> str | None:
    """Why USES (at VERSION, the tag or a SHA pin's comment) is not allowed, or None."""
    if uses.startswith("./") or uses.startswith(f"{OURS}@"):
        return None
    name = "/".join(uses.split("@", 1)[0].split("/")[:2])
    if name not in MINIMUM:
        return f"{name} is not in action/majors.toml: add its current major"
    match = re.match(r"v(\d+)", version)
    if match is None:
        return f"{uses}: no major version (a SHA pin needs a '# vN.N.N' comment)"
    if int(match.group(1)) < MINIMUM[name]:
        return f"{uses}: major {match.group(1)} is older than {MINIMUM[name]} (action/majors.toml)"
    return None


def test_every_use_is_a_current_major():
    uses = every_use()
    assert len(uses) >= 14, "action.yml and the README's workflows were read"
    assert [(where, u, problem(u, v)) for where, u, v in uses if problem(u, v)] == []


def test_every_listed_action_is_used_and_sha_pins_are_checked():
    used = {"/".join(u.split("@", 1)[0].split("/")[:2]) for _, u, _ in every_use()}
    assert set(MINIMUM) <= used, "an action no longer used should leave action/majors.toml"
    pins = [(u, v) for _, u, v in every_use() if SHA.match(u.rsplit("@", 1)[1])]
    assert len(pins) == len(MINIMUM) and all(v for _, v in pins)


@pytest.mark.parametrize("uses, version, expected", [
    ("actions/checkout@v4", "v4", "actions/checkout@v4: major 4 is older than 7 (action/majors.toml)"),
    ("github/codeql-action/upload-sarif@v3", "v3", "github/codeql-action/upload-sarif@v3: major 3 is older than 4 (action/majors.toml)"),
    ("actions/setup-node@v6", "v6", "actions/setup-node is not in action/majors.toml: add its current major"),
    ("actions/cache@" + "a" * 40, "", "actions/cache@" + "a" * 40 + ": no major version (a SHA pin needs a '# vN.N.N' comment)"),
    ("actions/cache@" + "a" * 40, "v4.2.0", "actions/cache@" + "a" * 40 + ": major 4 is older than 5 (action/majors.toml)"),
    ("actions/checkout@v7.0.1", "v7.0.1", None),
    ("idp-scan/idp-scan@v1", "v1", None),
])
def test_the_majors_check_can_fail(uses, version, expected):
    assert problem(uses, version) == expected


def readme_workflows() -> list[dict[str, Any]]:
    blocks = [yaml.safe_load(b) for b in readme_blocks()]
    return [b for b in blocks if isinstance(b, dict) and "jobs" in b]


def workflow_errors(workflow: dict[str, Any]) -> list[str]:
    # YAML reads the key `on` as True; GitHub reads it as "on".
    document = {("on" if key is True else key): value for key, value in workflow.items()}
    return [e.message for e in jsonschema.Draft7Validator(WORKFLOW_SCHEMA).iter_errors(document)]


def test_readme_workflows_are_valid_under_the_public_schema():
    workflows = readme_workflows()
    assert len(workflows) >= 2
    assert [workflow_errors(w) for w in workflows] == [[] for _ in workflows]


def test_workflow_schema_check_can_fail():
    workflow = readme_workflows()[0]
    broken = {**workflow, "jobs": {"x": {"runs-on": "ubuntu-latest", "steps": [{"uses": "a/b@v1", "run": "both"}]}}}
    assert workflow_errors(broken) != []
    assert workflow_errors({k: v for k, v in workflow.items() if k is not True}) != [], "`on` is required"


def test_readme_workflow_grants_what_the_action_needs():
    single = readme_workflows()[0]
    assert single["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "write"}
    step = next(s for s in single["jobs"]["idp-scan"]["steps"] if s.get("uses", "").startswith(f"{OURS}@"))
    assert step["with"]["comment"] == "on-failure" and "policy-ref" not in step["with"], "the base branch's policy is the default"
