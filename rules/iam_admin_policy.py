from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

from scanner.model import PropertyPath, Resource, Severity
from scanner.rule import UNKNOWN, Rule, RuleContext, Violation
from scanner.terraform_helpers import POLICY_DOCUMENT, blocks, is_terraform, linked, policy_document, policy_from_data_source

INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
)


TF_DOCUMENT_TYPES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
TF_INLINE_POLICY_TYPES = ("aws_iam_role",)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(resource: Resource) -> Iterator[tuple[PropertyPath, Any]]:
    if resource.type in DOCUMENT_TYPES:
        yield ("PolicyDocument",), resource.properties.get("PolicyDocument")
        return
    policies = resource.properties.get("Policies", [])
    for index, policy in enumerate(policies if isinstance(policies, list) else []):
        if isinstance(policy, Mapping):
            yield ("Policies", index, "PolicyDocument"), policy.get("PolicyDocument")


def terraform_policy_documents(resource: Resource, ctx: RuleContext) -> Iterator[tuple[PropertyPath, Any]]:
    """`policy` of the policy resources, `inline_policy` blocks of aws_iam_role; each may be a
    JSON string, `jsonencode(...)`, or an `aws_iam_policy_document`'s `json`."""
    if resource.type in TF_DOCUMENT_TYPES:
        yield ("policy",), policy_document(resource, "policy", ctx)
        return
    for index, block in blocks(resource.properties, "inline_policy"):
        document = policy_document(resource, "policy", ctx, block)
        if document is UNKNOWN:
            # The block's own references (data sources whose JSON has unknown parts).
            for data_source in linked(resource, "inline_policy", (POLICY_DOCUMENT,), ctx):
                yield ("inline_policy", index, "policy"), policy_from_data_source(data_source.properties)
            continue
        yield ("inline_policy", index, "policy"), document


def statements(document: Any) -> Iterator[tuple[PropertyPath, Mapping[str, Any]]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    if not isinstance(document, Mapping):
        return
    statement = document.get("Statement")
    if isinstance(statement, Mapping):
        yield ("Statement",), statement
    elif isinstance(statement, list):
        for index, item in enumerate(statement):
            if isinstance(item, Mapping):
                yield ("Statement", index), item


def grants_admin(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    every_action = "*" in as_list(statement.get("Action")) or "NotAction" in statement
    every_resource = "*" in as_list(statement.get("Resource"))
    return every_action and every_resource


class AdminPolicy(Rule):
    """IAM policies must not allow every action on every resource.

    A statement with `Effect: Allow`, `Action: "*"` (or any `NotAction`) and `Resource: "*"`
    is administrator access: whoever holds it can change the guardrails that protect every
    other workload in the account, including this scanner's. Grant the actions the workload
    calls, on the resources it owns. `Deny` statements are not affected.

    **CloudFormation:** list the actions and resource ARNs in the statement.

    **CDK:** use the grant methods, which scope both:
    ```ts
    bucket.grantRead(taskRole);
    table.grantReadWriteData(taskRole);
    ```

    **Terraform:**
    ```hcl
    data "aws_iam_policy_document" "app" {
      statement {
        actions   = ["s3:GetObject"]
        resources = ["${aws_s3_bucket.assets.arn}/*"]
      }
    }
    ```
    """

    id = "IDP-IAM-001"
    severity = Severity.ERROR
    security_severity = 9.0
    resource_types = INLINE_POLICY_TYPES + DOCUMENT_TYPES + TF_DOCUMENT_TYPES + TF_INLINE_POLICY_TYPES
    tags = ("security", "iam", "CIS-AWS-1.16", "NIST-800-53-AC-6")
    aliases = ("CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_286")

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        documents = terraform_policy_documents(resource, ctx) if is_terraform(resource) else policy_documents(resource)
        for document_path, document in documents:
            for statement_path, statement in statements(document):
                if grants_admin(statement):
                    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
                    yield Violation(
                        (*document_path, *statement_path),
                        f"{resource.id.name} allows every action on every resource ('*' on '*').",
                        f"Sid={sid}" if isinstance(sid, str) and sid else "",
                    )
