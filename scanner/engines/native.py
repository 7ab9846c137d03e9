"""The native engine: the platform's own rules over every resource of every artifact."""

from __future__ import annotations

import logging
from typing import Iterable, Iterator, Sequence

from scanner.branches import variants, with_label
from scanner.catalogue import build_catalogue
from scanner.failures import failure
from scanner.inputs import resources_of
from scanner.model import Artifact, Finding, Resource, RuleMeta
from scanner.rule import NativeRule, RuleContext, Violation
from scanner.settings import Settings

log = logging.getLogger(__name__)


class NativeEngine:
    name = "native"

    def __init__(self, rules: Sequence[NativeRule], options: dict[str, object] | None = None) -> None:
        self._rules = list(rules)
        self._metas = {rule.id: rule.meta() for rule in self._rules}
        self._options = options or {}

    def rules(self) -> Sequence[RuleMeta]:
        return list(self._metas.values())

    def accepts(self, artifact: Artifact) -> bool:
        return True

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        for artifact in artifacts:
            resources = list(resources_of(artifact))
            context = RuleContext(artifact=artifact, resources=resources, options=self._options)
            for resource in resources:
                for rule in self._rules:
                    if rule.applies_to(resource):
                        yield from self._check(rule, resource, context)

    def _check(self, rule: NativeRule, resource: Resource, ctx: RuleContext) -> Iterator[Finding]:
        meta = self._metas[rule.id]
        try:
            violations = _violations(rule, resource, ctx)
        except Exception as exc:
            log.debug("rule %s failed on %s", rule.id, resource.id.name, exc_info=True)
            yield failure(
                "IDP005",
                f"Rule {rule.id} failed on {resource.id.name}: {type(exc).__name__}: {exc}",
                ctx.artifact.locate(resource.path),
                resource.id,
            )
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


def _violations(rule: NativeRule, resource: Resource, ctx: RuleContext) -> list[Violation]:
    """The rule's violations, plus those only a branch of an `Fn::If` shows (labelled with it)."""
    found = list(rule.check(resource, ctx))
    seen = {(v.path, v.message) for v in found}
    for label, variant in variants(resource):
        for violation in rule.check(variant, ctx):
            if (violation.path, violation.message) not in seen:
                seen.add((violation.path, violation.message))
                found.append(Violation(violation.path, with_label(violation.message, label), violation.key))
    return found


def create(settings: Settings) -> NativeEngine:
    catalogue = build_catalogue(settings.rule_dirs)
    return NativeEngine([entry.rule for entry in catalogue.values()], dict(settings.options))
