from __future__ import annotations

from typing import Iterator, Mapping

from scanner.model import Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation
from scanner.terraform_helpers import is_terraform, linked

PUBLIC_ACLS = ("PublicRead", "PublicReadWrite", "AuthenticatedRead")
BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
TF_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
TF_BLOCK_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
TF_BUCKET_PARTS = ("aws_s3_bucket_acl", "aws_s3_bucket_public_access_block")


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

    **Terraform:** a public `acl` (on `aws_s3_bucket_acl`, or inline on `aws_s3_bucket` with
    provider v3) and an `aws_s3_bucket_public_access_block` with a flag off are reported where
    they are written, naming the bucket they refer to. Block everything:
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
    resource_types = ("AWS::S3::Bucket", "aws_s3_bucket", *TF_BUCKET_PARTS)
    tags = ("security", "data", "s3", "CIS-AWS-2.1.4", "NIST-800-53-AC-3")
    aliases = ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_20", "CKV_AWS_57")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        if is_terraform(resource):
            yield from self.check_terraform(resource, ctx)
            return
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


    def check_terraform(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        """A bucket's inline `acl` (AWS provider v3), or the ACL and public access block
        resources, each reported where it is written and naming the bucket it is linked to."""
        properties = resource.properties
        if resource.type in ("aws_s3_bucket", "aws_s3_bucket_acl"):
            acl = properties.get("acl")
            if acl in TF_PUBLIC_ACLS:
                yield Violation(("acl",), f"{_subject(resource, ctx)} grants the public ACL {acl}.")
            return
        off = [flag for flag in TF_BLOCK_FLAGS if _is_off(properties.get(flag, False))]
        if off:
            path = (off[0],) if off[0] in properties else ()
            yield Violation(path, f"{_subject(resource, ctx)} leaves public access block flags off: {', '.join(off)}.")


def _subject(resource: Resource, ctx: RuleContext) -> str:
    """The resource, and the bucket an ACL or access block belongs to (read only to say so:
    the verdict does not depend on it)."""
    if resource.type not in TF_BUCKET_PARTS:
        return resource.id.name
    buckets = [b.id.name for b in linked(resource, "bucket", ("aws_s3_bucket",), ctx)]
    return f"{resource.id.name} (bucket {', '.join(buckets)})" if buckets else resource.id.name


def _is_off(value: object) -> bool:
    return value is not UNKNOWN and str(value).lower() != "true"
