"""A suppression as the gate uses it: what it says, where it came from, what it covers.

Every form (template Metadata, an `idp-scan:ignore` comment, a cdk-nag suppression an input
passed on, an entry of the central waivers file) becomes a `Waiver`. Whether it may suppress at
all (a reason, an expiry date not passed, not an inline waiver of a mandatory rule) is decided
here, once, and every refusal is itself a finding (IDP031-IDP035).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable, Sequence

from scanner.failures import failure
from scanner.model import Finding, Suppression

MIN_REASON = 10
EXPIRY_WARNING_DAYS = 14

Scope = Callable[[Finding], bool]


@dataclass(frozen=True)
class Waiver:
    suppression: Suppression
    form: str  # how the user wrote it: "Metadata", "comment", "waivers file", "cdk-nag", ...
    covers: Scope  # the resources and files it applies to, whatever the rule
    inline: bool = True  # written in the code it judges (everything but the waivers file)

    @property
    def where(self) -> str:
        location = self.suppression.location
        return f"{location.uri}:{location.start_line}"

    @property
    def status_reason(self) -> str:
        s = self.suppression
        owner = f", owner {s.owner}" if s.owner else ""
        expires = f", expires {s.expires.isoformat()}" if s.expires else ""
        return f"{self.form} at {self.where}{owner}{expires}: {s.reason.strip()}"


def is_mandatory(rule_id: str, mandatory: Sequence[str]) -> bool:
    return any(rule_id.startswith(prefix) for prefix in mandatory)


def refusals(waiver: Waiver, mandatory: Sequence[str], today: datetime.date) -> list[Finding]:
    """Findings about a waiver itself; an IDP031/032/035 one means it must not suppress."""
    s, out = waiver.suppression, []
    rule = s.rule_id
    if len(s.reason.strip()) < MIN_REASON:
        out.append(failure("IDP031", f"Suppression of {rule} ({waiver.form}) has no reason of at least {MIN_REASON} characters, so it does not suppress.", s.location))
    if s.expires is not None:
        days = (s.expires - today).days
        if days < 0:
            ago = -days
            out.append(failure("IDP032", f"Suppression of {rule} ({waiver.form}) expired {ago} day{'s' if ago != 1 else ''} ago (on {s.expires.isoformat()}), so it no longer suppresses.", s.location))
        elif days <= EXPIRY_WARNING_DAYS:
            out.append(failure("IDP033", f"Suppression of {rule} ({waiver.form}) expires in {days} day{'s' if days != 1 else ''} (on {s.expires.isoformat()}).", s.location))
    if waiver.inline and is_mandatory(rule, mandatory):
        out.append(mandatory_refusal(waiver, rule))
    return out


def mandatory_refusal(waiver: Waiver, rule_id: str) -> Finding:
    return failure("IDP035", f"{rule_id} is mandatory: it cannot be suppressed by a {waiver.form}; only the central waivers file can waive it.", waiver.suppression.location)


def suppresses(refused: Sequence[Finding]) -> bool:
    return not any(f.rule_id in ("IDP031", "IDP032", "IDP035") for f in refused)
