from __future__ import annotations

import re
from typing import Any, Iterator

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import TASK_DEFINITIONS, container_name, containers, field, option

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def split_image(image: str) -> tuple[str, str | None]:
    """(repository with registry, tag or None); a digest counts as a tag."""
    if DIGEST.search(image):
        return image.split("@", 1)[0], image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return image.rsplit(":", 1)[0], image.rsplit(":", 1)[1]
    return image, None


def registry_of(repository: str) -> str:
    """The registry host: the first path part when it looks like a host, else Docker Hub."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def approved(repository: str, registries: list[str]) -> bool:
    """An entry approves a registry host (`123.dkr.ecr.eu-west-1.amazonaws.com`), a prefix (`ghcr.io/acme/`), or `*`."""
    for entry in registries:
        if entry == "*" or entry == registry_of(repository) or repository.startswith(entry if entry.endswith("/") else entry + "/"):
            return True
        if "*" in entry and re.fullmatch(re.escape(entry).replace(r"\*", "[^/]*"), registry_of(repository)):
            return True
    return False


class ImagePinning(Rule):
    """Container images must be pinned to a version or digest, from an approved registry.

    `:latest` (or no tag, which means `latest`) deploys whatever was pushed last: two tasks of
    one service can run different code, a rollback redeploys the broken image, and nobody can
    say what ran at the time of an incident. Pin a version tag (better: an immutable ECR tag or
    an `@sha256:` digest). When the configuration names approved registries
    (`images.approved_registries`, hosts or prefixes, `*` wildcards in the host), images from
    anywhere else are findings too; without that setting only pinning is checked. Images built
    by CDK (`ContainerImage.fromAsset`) are only known at deploy time and always pass.

    **CloudFormation:** `Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2`

    **CDK:** `ecs.ContainerImage.fromEcrRepository(repo, '1.4.2')` (or `fromAsset`).

    **Terraform:** `image = "${aws_ecr_repository.app.repository_url}:1.4.2"` in `container_definitions`.
    """

    id = "IDP-ECS-003"
    severity = Severity.ERROR
    security_severity = 5.0
    resource_types = TASK_DEFINITIONS
    tags = ("reliability", "supply-chain", "paved-road", "ecs", "NIST-800-53-CM-2", "NIST-800-53-SR-3")
    aliases = ()  # checkov has no image-tag check for task definitions

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        registries = option(ctx, "images", "approved_registries", default=[]) or []
        for path, container in containers(resource):
            key, raw = field(container, "Image")
            image = ctx.resolve(raw)
            if image is UNKNOWN or not isinstance(image, str) or "${" in image:
                continue
            where: PropertyPath = (*path, key) if len(path) > 1 else path
            yield from self._image(resource, container_name(container, path), image.strip(), registries, where)

    def _image(self, resource: Resource, container: str, image: str, registries: list[Any], where: PropertyPath) -> Iterator[Violation]:
        repository, tag = split_image(image)
        if tag is None or tag == "latest":
            yield Violation(where, f"{resource.id.name}: {container} runs {image}, which is not pinned to a version or digest.")
        if registries and not approved(repository, [str(r) for r in registries]):
            yield Violation(where, f"{resource.id.name}: {container} pulls {image} from {registry_of(repository)}, which is not an approved registry.")
