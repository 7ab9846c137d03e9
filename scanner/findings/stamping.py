"""Which artifact a finding judged: part of its fingerprint, stamped once where it is made."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from scanner.discovery import is_within
from scanner.model import Artifact, Finding


def stamp_artifacts(findings: Iterable[Finding], artifacts: Sequence[Artifact] = (), default: str = "") -> list[Finding]:
    """Each finding names the artifact it judged, which its fingerprint uses: the template of a
    stack (kept when CDK findings later move to source code), the root module of Terraform
    findings that point into module files. A finding no artifact claims gets `default` (what
    loading a Terraform root found is about that root, wherever in its files the block stands).
    A finding that already names its artifact keeps it."""
    by_uri = {a.uri: a for a in artifacts}
    only = artifacts[0] if len(artifacts) == 1 else None
    stamped = []
    for finding in findings:
        if finding.artifact:
            stamped.append(finding)
            continue
        judged = by_uri.get(finding.location.uri) or (only if only and _holds(only, finding.location.uri) else None)
        artifact = _identity(judged, finding) if judged else default
        stamped.append(replace(finding, artifact=artifact) if artifact else finding)
    return stamped


def _holds(artifact: Artifact, uri: str) -> bool:
    """A Terraform unit judges its module files wherever they are (`../modules/x`); another
    artifact only itself. (The CDK validation report speaks of templates it is not.)"""
    return artifact.kind in ("terraform", "terraform-plan") or is_within(uri, artifact.uri)


def _identity(artifact: Artifact, finding: Finding) -> str:
    """A plan's finding that points at the `.tf` file beside it judges that root module (the
    directory), as the module's own scan does, so that the two are one finding."""
    if artifact.kind == "terraform-plan" and finding.location.uri != artifact.uri:
        return artifact.uri.rsplit("/", 1)[0] if "/" in artifact.uri else "."
    return artifact.uri
