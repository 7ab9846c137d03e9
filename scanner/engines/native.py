"""The native engine: the platform's own rules over every resource of every artifact."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scanner.branches import variants, with_label
from scanner.catalogue import build_catalogue
from scanner.failures import failure
from scanner.inputs import resources_of
from scanner.findings import scopes
from scanner.findings.concerns import settling_rules
from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Resource, RuleMeta, Status
from scanner.rule import UNKNOWN, NativeRule, RuleContext, Violation
from scanner.terraform_helpers import is_terraform
from scanner.settings import Settings

log = logging.getLogger(__name__)


class NativeEngine(EngineBase):
    name = "native"

    def __init__(self, rules: Sequence[NativeRule], options: dict[str, object] | None = None) -> None:
        self._rules = list(rules)
        self._metas = {rule.id: rule.meta() for rule in self._rules}
        self._owners = settling_rules(self._metas.values())
        self._scope_wide = frozenset(rule.id for rule in self._rules if rule.scope_wide)
        self._options = options or {}

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def accepts(self, artifact: Artifact) -> bool:
        return True

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        for artifact in artifacts:
            resources = list(resources_of(artifact))
            context = RuleContext(artifact=artifact, resources=resources, options=self._options)
            found: list[Finding] = []
            applicable: dict[str, int] = {}  # the user's resources each rule applies to
            own = scopes.users(artifact)
            for resource in resources:
                users = own(resource.id.name)
                for rule in self._rules:
                    if rule.applies_to(resource):
                        applicable[rule.id] = applicable.get(rule.id, 0) + users
                        found.extend(self._check(rule, resource, context))
            yield from scopes.folded(found, artifact, applicable, self._scope_wide)

    def _check(self, rule: NativeRule, resource: Resource, ctx: RuleContext) -> Iterator[Finding]:
        meta = self._metas[rule.id]
        # A rule whose pass settles other engines' findings notes the unknown values it reads.
        tracked = _Tracked(ctx.artifact, ctx.resources, ctx.options) if rule.id in self._owners else None
        try:
            violations = _violations(rule, resource, tracked or ctx, tracked.unknown if tracked else None)
        except Exception as exc:
            log.debug("rule %s failed on %s", rule.id, resource.id.name, exc_info=True)
            yield failure(
                "IDP005",
                f"Rule {rule.id} failed on {resource.id.name}: {type(exc).__name__}: {exc}",
                ctx.artifact.locate(resource.path),
                resource.id,
            )
            return
        if not violations:
            if tracked is not None and not tracked.unknown:
                # The owner of a concern decided it: other engines' reports of it are superseded.
                yield Finding(rule.id, self.name, meta.severity, f"{resource.id.name} complies with {rule.id}.",
                              ctx.artifact.locate(resource.path), resource.id, status=Status.PASSED)
            return
        by_instance: dict[str, list[Violation]] = {}
        for violation in violations:
            by_instance.setdefault(violation.instance, []).append(violation)
        # One finding per violation instance: a new instance next to an accepted one is new.
        for key, same in by_instance.items():
            yield Finding(
                rule_id=rule.id,
                engine=self.name,
                severity=meta.severity,
                message=" ".join(dict.fromkeys(v.message for v in same)),
                location=ctx.artifact.locate((*resource.path, *same[0].path)),
                resource=resource.id,
                key=key,
            )


@dataclass(frozen=True)
class _Tracked(RuleContext):
    """The rule's context, noting whether it met a value only known at deploy time: a rule
    that passed a resource without knowing everything did not decide the concern."""

    unknown: list[object] = field(default_factory=list)

    def resolve(self, value: Any) -> Any:
        resolved = super().resolve(value)
        if resolved is UNKNOWN:
            self.unknown.append(value)
        return resolved


class _Watched(Mapping[str, Any]):
    """Terraform properties arrive evaluated and rules read them directly: reading an unknown
    value through this view is noted, so a pass that rested on one does not decide the concern
    (values the rule never read, such as a bucket id known after apply, do not matter)."""

    def __init__(self, data: Mapping[str, Any], seen: list[object]) -> None:
        self._data, self._seen = data, seen

    def __getitem__(self, key: str) -> Any:
        return _watch(self._data[key], self._seen)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _WatchedList(list[Any]):
    def __init__(self, items: list[Any], seen: list[object]) -> None:
        super().__init__(items)
        self._seen = seen

    def __getitem__(self, index: Any) -> Any:
        return _watch(super().__getitem__(index), self._seen)

    def __iter__(self) -> Iterator[Any]:
        return (_watch(item, self._seen) for item in super().__iter__())


def _watch(value: Any, seen: list[object]) -> Any:
    if value is UNKNOWN:
        seen.append(value)
        return value
    if isinstance(value, Mapping):
        return _Watched(value, seen)
    if isinstance(value, list):
        return _WatchedList(value, seen)
    return value


def watched(resource: Resource, seen: list[object]) -> Resource:
    return replace(resource, properties=_Watched(resource.properties, seen)) if is_terraform(resource) else resource


def _violations(rule: NativeRule, resource: Resource, ctx: RuleContext, watch: list[object] | None = None) -> list[Violation]:
    """The rule's violations, plus those only a branch of an `Fn::If` shows (labelled with it).
    With `watch`, the unknown values the rule reads are noted there."""
    def view(seen: Resource) -> Resource:
        return watched(seen, watch) if watch is not None else seen

    found = list(rule.check(view(resource), ctx))
    seen = {(v.path, v.message) for v in found}
    for label, variant in variants(resource):
        for violation in rule.check(view(variant), ctx):
            if (violation.path, violation.message) not in seen:
                seen.add((violation.path, violation.message))
                found.append(Violation(violation.path, with_label(violation.message, label), violation.key))
    return found


def create(settings: Settings) -> NativeEngine:
    catalogue = build_catalogue(settings.rule_dirs)
    return NativeEngine([entry.rule for entry in catalogue.values()], dict(settings.options))
