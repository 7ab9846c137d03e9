"""The cfn-lint engine: template validity (will it deploy?) for CloudFormation and cdk.out.

Warm: the rules are loaded once per engine (per process), not per template as `cfnlint.api.lint`
does (4x slower over 189 templates). Each template is decoded again by cfn-lint (its rules need
the line marks), run on its own under a time limit (cfn-lint has none, and templates with many
conditions have taken over an hour), and a template that makes it raise becomes an IDP020
finding while the others stand.

Severity: from the severity policy (severity_policy.json): E (will not deploy) error, W warning,
I note, with the reviewed exceptions it lists (W2501, a literal password, is an error). Date-dependent rules (W2531, E2531,
E2533: deprecated Lambda runtimes) judge by `cfn_lint.as_of` when configured, so a gate is
reproducible. `Metadata.cfn-lint.config.ignore_checks` on a resource, or on the whole template,
marks cfn-lint's own findings there SUPPRESSED (cfn-lint would drop them, or not run the rule).
W3010 on the placeholder availability zones of a synth without context lookups (`dummy1a`) is
no finding for cdk.out stacks.
"""

from __future__ import annotations

import datetime
import logging
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scanner.engines import cfn_lint_speedups
from scanner.engines.checkov_engine import engine_crash, engine_timeout
from scanner.engines.limits import EngineTimeout, time_limit
from scanner.engines.severity_policy import policy
from scanner.inputs import cfn
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, ResourceId, RuleMeta, Severity, Status
from scanner.settings import ConfigError, Settings

log = logging.getLogger(__name__)

NAME = "cfn-lint"
DEFAULT_REGION = "us-east-1"
# Rules that read today's date (`from datetime import datetime; datetime.today()` in their module).
DATE_RULES = ("W2531", "E2531", "E2533")
_PLACEHOLDER_AZ = re.compile(r"dummy\d[a-z]")


def severity_of(rule_id: str) -> Severity:
    return policy().rate_cfn_lint(rule_id).severity


@contextmanager
def as_of(day: datetime.date | None, rules: Any) -> Iterator[None]:
    """Date-dependent rules see `day` as today, for the duration of one template.

    cfn-lint loads its rules from files without registering their modules, so the globals the
    rules read are reached through the loaded rule objects.
    """
    if day is None:
        yield
        return
    frozen_day: datetime.date = day

    class Frozen(datetime.datetime):
        @classmethod
        def today(cls) -> Frozen:
            return cls(frozen_day.year, frozen_day.month, frozen_day.day)

    namespaces: list[dict[str, Any]] = [type(rules.data[i]).validate.__globals__ for i in DATE_RULES if i in rules.data]
    saved = [namespace["datetime"] for namespace in namespaces]
    for namespace in namespaces:
        namespace["datetime"] = Frozen
    try:
        yield
    finally:
        for namespace, original in zip(namespaces, saved):
            namespace["datetime"] = original


