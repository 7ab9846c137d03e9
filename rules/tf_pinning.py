from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

LOCAL = ("./", "../")
GIT = re.compile(r"^(git::|git@|github\.com/|bitbucket\.org/|hg::)")
# A registry address: [host/]namespace/name/provider[//subdir]
REGISTRY = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}/)?[\w-]+/[\w-]+/[\w-]+(//.*)?$", re.IGNORECASE)
REF = re.compile(r"[?&]ref=([^&]+)")
PINNED_REF = re.compile(r"^(v?\d+(\.\d+)*([-+][\w.]+)?|[0-9a-f]{7,40})$")


def module_problem(source: str, version: Any) -> str | None:
    """Why a module source is not pinned, or None when it is (or cannot be told)."""
    if source.startswith(LOCAL):
        return None
    if GIT.match(source):
        ref = REF.search(source)
        if ref is None:
            return "has no ?ref= pin"
        if not PINNED_REF.match(ref.group(1)):
            return f"pins ref={ref.group(1)}, a branch name rather than a tag or commit"
        return None
    if REGISTRY.match(source) and (version is None or (isinstance(version, str) and not version.strip())):
        return "has no version"
    return None


def provider_requirements(resource: Resource) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """(path, provider name, requirement) from a `terraform` block's `required_providers`."""
    blocks = resource.properties.get("required_providers")
    for index, item in enumerate(blocks if isinstance(blocks, list) else [blocks] if isinstance(blocks, Mapping) else []):
        if isinstance(item, Mapping):
            for name, requirement in item.items():
                yield ("required_providers", index, name), str(name), requirement


class TerraformPinning(Rule):
    """Terraform modules must be pinned to a version or ref, and providers need a version constraint.

    An unpinned module or provider changes under the configuration without a commit: the next
    `terraform init` on a CI runner pulls whatever was published last, so the plan reviewed
    in the pull request is not the plan applied. Registry modules need `version`; git modules
    need `?ref=` naming a version tag or a commit (a branch such as `main` is not a pin; unlike
    checkov's CKV_TF_1, a version tag is accepted); local modules are pinned by the repository
    itself. Every entry of `required_providers` needs a `version`
    constraint. Terraform only; a hygiene rule, a warning by default.

    Terraform inputs present module calls as resources of type `module` (arguments `source`,
    `version`) and `terraform` blocks as resources of type `terraform`.

    **CloudFormation:** not applicable (CloudFormation has no modules or providers to pin).

    **CDK:** not applicable; pin construct libraries in `package.json` and commit the lock file.

    **Terraform:**
    ```hcl
    module "vpc" {
      source  = "terraform-aws-modules/vpc/aws"
      version = "5.8.1"
    }
    terraform {
      required_providers {
        aws = { source = "hashicorp/aws", version = "~> 5.60" }
      }
    }
    ```
    """

    id = "IDP-TF-001"
    severity = Severity.WARNING
    security_severity = 4.0
    resource_types = ("module", "terraform")
    tags = ("supply-chain", "terraform", "paved-road", "NIST-800-53-CM-2", "NIST-800-53-SR-3")
    aliases = ("CKV_TF_1", "CKV_TF_2")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        if resource.type == "module":
            source = resource.properties.get("source")
            if isinstance(source, str) and source is not UNKNOWN:
                problem = module_problem(source, resource.properties.get("version"))
                if problem:
                    yield Violation(("source",), f"{resource.id.name}: module source {source} {problem}.")
            return
        for path, name, requirement in provider_requirements(resource):
            version = requirement.get("version") if isinstance(requirement, Mapping) else requirement
            if version is UNKNOWN:
                continue
            if not isinstance(version, str) or not version.strip():
                yield Violation(path, f"{resource.id.name}: provider {name} has no version constraint.")
