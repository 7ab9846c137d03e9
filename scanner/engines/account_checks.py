"""What an account request means, in code: the checks that depend on the platform's configuration
and on the other account files. Every check reads entries through `AccountEntry`, so each format
gets each check that its fields allow.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scanner.engines.account_violation import AccountViolation
from scanner.inputs.accounts import ADF, LZA, V1, AccountEntry, entries
from scanner.model import Artifact
from scanner.settings import Settings

DEFAULT_ENVIRONMENTS = ("sandbox", "dev", "test", "staging", "prod", "preview")
DEFAULT_COST_CENTER = r"^CC-[0-9]{4}$"
DEFAULT_MAX_TTL_DAYS: Mapping[str, int] = {"sandbox": 90, "preview": 14}
LZA_MANDATORY = ("Management", "LogArchive", "Audit")
PROD = "prod"

# One address, no spaces, a dotted domain: what AWS Organizations accepts, in practice.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$")


class PolicyError(Exception):
    """A value under `accounts:` in the configuration cannot be used."""


@dataclass(frozen=True)
class Policy:
    """The platform's account rules, from `accounts:` in the configuration (None: not checked)."""

    as_of: datetime.date
    organizational_units: tuple[str, ...] | None = None
    allowed_regions: tuple[str, ...] | None = None
    email_domains: tuple[str, ...] | None = None
    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    cost_center: re.Pattern[str] = re.compile(DEFAULT_COST_CENTER)
    max_ttl_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_TTL_DAYS))

    @classmethod
    def from_settings(cls, settings: Settings, today: datetime.date | None = None) -> Policy:
        accounts = settings.accounts
        regions = accounts.allowed_regions if accounts.allowed_regions is not None else settings.allowed_regions
        try:
            pattern = re.compile(accounts.cost_center_pattern if accounts.cost_center_pattern is not None else DEFAULT_COST_CENTER)
        except re.error as exc:
            raise PolicyError(f"accounts.cost_center_pattern does not compile: {exc}") from exc
        return cls(
            as_of=_as_of(settings.as_of if settings.as_of is not None else accounts.as_of, today),
            organizational_units=_tuple(accounts.organizational_units),
            allowed_regions=_tuple(regions),
            email_domains=tuple(d.lower() for d in accounts.email_domains) if accounts.email_domains else None,
            environments=accounts.environments or DEFAULT_ENVIRONMENTS,
            cost_center=pattern,
            max_ttl_days={**DEFAULT_MAX_TTL_DAYS, **accounts.max_ttl_days},
        )


def _tuple(value: Any) -> tuple[str, ...] | None:
    return tuple(str(v) for v in value) if value else None


def _as_of(value: Any, today: datetime.date | None) -> datetime.date:
    if value is None:
        return today or datetime.date.today()
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise PolicyError(f"as_of '{value}' is not a date (YYYY-MM-DD)") from exc


# --- one entry at a time ---------------------------------------------------------------------

def entry_violations(entry: AccountEntry, policy: Policy) -> Iterator[AccountViolation]:
    yield from _email(entry, policy)
    yield from _organizational_unit(entry, policy)
    if entry.artifact.kind == V1:
        yield from _v1_fields(entry, policy)


def _email(entry: AccountEntry, policy: Policy) -> Iterator[AccountViolation]:
    email = entry.value("email")
    if not isinstance(email, str):
        return  # missing or not text: the schema's finding
    match = _EMAIL.match(email.strip())
    if match is None:
        yield AccountViolation("IDP-ACCT-007", entry.locate("email"), entry.name, f"`email` {email!r} is not a valid e-mail address.")
        return
    domain = match["domain"].lower()
    if policy.email_domains is not None and domain not in policy.email_domains:
        yield AccountViolation("IDP-ACCT-008", entry.locate("email"), entry.name,
                        f"`email` domain `{domain}` is not allowed; use one of: {', '.join(policy.email_domains)} (accounts.email_domains).")


def _known_units(entry: AccountEntry, policy: Policy) -> tuple[str, ...] | None:
    """The OUs of an LZA organization-config.yaml beside the file win: they are the organization's own."""
    from_org_config: tuple[str, ...] = tuple(entry.artifact.context.get("organizational_units", ()))
    return from_org_config or policy.organizational_units


def _organizational_unit(entry: AccountEntry, policy: Policy) -> Iterator[AccountViolation]:
    unit, known = entry.value("ou"), _known_units(entry, policy)
    if not isinstance(unit, str) or not unit.strip() or known is None:
        return
    normal = {u.strip("/").lower() for u in known}
    if unit.strip().strip("/").lower() not in normal:
        yield AccountViolation("IDP-ACCT-009", entry.locate("ou"), entry.name,
                        f"`{entry.key('ou')}` `{unit}` is not an organizational unit of the organization; known: {', '.join(known)}.")


