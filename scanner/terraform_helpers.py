"""Terraform helpers shared by the inputs and the rules (HCL modules and plan JSON alike).

Rules read Terraform resources (see `Resource`) through these, so that one rule has one
reader per format and the Terraform reader stays short:

- `is_terraform(resource)`: the resource comes from an HCL module or a plan.
- `references(resource, argument)`: addresses (without instance keys) of the resources and
  data sources an argument refers to, e.g. `bucket = aws_s3_bucket.b.id` -> `aws_s3_bucket.b`.
- `linked(resource, argument, types, ctx)`: the resources of `types` an argument refers to.
- `referencing(target, types, argument, ctx)`: the resources of `types` whose `argument`
  refers to `target` (a bucket's `aws_s3_bucket_public_access_block`, say).
- `policy_document(resource, argument, ctx)`: an IAM policy argument as a mapping, whether
  written as a JSON string, `jsonencode(...)` or `data.aws_iam_policy_document.x.json`
  (a document with unknown parts is still read: its unknown leaves are `UNKNOWN`).
- `policy_from_data_source(properties)`: the IAM JSON shape of an
  `aws_iam_policy_document` data source's arguments.
- `blocks(properties, name)`: a nested block's mappings (a missing block is `[]`).
- `instances_of_block(resource, ctx)`: every instance of the block (`count`/`for_each`) a
  resource comes from, so a rule can report a block once.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from scanner.model import Resource
from scanner.rule import UNKNOWN

if TYPE_CHECKING:
    from scanner.rule import RuleContext

KINDS = ("terraform", "terraform-plan")
DATA_PREFIX = "data."
POLICY_DOCUMENT = "data.aws_iam_policy_document"
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")


def is_terraform(resource: Resource) -> bool:
    return resource.id.kind == "terraform"


def base_address(address: str) -> str:
    """`module.a["x"].aws_s3_bucket.b[0]` -> `module.a.aws_s3_bucket.b`."""
    return _INSTANCE_KEY.sub("", address)


def instances_of_block(resource: Resource, ctx: RuleContext) -> list[Resource]:
    """Every instance of the Terraform block a resource instance comes from (`count`,
    `for_each`, or a counted module), in the artifact's order; just the resource otherwise."""
    if resource.id.kind not in KINDS or "[" not in resource.id.name:
        return [resource]
    groups = _blocks_of(ctx.resources)
    return groups.get(base_address(resource.id.name), [resource])


_GROUPED: list[tuple[Sequence[Resource], dict[str, list[Resource]]]] = []


def _blocks_of(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    """Resources by block address, for one artifact's resources (the last artifact's kept)."""
    if _GROUPED and _GROUPED[0][0] is resources:
        return _GROUPED[0][1]
    groups: dict[str, list[Resource]] = {}
    for item in resources:
        if item.id.kind in KINDS and item.metadata.get("mode") != "configuration":
            groups.setdefault(base_address(item.id.name), []).append(item)
    _GROUPED[:] = [(resources, groups)]
    return groups


def references(resource: Resource, argument: str) -> tuple[str, ...]:
    refs: Mapping[str, Sequence[str]] = resource.metadata.get("references", {})
    return tuple(refs.get(argument, ()))


def linked(resource: Resource, argument: str, types: Sequence[str], ctx: RuleContext) -> list[Resource]:
    wanted = set(references(resource, argument))
    return [r for r in ctx.resources if r.type in types and base_address(r.id.name) in wanted]


def referencing(target: Resource, types: Sequence[str], argument: str, ctx: RuleContext) -> list[Resource]:
    address = base_address(target.id.name)
    return [r for r in ctx.resources if r.type in types and address in references(r, argument)]


def blocks(properties: Mapping[str, Any], name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    value = properties.get(name, [])
    if isinstance(value, Mapping):  # a plan may hold a single nested object
        yield 0, value
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _as_list(value: Any) -> Any:
    if value is None:
        return None
    return value if isinstance(value, list) or value is UNKNOWN else [value]


def policy_from_data_source(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The IAM policy JSON shape of an `aws_iam_policy_document` (what its `json` holds)."""
    statements = []
    for _, block in blocks(properties, "statement"):
        statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
        for argument, key in (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"),
                              ("resources", "Resource"), ("not_resources", "NotResource")):
            if block.get(argument) not in (None, [], ""):  # a plan lists unset arguments empty
                statement[key] = block[argument] if argument == "sid" else _as_list(block[argument])
        for argument, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            principals: dict[str, Any] = {}
            for _, principal in blocks(block, argument):
                kind = principal.get("type", UNKNOWN)
                if kind is UNKNOWN:
                    principals["?"] = UNKNOWN
                else:
                    principals.setdefault(str(kind), []).extend(_as_list(principal.get("identifiers")) or [])
            if principals:
                statement[key] = principals
        statements.append(statement)
    return {"Version": properties.get("version", "2012-10-17"), "Statement": statements}


def decode_policy(value: Any) -> Any:
    """A policy given as JSON text, or already as a structure; UNKNOWN when unreadable."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return UNKNOWN
    return value if isinstance(value, Mapping) else UNKNOWN


def policy_document(resource: Resource, argument: str, ctx: RuleContext, properties: Mapping[str, Any] | None = None) -> Any:
    """The policy in `argument`, following a reference to an `aws_iam_policy_document`
    when the value itself could not be known (its data source has unknown parts)."""
    source = resource.properties if properties is None else properties
    document = decode_policy(source.get(argument))
    if document is not UNKNOWN or properties is not None:
        return document
    for data_source in linked(resource, argument, (POLICY_DOCUMENT,), ctx):
        return policy_from_data_source(data_source.properties)
    return UNKNOWN
