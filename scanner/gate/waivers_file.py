"""The central waivers file (config key `waivers`): reviewed by the platform team, with owners.

```yaml
waivers:
  - rule: IDP-NET-001                 # the rule id, or one of its aliases
    files: [infra/bastion/*.yaml]     # globs on the repo-relative path
    resources: [BastionSecurityGroup] # globs on the resource identity (logical id, construct path, address)
    reason: Reachable only through the corporate VPN (SEC-1234)
    owner: team-network
    expires: 2027-03-31               # optional
```

At least one of `files` and `resources` is required: a waiver for a rule everywhere is what
`ignore` in the configuration is for. Only this file can waive a `mandatory` rule.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from scanner.discovery import repo_relative
from scanner.failures import failure
from scanner.gate.waiver import Scope, Waiver
from scanner.inputs.metadata_suppressions import parse_date
from scanner.inputs import read_text
from scanner.model import Finding, Location, Suppression

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when PyYAML has it
KEYS = {"rule", "files", "resources", "reason", "owner", "expires"}
FORM = "waiver"


def _globs(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _matcher(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled pattern per scope: `*` matches across `/`, as fnmatch does."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)) if globs else None


def _scope(files: tuple[str, ...], resources: tuple[str, ...]) -> Scope:
    file_pattern, resource_pattern = _matcher(files), _matcher(resources)

    def covers(finding: Finding) -> bool:
        # The file a finding points at, or the artifact it judged: a waiver of
        # `cdk.out/App.template.json` covers that stack's findings shown at their source lines.
        if file_pattern is not None and not any(file_pattern.match(uri) for uri in {finding.location.uri, finding.artifact_uri}):
            return False
        if resource_pattern is not None:
            return finding.resource is not None and bool(resource_pattern.match(finding.resource.name))
        return True
    return covers


def _entry(entry: Any, location: Location) -> tuple[Waiver | None, str]:
    if not isinstance(entry, Mapping):
        return None, "each waiver must be a mapping"
    unknown = sorted(set(map(str, entry)) - KEYS)
    files, resources = _globs(entry.get("files")), _globs(entry.get("resources"))
    expires = parse_date(entry["expires"]) if "expires" in entry else None
    problem = (
        f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})" if unknown
        else "`rule` (a rule id) is required" if not isinstance(entry.get("rule"), str) or not entry["rule"].strip()
        else "`owner` is required" if not isinstance(entry.get("owner"), str) or not entry["owner"].strip()
        else "`files` and `resources` must be globs (a string or a list of strings)" if files is None or resources is None
        else "a scope is required: `files` and/or `resources`" if not files and not resources
        else f"`expires` ({entry['expires']}) is not a date (YYYY-MM-DD)" if "expires" in entry and expires is None
        else ""
    )
    if problem or files is None or resources is None:
        return None, problem
    reason = entry.get("reason")
    suppression = Suppression(rule_id=str(entry["rule"]).strip(), reason=reason if isinstance(reason, str) else "",
                              location=location, expires=expires, owner=str(entry["owner"]).strip(), origin="waivers")
    return Waiver(suppression, FORM, _scope(files, resources), inline=False), ""


def load(path: Path, root: Path) -> tuple[list[Waiver], list[Finding]]:
    uri = repo_relative(path, root)
    try:
        text = read_text(path)
        node = yaml.compose(text, Loader=_LOADER)
        document = yaml.load(text, Loader=_LOADER)
    except FileNotFoundError:
        return [], [failure("IDP030", f"The waivers file named in the configuration does not exist: {uri}.", Location(uri))]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        return [], [failure("IDP030", f"The waivers file cannot be read: {exc}".replace("\n", " "), Location(uri, line, line))]
    items = node.value if isinstance(node, yaml.MappingNode) else []
    entries_node = next((value for key, value in items if getattr(key, "value", None) == "waivers"), None)
    entries = document.get("waivers") if isinstance(document, dict) else None
    if not isinstance(entries, list) or set(document) != {"waivers"} or not isinstance(entries_node, yaml.SequenceNode):
        return [], [failure("IDP030", "The waivers file must be a mapping with one key, `waivers`, holding a list.", Location(uri))]
    waivers: list[Waiver] = []
    problems: list[Finding] = []
    for entry, entry_node in zip(entries, entries_node.value):
        line = entry_node.start_mark.line + 1
        waiver, problem = _entry(entry, Location(uri, line, entry_node.end_mark.line or line))
        if waiver is not None:
            waivers.append(waiver)
        else:
            problems.append(failure("IDP030", f"Waiver cannot be used: {problem}. It does not waive anything.", Location(uri, line, line)))
    return waivers, problems
