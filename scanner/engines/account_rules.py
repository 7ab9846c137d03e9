"""The account checks' ids, severities, titles and help: one table, read by the schema engine."""

from __future__ import annotations

from scanner.model import RuleMeta, Severity

ENGINE = "schema"

_FORMAT = "\n\nThe format is in the README (\"Account requests\") and in `scanner/schemas/accounts-v1.schema.json`."

_RULES: dict[str, tuple[Severity, str, str]] = {
    "IDP-ACCT-001": (Severity.ERROR, "Account request misses a required field",
                     "Account vending needs every required field to create the account without a human in the loop: "
                     "name, email, organizational_unit, environment, owner, cost_center, regions and budget_usd (v1); "
                     "name, email, organizationalUnit (LZA); account_full_name, organizational_unit_path, email (ADF)."
                     "\n\n**Fix:** add the field to the account entry." + _FORMAT),
    "IDP-ACCT-002": (Severity.ERROR, "Account request has an unknown field",
                     "A field the format does not know is usually a misspelt one (`emial`), whose value is then silently "
                     "lost.\n\n**Fix:** correct the spelling, or move extra information to `tags`." + _FORMAT),
    "IDP-ACCT-003": (Severity.ERROR, "Account field has the wrong type or shape",
                     "A value does not have the type or shape the vending pipeline expects (a name with capitals or "
                     "spaces, a budget written as text, a region that is not a region name).\n\n**Fix:** write the value "
                     "as the message says." + _FORMAT),
    "IDP-ACCT-004": (Severity.ERROR, "Account name is not unique",
                     "Account names identify accounts in pipelines, dashboards and alerts; two accounts with one name "
                     "make every one of them ambiguous. Names are compared across all account files scanned "
                     "(for LZA, within one accounts-config.yaml).\n\n**Fix:** choose another name."),
    "IDP-ACCT-005": (Severity.ERROR, "Account e-mail is not unique",
                     "AWS Organizations refuses to create an account whose root e-mail is already used by another "
                     "account, so the request would fail after approval.\n\n**Fix:** use a distinct address, e.g. "
                     "`aws+<account-name>@<domain>`."),
    "IDP-ACCT-006": (Severity.ERROR, "Account alias is not unique",
                     "IAM account aliases are globally unique; two requests with the same alias cannot both be "
                     "fulfilled.\n\n**Fix:** choose another alias (usually the account name)."),
    "IDP-ACCT-007": (Severity.ERROR, "Account e-mail is not a valid address",
                     "The root e-mail receives the account's password reset and security notices; a malformed address "
                     "makes the account unrecoverable.\n\n**Fix:** write one address `local@domain.tld`, no spaces."),
    "IDP-ACCT-008": (Severity.ERROR, "Account e-mail domain is not allowed",
                     "Root e-mails must be in a domain the company controls (`accounts.email_domains`), or whoever owns "
                     "the mailbox owns the account.\n\n**Fix:** use an address in one of the allowed domains."),
    "IDP-ACCT-009": (Severity.ERROR, "Organizational unit does not exist",
                     "The account is placed in an OU that the organization does not have (`accounts.organizational_units`, "
                     "or the OUs of the LZA `organization-config.yaml` next to the file), so vending would fail or place "
                     "it outside the guardrails of its OU.\n\n**Fix:** use one of the listed OUs."),
    "IDP-ACCT-010": (Severity.ERROR, "Region is not allowed",
                     "Accounts may only be opened for the regions the platform supports (`accounts.allowed_regions`, "
                     "else `regions.allowed`): guardrails, logging and data residency are set up there only."
                     "\n\n**Fix:** remove the region or ask the platform team to support it."),
    "IDP-ACCT-011": (Severity.ERROR, "Environment is not allowed",
                     "`environment` decides the OU guardrails, the expiry rules and who is paged; it must be one of "
                     "`accounts.environments` (default sandbox, dev, test, staging, prod, preview).\n\n**Fix:** use one "
                     "of the allowed values."),
    "IDP-ACCT-012": (Severity.ERROR, "Cost center has the wrong format",
                     "Finance allocates the account's bill by its cost center; one that does not match "
                     "`accounts.cost_center_pattern` (default `^CC-[0-9]{4}$`) cannot be allocated.\n\n**Fix:** write "
                     "the cost center as finance issued it, e.g. `CC-1234`."),
    "IDP-ACCT-013": (Severity.ERROR, "Budget is not positive",
                     "`budget_usd` sets the monthly budget alarm; zero or a negative number would alarm at once or never."
                     "\n\n**Fix:** give the expected monthly spend in US dollars."),
    "IDP-ACCT-014": (Severity.ERROR, "Temporary account has no valid expiry",
                     "Sandbox and preview accounts (every environment in `accounts.max_ttl_days`) are closed "
                     "automatically at `expires_at`; without a readable date they live, and cost, forever."
                     "\n\n**Fix:** add `expires_at: YYYY-MM-DD`."),
    "IDP-ACCT-015": (Severity.ERROR, "Expiry is in the past or beyond the maximum lifetime",
                     "A temporary account must expire in the future and within `accounts.max_ttl_days` for its "
                     "environment (default sandbox 90, preview 14 days), counted from today (or `--as-of`)."
                     "\n\n**Fix:** choose an earlier date, or request a longer-lived environment."),
    "IDP-ACCT-016": (Severity.ERROR, "Production account does not name exactly one workload",
                     "Blast radius: unrelated production workloads must not share an account, so a prod account names "
                     "exactly one `workload`.\n\n**Fix:** set `workload` to the one workload; request another account "
                     "for the others."),
    "IDP-ACCT-017": (Severity.ERROR, "LZA mandatory account is missing",
                     "Landing Zone Accelerator needs the Management, LogArchive and Audit accounts in "
                     "`mandatoryAccounts`; without them the pipeline fails.\n\n**Fix:** add the missing mandatory account."),
    "IDP-ACCT-018": (Severity.ERROR, "Existing account's e-mail changed",
                     "AWS Organizations cannot change an existing account's root e-mail safely from a vending pipeline; "
                     "the change would either fail or be read as a new account.\n\n**Fix:** keep the e-mail; change a "
                     "root e-mail through the documented manual process."),
    "IDP-ACCT-019": (Severity.ERROR, "Existing account's name changed",
                     "Account names are identities in pipelines and dashboards; a rename through the vending file is read "
                     "as a new account.\n\n**Fix:** keep the name, or rename through the platform team."),
    "IDP-ACCT-020": (Severity.ERROR, "Account removed",
                     "An account that disappears from the account files is not closed, but it falls out of every "
                     "guardrail that is driven from them. Closing an account is a separate, deliberate process."
                     "\n\n**Fix:** restore the entry, or suppress this finding with the closing ticket as reason."),
}


def account_rules() -> dict[str, RuleMeta]:
    return {
        rule_id: RuleMeta(id=rule_id, engine=ENGINE, severity=severity, title=title, help_markdown=help_text,
                          tags=("accounts", "account-vending"))
        for rule_id, (severity, title, help_text) in _RULES.items()
    }
