"""Suppressions written in CDK code: cdk-nag `rules_to_suppress` Metadata and
`aws:cdk:acknowledged-rules` (`Validations.of(x).acknowledge(...)`)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Sequence

from scanner.inputs import cfn
from scanner.model import Artifact, Suppression


@lru_cache(maxsize=1)
def _known_rule_names() -> frozenset[str]:
    """Ids and aliases of the bundled rules and installed rule packs: what a CDK waiver may name
    for idp-scan (a broken pack is reported by the catalogue itself, not here)."""
    from scanner.catalogue import CatalogueError, build_catalogue  # lazy: loads the rule pack

    try:
        catalogue = build_catalogue((), with_packs=True)
    except CatalogueError:
        catalogue = build_catalogue((), with_packs=False)
    names: set[str] = set()
    for entry in catalogue.values():
        meta = entry.rule.meta()
        names.add(meta.id)
        names.update(meta.aliases)
    return frozenset(names)


def names_idp_rule(rule_id: str) -> bool:
    return rule_id.startswith("IDP-") or rule_id in _known_rule_names()


def _acknowledged_rule(ack_id: str) -> str:
    """`CloudFormation-Validate::W3010` names W3010; a plain id names itself."""
    return ack_id.rsplit("::", 1)[-1]


_CFN_LINT_ID = re.compile(r"^[EWI]\d{4}$")


def cfn_lint_rule(ack_id: str) -> str | None:
    """The cfn-lint rule a CDK acknowledgement waives: aws-cdk-lib's CloudFormation Validate
    plugin runs cfn-lint's rules, so `CloudFormation-Validate::W3045` is cfn-lint's W3045."""
    plugin, _, rule_id = ack_id.rpartition("::")
    return rule_id if plugin == "CloudFormation-Validate" and _CFN_LINT_ID.match(rule_id) else None


def engine_acknowledgements(acknowledged: Sequence[tuple[str, str, str]]) -> list[list[str]]:
    """[construct path, acknowledgement id, cfn-lint rule, reason] of the acknowledgements that
    waive another engine's rule. They mark findings when sources are attached, not at the gate:
    aws-cdk-lib acknowledges rules on its own behalf (W3010 wherever a stack reads
    `availabilityZones`), so one that matches nothing is no unused waiver of the user's."""
    return [[path, ack_id, rule, reason] for path, ack_id, reason in acknowledged if (rule := cfn_lint_rule(ack_id))]


def cdk_suppressions(artifact: Artifact, acknowledged: Sequence[tuple[str, str, str]]) -> list[Suppression]:
    """cdk-nag `rules_to_suppress` Metadata and `aws:cdk:acknowledged-rules` as Suppressions."""
    found: list[Suppression] = []
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    if not isinstance(resources, Mapping):
        return found
    names: dict[str, str] = {}
    for logical_id, body in resources.items():
        if not isinstance(body, Mapping):
            continue
        identity = cfn.resource_identity(artifact, str(logical_id), str(body.get("Type", "")))
        names[str(logical_id)] = identity.name
        nag = body.get("Metadata", {}).get("cdk_nag") if isinstance(body.get("Metadata"), Mapping) else None
        rules = nag.get("rules_to_suppress") if isinstance(nag, Mapping) else None
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, Mapping) and names_idp_rule(str(rule.get("id", ""))):
                where = artifact.locate(("Resources", logical_id, "Metadata", "cdk_nag", "rules_to_suppress", index))
                found.append(Suppression(str(rule["id"]), str(rule.get("reason", "")), where, identity.name, origin="cdk-nag"))
    for path, ack_id, reason in acknowledged:
        rule_id = _acknowledged_rule(ack_id)
        covered = [lid for lid, n in names.items() if n == path or n.startswith(path + "/")]
        if names_idp_rule(rule_id) and covered:
            # One waiver for the construct and everything below it (also in nested stacks).
            found.append(Suppression(rule_id, reason, artifact.locate(("Resources", covered[0])), path, origin="cdk-nag"))
    return found


def acknowledgement_reason(construct_path: str, ack_id: str, reason: str) -> str:
    return f"acknowledged in CDK code at {construct_path} ({ack_id}): {reason.strip()}"
