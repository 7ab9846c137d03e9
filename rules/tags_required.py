from __future__ import annotations

from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from scanner.terraform_helpers import base_address, instances_of_block

from .common import TAGGABLE, option, tag_path, tags_of, taggable

DEFAULT_REQUIRED = ("owner", "cost-center")
MAX_LISTED = 10


class RequiredTags(Rule):
    """Taggable resources must carry the organisation's required tags (default: owner, cost-center).

    Cost allocation, incident routing and clean-up all start from tags: an untagged bucket
    has no owner to ask and no budget to charge. Tags are read from the resource itself, from
    the CDK stack's tags in the cloud assembly manifest and from the Terraform provider's
    `default_tags` (of the provider configuration the resource uses: `provider = aws.x`, or
    what its module call passed). Checked: the CloudFormation types listed in the rule, every
    AWS provider type that takes `tags` (checkov's `aws_taggable` data, from the provider
    schema) and any resource that sets tags itself. A Terraform block with `count` or
    `for_each` is reported once, naming its failing instances. The list is `tags.required` in the configuration. Keys are compared
    exactly (AWS tag keys are case-sensitive and cost-allocation tags are activated per key);
    a key that differs only in case is named in the message. Tags only known at deploy time
    pass. A hygiene rule: a warning by default.

    **CloudFormation:**
    ```yaml
    Tags:
      - {Key: owner, Value: team-payments}
      - {Key: cost-center, Value: CC-1234}
    ```

    **CDK:** `Tags.of(app).add('owner', 'team-payments'); Tags.of(app).add('cost-center', 'CC-1234');`

    **Terraform:**
    ```hcl
    provider "aws" {
      default_tags { tags = { owner = "team-payments", cost-center = "CC-1234" } }
    }
    ```
    """

    id = "IDP-TAG-001"
    severity = Severity.WARNING
    security_severity = 2.0
    resource_types = TAGGABLE  # and any resource that sets Tags itself (see applies_to)
    tags = ("finops", "tagging", "paved-road", "NIST-800-53-CM-8")
    scope_wide = True  # a stack without the tag: one finding, fixed by a stack tag
    aliases = ()  # checkov's tag checks (CKV_AWS_* per service) do not take an organisation's list

    def applies_to(self, resource: Resource) -> bool:
        return taggable(resource)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        hints = self._missing(resource, ctx)
        if not hints:
            return
        siblings = instances_of_block(resource, ctx)
        if len(siblings) <= 1:
            yield Violation(tag_path(resource, hints[0][0]), f"{resource.id.name} lacks the required tags: {', '.join(h for _, h in hints)}.")
            return
        # A counted or for_each block: one finding, on its first failing instance, naming them all.
        failing = [s for s in siblings if s is resource or (self.applies_to(s) and self._missing(s, ctx))]
        if failing[0] is not resource:
            return
        shown = ", ".join(s.id.name for s in failing[:MAX_LISTED]) + (f" and {len(failing) - MAX_LISTED} more" if len(failing) > MAX_LISTED else "")
        yield Violation(tag_path(resource, hints[0][0]),
                        f"{base_address(resource.id.name)} lacks the required tags: {', '.join(h for _, h in hints)} "
                        f"({len(failing)} of its {len(siblings)} instances: {shown}).")

    @staticmethod
    def _missing(resource: Resource, ctx: RuleContext) -> list[tuple[str, str]]:
        """(key, how to say it) of each required tag the resource lacks."""
        tags = tags_of(resource, ctx)
        if tags is None:
            return []
        required = [str(key) for key in option(ctx, "tags", "required", default=DEFAULT_REQUIRED)]
        by_case = {key.casefold(): key for key in tags}
        missing = [key for key in required if tags.get(key) is not UNKNOWN and not str(tags.get(key) or "").strip()]
        return [(key, f"{key} (found '{by_case[key.casefold()]}')" if key.casefold() in by_case and key not in tags else key) for key in missing]
