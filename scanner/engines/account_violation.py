"""An account check's answer before it becomes a Finding: rule, place, account, message.

(A native rule's answer is `scanner.rule.Violation`: a path inside one resource.)"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.model import Location


@dataclass(frozen=True)
class AccountViolation:
    rule_id: str
    location: Location
    account: str | None  # the account name (resource identity); None: about the whole file
    message: str
    related: tuple[Location, ...] = ()
    key: str = ""  # what is violated when one rule can break several ways in one account (a field)
