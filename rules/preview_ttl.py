from __future__ import annotations

import datetime
from typing import Any, Iterator

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

from .common import TAGGABLE, option, tag_path, tags_of, taggable

ENVIRONMENT_TAG = "environment"
PREVIEW_VALUES = ("preview", "ephemeral")
EXPIRY_TAGS = ("ttl", "expires-at", "expires")
MAX_DAYS = 14


def parse_expiry(text: str) -> datetime.datetime | None:
    """An ISO-8601 date (end of that day, UTC) or date-time (UTC when no offset is given)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            return datetime.datetime.combine(day, datetime.time.max, datetime.timezone.utc)
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def now(ctx: RuleContext) -> datetime.datetime:
    configured = option(ctx, "ttl", "as_of")
    if isinstance(configured, datetime.datetime):
        return configured if configured.tzinfo else configured.replace(tzinfo=datetime.timezone.utc)
    if isinstance(configured, datetime.date):
        configured = configured.isoformat()
    if isinstance(configured, str):
        parsed = datetime.datetime.fromisoformat(configured)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc)


def _lookup(tags: dict[str, Any], names: list[str]) -> tuple[str, Any] | None:
    wanted = [name.casefold() for name in names]
    for key, value in tags.items():
        if key.casefold() in wanted:
            return key, value
    return None


class PreviewEnvironmentTtl(Rule):
    """Preview environments must carry an expiry tag that is in the future and within the maximum TTL.

    Preview and ephemeral environments are created per pull request and are meant to die with
    it; the platform's Auto-TTL reaper deletes them when their expiry tag has passed. Without
    the tag (or with a date the reaper cannot read) they run, and cost, forever; with an
    expiry years ahead they defeat the reaper. A resource is a preview resource when its tag
    `environment` (`ttl.environment_tag`) is `preview` or `ephemeral` (`ttl.preview_values`),
    keys and values compared case-insensitively; it must carry `ttl`, `expires-at` or `expires`
    (`ttl.expiry_tags`) holding an ISO-8601 date or date-time that is in the future and at most
    14 days ahead (`ttl.max_days`). Missing, unparseable, past and too-far expiries each have
    their own message. An expiry only known at deploy time (a parameter the pipeline passes)
    passes. `ttl.as_of` pins "now" for reproducible scans.

    **CloudFormation:** `Tags: [{Key: environment, Value: preview}, {Key: expires-at, Value: !Ref ExpiresAt}]`

    **CDK:** `Tags.of(stack).add('expires-at', expiry.toISOString().slice(0, 10));` (the pipeline computes `expiry`).

    **Terraform:**
    ```hcl
    provider "aws" {
      default_tags { tags = { environment = "preview", expires-at = var.expires_at } }
    }
    ```
    """

    id = "IDP-TTL-001"
    severity = Severity.ERROR
    security_severity = 3.0
    resource_types = TAGGABLE  # and any resource that sets Tags itself (see applies_to)
    tags = ("finops", "lifecycle", "paved-road")
    scope_wide = True  # a stack without the tag: one finding, fixed by a stack tag
    aliases = ()  # no checkov equivalent

    def applies_to(self, resource: Resource) -> bool:
        return taggable(resource)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        tags = tags_of(resource, ctx)
        if tags is None or not self._is_preview(tags, ctx):
            return
        expiry = _lookup(tags, list(option(ctx, "ttl", "expiry_tags", default=EXPIRY_TAGS)))
        name = resource.id.name
        if expiry is None:
            yield Violation(tag_path(resource, "")[:1], f"{name} is a preview environment without an expiry tag ({', '.join(option(ctx, 'ttl', 'expiry_tags', default=EXPIRY_TAGS))}).")
            return
        key, value = expiry
        if value is UNKNOWN:
            return
        path = tag_path(resource, key)
        moment = parse_expiry(str(value)) if isinstance(value, (str, datetime.date)) else None
        if moment is None:
            yield Violation(path, f"{name} has an expiry tag {key}={value!s} that is not an ISO-8601 date or date-time.")
            return
        current, max_days = now(ctx), int(option(ctx, "ttl", "max_days", default=MAX_DAYS))
        if moment <= current:
            yield Violation(path, f"{name} expired at {value}: the preview environment should already be gone.")
        elif moment - current > datetime.timedelta(days=max_days):
            yield Violation(path, f"{name} expires at {value}, more than {max_days} days ahead.")

    @staticmethod
    def _is_preview(tags: dict[str, Any], ctx: RuleContext) -> bool:
        environment = _lookup(tags, [str(option(ctx, "ttl", "environment_tag", default=ENVIRONMENT_TAG))])
        values = [str(v).casefold() for v in option(ctx, "ttl", "preview_values", default=PREVIEW_VALUES)]
        return environment is not None and isinstance(environment[1], str) and environment[1].casefold() in values
