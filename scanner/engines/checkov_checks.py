"""checkov's bundled checks as idp-scan rules: which checks there are, their severity (from the
reviewed table `checkov_severity.json`), their help and where to read more."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from typing import Any, Mapping, Sequence

from scanner.engines.checkov_setup import NAME, prepare_offline
from scanner.model import RuleMeta, Severity

_POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/all.html"
_SOURCE_URL = "https://github.com/bridgecrewio/checkov/blob/main/{}.py"


@dataclass(frozen=True)
class Rating:
    severity: Severity
    security_severity: float
    category: str = "hardening"
    reason: str = "the check is not in the reviewed table (newer than it): a warning until reviewed"


@dataclass(frozen=True)
class SeverityTable:
    """checkov id -> rating, from `checkov_severity.json`, which scripts/checkov_severity.py writes
    from the severity policy (severity_policy.json)."""

    checks: Mapping[str, Rating]
    default: Rating

    def rate(self, check_id: str) -> Rating:
        return self.checks.get(check_id, self.default)


def _rating(entry: Sequence[Any]) -> Rating:
    """[severity, security-severity] or [severity, security-severity, category, reason]."""
    if len(entry) >= 4:
        return Rating(Severity.parse(str(entry[0])), float(entry[1]), str(entry[2]), str(entry[3]))
    return Rating(Severity.parse(str(entry[0])), float(entry[1]))


@lru_cache(maxsize=1)
def severity_table() -> SeverityTable:
    text = package_files.files("scanner.engines").joinpath("checkov_severity.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return SeverityTable(checks={k: _rating(v) for k, v in data["checks"].items()}, default=_rating(data["default"]))


@lru_cache(maxsize=1)
def bundled_checks() -> dict[str, Any]:
    prepare_offline()
    from checkov.cloudformation.checks.resource.registry import cfn_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    from checkov.common.checks_infra.registry import get_graph_checks_registry

    found: dict[str, Any] = {}
    for registry in (cfn_registry, resource_registry):
        for checks in registry.checks.values():
            for check in checks:
                found.setdefault(check.id, check)
    for framework in ("cloudformation", "terraform"):
        graph = get_graph_checks_registry(framework)
        if not graph.checks:
            graph.load_checks()
        for graph_check in graph.checks:
            found.setdefault(graph_check.id, graph_check)
    return found


def categories(check: Any) -> list[str]:
    return [getattr(c, "name", str(c)) for c in getattr(check, "categories", ()) or ()]


def check_url(check: Any) -> str:
    """checkov's guideline when it has one (only with a platform key), else the check's source."""
    guideline = getattr(check, "guideline", None)
    if guideline:
        return str(guideline)
    module = type(check).__module__
    if module.startswith("checkov.common."):  # a YAML graph check: no module of its own
        return _POLICY_INDEX
    return _SOURCE_URL.format(module.replace(".", "/"))


def rule_meta(check_id: str, title: str, categories: Sequence[str], url: str) -> RuleMeta:
    rating = severity_table().rate(check_id)
    help_text = (
        f"{title}.\n\nThis is checkov's check `{check_id}`, bundled with idp-scan and run offline. "
        f"See [the check's documentation and source]({url}) for what it evaluates and how to fix it. "
        f"Suppress it for one resource with a checkov skip (`Metadata: {{checkov: {{skip: [{{id: {check_id}, "
        f"comment: ...}}]}}}}` or `# checkov:skip={check_id}:reason`), or for the repository with "
        f"`ignore: [{check_id}]` in `.idp-scan.yaml`."
    )
    return RuleMeta(
        id=check_id,
        engine=NAME,
        severity=rating.severity,
        title=title,
        help_markdown=help_text,
        help_uri=url,
        tags=("checkov", "security", *(c.lower() for c in categories)),
        security_severity=rating.security_severity,
    )
