from __future__ import annotations

from typing import Iterator

from scanner.model import Resource, Severity
from scanner.rule import Rule, RuleContext, Violation

KINDS = {
    "AWS::IAM::User": "an IAM user",
    "AWS::IAM::AccessKey": "a long-lived access key",
    "aws_iam_user": "an IAM user",
    "aws_iam_access_key": "a long-lived access key",
    "aws_iam_user_login_profile": "a console password for an IAM user",
}


class IamUsersAndKeys(Rule):
    """IAM users and long-lived access keys must not be created; people use SSO, workloads use roles.

    The platform signs people in through IAM Identity Center (SSO) and gives workloads IAM
    roles, whose credentials are temporary and rotate by themselves. An IAM user's password or
    access key lives until someone deletes it, is copied into laptops, CI variables and chat
    logs, and is the most common root cause of AWS account compromises. Every `AWS::IAM::User`,
    `AWS::IAM::AccessKey` (and Terraform's `aws_iam_user`, `aws_iam_access_key`,
    `aws_iam_user_login_profile`) is a finding; a genuine exception (a third-party SaaS that
    only accepts keys) is waived with a suppression that names its owner and expiry.

    **CloudFormation:** delete the user and key; grant the workload an `AWS::IAM::Role` it assumes
    (ECS task role, Lambda execution role, or an OIDC-federated role for CI).

    **CDK:**
    ```ts
    const role = new iam.Role(this, 'Deploy', {
      assumedBy: new iam.WebIdentityPrincipal(githubOidc.openIdConnectProviderArn),
    }); // instead of new iam.User(...) and new iam.AccessKey(...)
    ```

    **Terraform:**
    ```hcl
    resource "aws_iam_role" "ci" {
      assume_role_policy = data.aws_iam_policy_document.github_oidc.json
    } # instead of aws_iam_user + aws_iam_access_key
    ```
    """

    id = "IDP-IAM-002"
    severity = Severity.ERROR
    security_severity = 7.0
    resource_types = tuple(KINDS)
    tags = ("security", "iam", "CIS-AWS-1.12", "NIST-800-53-IA-2", "NIST-800-53-AC-2")
    aliases = ("CKV_AWS_273",)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        yield Violation((), f"{resource.id.name} is {KINDS[resource.type]}: use SSO for people and IAM roles for workloads.")
