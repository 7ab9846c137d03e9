from __future__ import annotations

from typing import Iterator, Mapping

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation

PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")
BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


class PublicBucket(Rule):
    """S3 buckets must not be public.

    A public ACL lets anyone on the internet read (or write) the bucket; switching off a
    public access block flag lets a later ACL or bucket policy do the same. Since April 2023
    new buckets block public access by default, so a bucket without
    `PublicAccessBlockConfiguration` is compliant; a configuration that is present but leaves
    any of the four flags off is not (omitted flags default to `false`). Serve public
    content through CloudFront with an origin access control instead.

    **CloudFormation:** remove `AccessControl: PublicRead`, and set all four flags of
    `PublicAccessBlockConfiguration` to `true`.

    **CDK:**
    ```ts
    new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, // and no publicReadAccess: true
    });
    ```

    **Terraform:**
    ```hcl
    resource "aws_s3_bucket_public_access_block" "assets" {
      bucket                  = aws_s3_bucket.assets.id
      block_public_acls       = true
      block_public_policy     = true
      ignore_public_acls      = true
      restrict_public_buckets = true
    }
    ```
    """

    id = "IDP-DATA-001"
    severity = Severity.ERROR
    security_severity = 8.2
    resource_types = ("AWS::S3::Bucket",)
    tags = ("security", "data", "s3", "CIS-AWS-2.1.4", "NIST-800-53-AC-3")
    aliases = ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_20", "CKV_AWS_57")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        acl = ctx.resolve(resource.properties.get("AccessControl"))
        if acl in PUBLIC_ACLS:
            yield Violation(("AccessControl",), f"{resource.id.name} has the public ACL {acl}.")
        block = resource.properties.get("PublicAccessBlockConfiguration")
        if not isinstance(block, Mapping):
            return
        off = [flag for flag in BLOCK_FLAGS if _is_off(ctx.resolve(block.get(flag, False)))]
        if off:
            path = ("PublicAccessBlockConfiguration", off[0]) if off[0] in block else ("PublicAccessBlockConfiguration",)
            yield Violation(path, f"{resource.id.name} leaves public access block flags off: {', '.join(off)}.")


def _is_off(value: object) -> bool:
    return value is not UNKNOWN and str(value).lower() != "true"