class CfnLintEngine(EngineBase):
    name = NAME

    def __init__(self, regions: Sequence[str] = (DEFAULT_REGION,), as_of_date: datetime.date | None = None, time_limit_per_file: float | None = 120.0) -> None:
        self._regions = list(regions)
        self._as_of = as_of_date
        self._limit = time_limit_per_file
        self._warm: Any = None  # (config, rules), built on the first scan in this process

    def rules(self) -> Sequence[RuleMeta]:
        """cfn-lint's rules (loads them: the pipeline asks only when a template exists)."""
        _, rules = self._runner()
        return [rule_meta(rule) for _, rule in sorted(rules.data.items())]

    def prepare(self) -> None:
        """Load the rules once, before the worker processes fork."""
        self._runner()

    def cache_token(self) -> str:
        """Cached results hold for one as-of date: without one, for today only."""
        return f"as_of={self._as_of or datetime.date.today()};regions={','.join(self._regions)}"

    def accepts(self, artifact: Artifact) -> bool:
        return artifact.kind == cfn.KIND

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        findings: list[Finding] = []
        for artifact in artifacts:
            findings.extend(self._scan_one(artifact))
        return findings

    def _scan_one(self, artifact: Artifact) -> list[Finding]:
        try:
            with time_limit(self._limit), as_of(self._as_of, self._runner()[1]):
                matches = self._lint(artifact)
        except EngineTimeout as exc:
            return [engine_timeout(NAME, artifact, str(exc))]
        except Exception as exc:
            log.debug("cfn-lint failed on %s", artifact.uri, exc_info=True)
            return [engine_crash(NAME, artifact, exc)]
        return [f for f in (to_finding(m, directives, artifact) for m, directives in matches) if f is not None]

    def _runner(self) -> Any:
        if self._warm is None:
            from cfnlint.config import ConfigMixIn
            from cfnlint.runner import Runner

            cfn_lint_speedups.install()
            config = ConfigMixIn(regions=self._regions, include_checks=["I"])
            rules = Runner(config).rules
            cfn_lint_speedups.tune_rules(rules)
            self._warm = (config, rules)
        return self._warm

    def _lint(self, artifact: Artifact) -> list[tuple[Any, Mapping[str, list[str]]]]:
        """cfn-lint's matches with the template's resource directives (applied by us, not it)."""
        from cfnlint.decode import decode
        from cfnlint.template import Template

        config, rules = self._runner()
        template, matches = decode(artifact.path)
        if matches or template is None:
            return [(m, {}) for m in matches]
        # Template-wide ignores are ours to apply too: cfn-lint would not run those rules at
        # all, and a check that did not run cannot show as suppressed.
        ignored = _template_ignores(template)
        config.set_template_args(_without_ignores(template) if ignored else template)
        try:
            cfn_template = Template(artifact.path, template, config.regions, config.parameters)
            transform_errors = cfn_template.transform()
            if transform_errors:
                return [(m, {}) for m in transform_errors]
            directives = {**cfn_template.get_directives(), **({TEMPLATE_WIDE: list(ignored)} if ignored else {})}
            found: list[Any] = []
            for match in cfn_lint_speedups.run_rules(rules, artifact.path, cfn_template, Settled(config)):
                if match not in found:  # cfn-lint's own dedup: matches compare equal but do not hash
                    found.append(match)
        finally:
            config.set_template_args({})  # the warm config must not carry this template's settings
        return [(m, directives) for m in found]


class Settled:
    """The configuration as one template's run reads it: each setting computed once.

    cfn-lint's configuration merges its sources on every read; its rule runner reads a few
    settings for every rule (1.6 million reads on 846 templates, 4% of cfn-lint's time)."""

    def __init__(self, config: Any) -> None:
        self._config = config

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._config, name)
        setattr(self, name, value)
        return value


def rule_meta(rule: Any) -> RuleMeta:
    severity = severity_of(str(rule.id))
    url = str(getattr(rule, "source_url", "") or "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md")
    description = str(getattr(rule, "description", "") or rule.shortdesc)
    return RuleMeta(
        id=str(rule.id),
        engine=NAME,
        severity=severity,
        title=str(rule.shortdesc),
        help_markdown=(
            f"{description}\n\nThis is cfn-lint's rule `{rule.id}` (template validity: E rules find templates "
            f"CloudFormation will not deploy). See [its documentation]({url}). Ignore it for one resource with "
            f"`Metadata: {{cfn-lint: {{config: {{ignore_checks: [{rule.id}]}}}}}}`, or for the repository with "
            f"`ignore: [{rule.id}]` in `.idp-scan.yaml`."
        ),
        help_uri=url,
        tags=("cfn-lint", "reliability", *(str(t) for t in list(getattr(rule, "tags", []) or [])[:10])),
        security_severity=policy().rate_cfn_lint(str(rule.id)).score,
    )


def to_finding(match: Any, directives: Mapping[str, list[str]], artifact: Artifact) -> Finding | None:
    rule_id = str(match.rule.id)
    start = int(getattr(match, "linenumber", 1) or 1)
    end = max(int(getattr(match, "linenumberend", start) or start), start)
    logical_id = _resource_at(artifact, getattr(match, "path", None), start)
    if rule_id == "W3010" and is_cdk(artifact) and _PLACEHOLDER_AZ.search(str(match.message)):
        return None  # synth without context lookups: placeholder AZs, not the user's choice
    resource: ResourceId | None = None
    if logical_id is not None:
        body = artifact.data.get("Resources", {}).get(logical_id, {}) if isinstance(artifact.data, Mapping) else {}
        resource_type = body.get("Type", "") if isinstance(body, Mapping) else ""
        resource = cfn.resource_identity(artifact, logical_id, resource_type if isinstance(resource_type, str) else "")
    message = stable_message(str(match.message))
    finding = Finding(
        rule_id=rule_id,
        engine=NAME,
        severity=severity_of(rule_id),
        message=message,
        location=Location(artifact.uri, start, end),
        resource=resource,
        key=match_key(getattr(match, "path", None), message),
    )
    if logical_id is not None and logical_id in directives.get(rule_id, []):
        return finding.with_status(Status.SUPPRESSED, f"cfn-lint: ignore_checks in the Metadata of {logical_id}")
    if any(rule_id.startswith(prefix) for prefix in directives.get(TEMPLATE_WIDE, [])):
        return finding.with_status(Status.SUPPRESSED, "cfn-lint: ignore_checks in the template's Metadata")
    return finding


