from __future__ import annotations

from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import TAGGABLE, option, tag_path, tags_of, taggable

DEFAULT_REQUIRED = ("owner", "cost-center")


class RequiredTags(Rule):
    """Taggable resources must carry the organisation's required tags (default: owner, cost-center).

    Cost allocation, incident routing and clean-up all start from tags: an untagged bucket
    has no owner to ask and no budget to charge. Tags are read from the resource itself, from
    the CDK stack's tags in the cloud assembly manifest and from the Terraform provider's
    `default_tags`. The list is `tags.required` in the configuration. Keys are compared
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
        tags = tags_of(resource, ctx)
        if tags is None:
            return
        required = [str(key) for key in option(ctx, "tags", "required", default=DEFAULT_REQUIRED)]
        by_case = {key.casefold(): key for key in tags}
        missing = [key for key in required if tags.get(key) is not UNKNOWN and not str(tags.get(key) or "").strip()]
        if not missing:
            return
        hints = [f"{key} (found '{by_case[key.casefold()]}')" if key.casefold() in by_case and key not in tags else key for key in missing]
        yield Violation(tag_path(resource, missing[0]), f"{resource.id.name} lacks the required tags: {', '.join(hints)}.")