def _v1_fields(entry: AccountEntry, policy: Policy) -> Iterator[AccountViolation]:
    body, name = entry.body, entry.name
    regions = body.get("regions")
    if policy.allowed_regions is not None and isinstance(regions, list):
        for index, region in enumerate(regions):
            if isinstance(region, str) and region not in policy.allowed_regions:
                yield AccountViolation("IDP-ACCT-010", entry.artifact.locate((*entry.path, "regions", index)), name,
                                f"Region `{region}` is not allowed; allowed: {', '.join(policy.allowed_regions)} (accounts.allowed_regions).", key=region)
    environment = body.get("environment")
    if isinstance(environment, str) and environment not in policy.environments:
        yield AccountViolation("IDP-ACCT-011", entry.locate("environment"), name,
                        f"`environment` `{environment}` is not allowed; expected one of: {', '.join(policy.environments)}.")
    cost_center = body.get("cost_center")
    if isinstance(cost_center, str) and not policy.cost_center.search(cost_center):
        yield AccountViolation("IDP-ACCT-012", entry.locate("cost_center"), name,
                        f"`cost_center` `{cost_center}` does not match {policy.cost_center.pattern} (accounts.cost_center_pattern).")
    budget = body.get("budget_usd")
    if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget <= 0:
        yield AccountViolation("IDP-ACCT-013", entry.locate("budget_usd"), name, f"`budget_usd` is {budget}; the monthly budget must be positive.")
    if isinstance(environment, str):
        yield from _expiry(entry, environment, policy)
        if environment == PROD:
            yield from _one_workload(entry)


def _expiry(entry: AccountEntry, environment: str, policy: Policy) -> Iterator[AccountViolation]:
    max_days = policy.max_ttl_days.get(environment)
    if max_days is None:
        return
    raw = entry.body.get("expires_at")
    if raw is None:
        yield AccountViolation("IDP-ACCT-014", entry.locate(), entry.name,
                        f"`{environment}` account `{entry.name}` has no `expires_at`; add a date within {max_days} days.")
        return
    try:
        expires = datetime.date.fromisoformat(str(raw))
    except ValueError:
        yield AccountViolation("IDP-ACCT-014", entry.locate("expires_at"), entry.name, f"`expires_at` {str(raw)!r} is not a date (YYYY-MM-DD).")
        return
    latest = policy.as_of + datetime.timedelta(days=max_days)
    if expires <= policy.as_of:
        yield AccountViolation("IDP-ACCT-015", entry.locate("expires_at"), entry.name,
                        f"`expires_at` {expires} is not in the future (today is {policy.as_of}).")
    elif expires > latest:
        yield AccountViolation("IDP-ACCT-015", entry.locate("expires_at"), entry.name,
                        f"`expires_at` {expires} is more than {max_days} days away; `{environment}` accounts may live until {latest} at most (accounts.max_ttl_days).")


def _one_workload(entry: AccountEntry) -> Iterator[AccountViolation]:
    workload = entry.body.get("workload")
    if workload is None:
        yield AccountViolation("IDP-ACCT-016", entry.locate(), entry.name, f"prod account `{entry.name}` names no `workload`; it must name exactly one.")
    elif isinstance(workload, str) and len(re.split(r"[,;\s]+", workload.strip())) > 1:
        yield AccountViolation("IDP-ACCT-016", entry.locate("workload"), entry.name,
                        f"`workload` {workload!r} names several workloads; a prod account runs exactly one.")


# --- across files ----------------------------------------------------------------------------

def scope_of(artifact: Artifact) -> str:
    """Accounts must be unique within one organization: an LZA accounts-config.yaml describes a
    whole one; all native and ADF files of the scan are one."""
    return f"lza:{artifact.uri}" if artifact.kind == LZA else "org"


_UNIQUE = (("name", "IDP-ACCT-004", "name"), ("email", "IDP-ACCT-005", "e-mail"), ("alias", "IDP-ACCT-006", "alias"))


def uniqueness_violations(scanned: Sequence[Artifact], reference: Sequence[Artifact] = ()) -> Iterator[AccountViolation]:
    """The second and later uses of a name, e-mail or alias, each pointing at the first.

    `reference` artifacts (account files not scanned this time, e.g. unchanged since the base
    ref) count as first uses but are not reported on.
    """
    reported = {id(a) for a in scanned}
    ordered = sorted([*reference, *scanned], key=lambda a: (id(a) in reported, a.uri))
    for role, rule_id, label in _UNIQUE:
        first: dict[tuple[str, str], AccountEntry] = {}
        for entry in (e for a in ordered for e in entries(a)):
            value = entry.text(role)
            if value is None:
                continue
            key = (scope_of(entry.artifact), value.casefold())
            owner = first.setdefault(key, entry)
            if owner is entry or id(entry.artifact) not in reported:
                continue
            where = owner.locate(role)
            yield AccountViolation(rule_id, entry.locate(role), entry.name,
                            f"{label} `{value}` is already used by account `{owner.name}` ({where.uri}:{where.start_line}).",
                            related=(where,))


def mandatory_violations(artifact: Artifact) -> Iterator[AccountViolation]:
    if artifact.kind != LZA or "mandatoryAccounts" in artifact.context.get("unresolved", ()):
        return
    present = {e.text("name") for e in entries(artifact) if e.path[0] == "mandatoryAccounts"}
    for name in LZA_MANDATORY:
        if name not in present:
            yield AccountViolation("IDP-ACCT-017", artifact.locate(("mandatoryAccounts",)), None,
                            f"mandatory account `{name}` is missing from `mandatoryAccounts` (LZA needs {', '.join(LZA_MANDATORY)}).")


def all_entries(artifacts: Iterable[Artifact]) -> list[AccountEntry]:
    return [e for a in artifacts for e in entries(a)]


__all__ = ["ADF", "Policy", "PolicyError", "all_entries", "entry_violations", "mandatory_violations", "uniqueness_violations"]