_SET_OF_STRINGS = re.compile(r"\{('(?:[^'\\]|\\.)*'(?:, '(?:[^'\\]|\\.)*')+)\}")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")


_SCENARIO = re.compile(r'when condition "[^"]*" is (?:True|False)(?: and when condition "[^"]*" is (?:True|False))+')


def stable_message(message: str) -> str:
    """The message with the Python sets some rules print (E3019: `across the resources
    {'RoleA', 'RoleB'}`) and the conditions of a scenario (E3043: `when condition "A" is True
    and when condition "B" is False`) in sorted order: both follow the process's hash seed, and
    the message is part of the finding's key, so it would otherwise change from run to run."""
    message = _SET_OF_STRINGS.sub(lambda m: "{" + ", ".join(sorted(_QUOTED.findall(m.group(1)))) + "}", message)
    return _SCENARIO.sub(lambda m: " and ".join(sorted(m.group(0).split(" and "))), message)


def match_key(path: Any, message: str = "") -> str:
    """Where in the template the match is (`Outputs/B/Value`) and what it says: each place is
    its own finding, so an accepted error in one output never hides a new one in the next. List
    positions are left out (reordering ingress rules keeps the fingerprint); the message tells
    apart two items of one list."""
    if not isinstance(path, (list, tuple)):
        return ""
    where = "/".join("*" if isinstance(p, int) else str(p) for p in path)
    return f"{where}: {message}" if any(isinstance(p, int) for p in path) else where


TEMPLATE_WIDE = ""  # the directives key of `Metadata.cfn-lint.config.ignore_checks` (rule id prefixes)


def _template_ignores(template: Any) -> tuple[str, ...]:
    """The rule id prefixes in the template's `Metadata.cfn-lint.config.ignore_checks`."""
    config: Any = template
    for key in ("Metadata", "cfn-lint", "config"):
        config = config.get(key) if isinstance(config, Mapping) else None
    ignores = config.get("ignore_checks") if isinstance(config, Mapping) else None
    return tuple(str(i) for i in ignores) if isinstance(ignores, list) else ()


def _without_ignores(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template as cfn-lint's configuration reads it, without its ignore_checks."""
    metadata = dict(template["Metadata"])
    linter = dict(metadata["cfn-lint"])
    linter["config"] = {k: v for k, v in linter["config"].items() if k != "ignore_checks"}
    metadata["cfn-lint"] = linter
    return {**template, "Metadata": metadata}


def _resource_at(artifact: Artifact, path: Any, line: int) -> str | None:
    """The logical id a match is about: from its path, else the resource whose lines hold it."""
    if isinstance(path, (list, tuple)) and len(path) >= 2 and path[0] == "Resources":
        return str(path[1])
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    if not isinstance(resources, Mapping):
        return None
    for logical_id in resources:
        span = artifact.lines.get(("Resources", str(logical_id)))
        if span and span[0] <= line <= span[1]:
            return str(logical_id)
    return None


def is_cdk(artifact: Artifact) -> bool:
    return bool(artifact.context.get("construct_paths")) or "cdk.out" in artifact.path.replace("\\", "/").split("/")


def _date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"cfn_lint.as_of: {value!r} is not a date (YYYY-MM-DD)") from exc


def create(settings: Settings) -> CfnLintEngine:
    section = settings.cfn_lint
    regions = section.regions or settings.allowed_regions or (DEFAULT_REGION,)
    return CfnLintEngine(regions=list(regions), as_of_date=_date(section.as_of), time_limit_per_file=section.timeout)
