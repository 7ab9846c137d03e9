"""Guard rule files as idp-scan rules: where they are, what they are called, what they say.

A configured path is a `.guard` file or a directory searched recursively; `control-tower`
names the AWS Control Tower proactive controls of the installed npm package. A rule file's
top-level rules (not the parameterized helpers) are its rules. When the file has a control's
metadata beside it — `<stem>.metadata.json` in the same folder, or the package's layout
`control-tower/cfn-guard/<svc>/<stem>.guard` with `control-tower/metadata/<svc>/<stem>.metadata.json`
— its rules report under the control's `Id` (CT.S3.PR.1) with its severity, help and
compliance mappings; otherwise under the Guard rule name, as errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from scanner.model import RuleMeta, Severity

ENGINE = "guard"
CONTROL_TOWER = "control-tower"
RULE_SUFFIXES = (".guard", ".ruleset")
_TOP_LEVEL_RULE = re.compile(r"^[ \t]*rule[ \t]+([A-Za-z0-9_]+)[ \t]*(\()?", re.MULTILINE)
_DESCRIPTION = re.compile(r"^#\s*Description:\s*\n((?:#[ \t]{2,}.*\n)+)", re.MULTILINE)
SEVERITIES = {"CRITICAL": Severity.ERROR, "HIGH": Severity.ERROR, "MEDIUM": Severity.WARNING, "LOW": Severity.NOTE}
SECURITY_SEVERITY = {"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 3.0}
MAX_TAGS = 20


class GuardRulesError(Exception):
    """A configured rule path that does not exist or holds no Guard rule (exit 2)."""


@dataclass(frozen=True)
class GuardRule:
    """One top-level Guard rule and the idp-scan rule it reports as."""

    name: str
    file: Path
    meta: RuleMeta
    suppression_names: tuple[str, ...] = field(default=())  # what Metadata.guard.SuppressedRules may say
    resource_types: frozenset[str] = frozenset()  # the control's EvaluatedResourceTypes; empty: unknown


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every Guard rule file under the paths (files as given, directories recursively), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in RULE_SUFFIXES))
        else:
            raise GuardRulesError(f"guard.rules: {path} does not exist")
    return list(dict.fromkeys(found))


def rule_names(text: str) -> list[str]:
    """Top-level rules of a Guard file, in order (parameterized rules are helpers, not reported)."""
    names = [m.group(1) for m in _TOP_LEVEL_RULE.finditer(text) if not m.group(2)]
    return list(dict.fromkeys(names))


def metadata_file(rule_file: Path) -> Path | None:
    beside = rule_file.with_name(f"{rule_file.stem}.metadata.json")
    if beside.is_file():
        return beside
    service, folder = rule_file.parent, rule_file.parent.parent
    package_layout = folder.parent / "metadata" / service.name / f"{rule_file.stem}.metadata.json"
    return package_layout if folder.name == "cfn-guard" and package_layout.is_file() else None


def load_rules(files: Sequence[Path], severity_overrides: Mapping[str, str] | None = None) -> list[GuardRule]:
    rules: list[GuardRule] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GuardRulesError(f"guard.rules: {path} cannot be read: {exc}") from exc
        control = _metadata(path)
        types = frozenset(str(t) for t in (control or {}).get("EvaluatedResourceTypes") or [])
        for name in rule_names(text):
            meta = control_meta(control, name, path) if control else plain_meta(name, path, text)
            rules.append(GuardRule(name, path, meta, tuple(dict.fromkeys((name, meta.id))), types))
    return rules


def _metadata(rule_file: Path) -> dict[str, Any] | None:
    path = metadata_file(rule_file)
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GuardRulesError(f"{path}: control metadata cannot be read: {exc}") from exc
    return document if isinstance(document, dict) and isinstance(document.get("Id"), str) else None


def control_meta(control: Mapping[str, Any], name: str, path: Path) -> RuleMeta:
    level = str(control.get("Severity", "")).upper()
    links = [ref for ref in control.get("DocumentationReferences") or [] if isinstance(ref, dict) and ref.get("Url")]
    parts = [
        f"**{control.get('DisplayName', name)}**",
        str(control.get("Description", "")),
        f"**Fix:** {control['RemediationMessage']}" if control.get("RemediationMessage") else "",
        "\n".join(f"- [{ref.get('DisplayName') or ref['Url']}]({ref['Url']})" for ref in links),
        f"AWS Control Tower proactive control `{control['Id']}` (Guard rule `{name}` in `{path.name}`, "
        f"severity {level or 'not given'}). Suppress it for one resource with "
        f"`Metadata: {{guard: {{SuppressedRules: [{name}]}}}}` or the idp-scan forms with id `{control['Id']}`.",
    ]
    return RuleMeta(
        id=str(control["Id"]),
        engine=ENGINE,
        severity=SEVERITIES.get(level, Severity.ERROR),
        title=str(control.get("DisplayName") or name)[:1000],
        help_markdown="\n\n".join(p for p in parts if p),
        help_uri=str(links[0]["Url"]) if links else "",
        tags=compliance_tags(control),
        security_severity=SECURITY_SEVERITY.get(level),
    )


def compliance_tags(control: Mapping[str, Any]) -> tuple[str, ...]:
    """`guard`, `control-tower`, then `<framework>: <id>` taken from each framework in turn (so that
    a long NIST list does not crowd out PCI DSS and CIS), at most 20 in all (GitHub's limit)."""
    columns = [[f"{m.get('ComplianceFramework')}: {i}" for i in m.get("Ids") or []]
               for m in control.get("ComplianceFrameworkMappings") or [] if isinstance(m, dict)]
    interleaved = [column[row] for row in range(max(map(len, columns), default=0)) for column in columns if row < len(column)]
    return tuple(dict.fromkeys([ENGINE, CONTROL_TOWER, *interleaved]))[:MAX_TAGS]


def plain_meta(name: str, path: Path, text: str) -> RuleMeta:
    """A rule without control metadata: its name, the file's `Description:` header if any."""
    described = _DESCRIPTION.search(text)
    description = " ".join(line.lstrip("#").strip() for line in described.group(1).splitlines()) if described else ""
    help_text = (f"{description}\n\n" if description else "") + (
        f"Guard rule `{name}` in `{path}`. Its message on each finding says what to fix. Suppress it for one "
        f"resource with `Metadata: {{guard: {{SuppressedRules: [{name}]}}}}` or the idp-scan forms with id `{name}`."
    )
    return RuleMeta(
        id=name,
        engine=ENGINE,
        severity=Severity.ERROR,
        title=(description or f"Guard rule {name}")[:1000],
        help_markdown=help_text,
        tags=(ENGINE,),
    )


def rule_test_pairs(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(rule file, its test file) for every rule file with one: `<stem>_tests.yml` (or .yaml,
    .json) in a `tests/` folder beside the rule file (`cfn-guard test -d`'s layout, where
    `<stem>.yml` also counts) or beside it."""
    pairs = []
    for rule_file in rule_files(paths):
        for folder, names in ((rule_file.parent / "tests", (f"{rule_file.stem}_tests", rule_file.stem)),
                              (rule_file.parent, (f"{rule_file.stem}_tests",))):
            candidates = [folder / f"{name}{suffix}" for name in names for suffix in (".yml", ".yaml", ".json")]
            found = next((c for c in candidates if c.is_file()), None)
            if found is not None:
                pairs.append((rule_file, found))
                break
    return pairs
