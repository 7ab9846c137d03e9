"""Work that did not finish, as findings and notifications: the gate fails closed on it."""

from __future__ import annotations

from typing import Sequence

from scanner.executor import LOAD, Unfinished, UnitResult
from scanner.failures import failure
from scanner.model import Finding, Location, Notification, Severity


def unit_error(result: UnitResult) -> list[Finding]:
    """A unit that failed as a whole (its result could not be sent, say): IDP002 per file."""
    what = "Loading" if result.unit.engine == LOAD else f"Engine {result.unit.engine}"
    return [failure("IDP002", f"{what} failed: {result.error}", Location(uri)) for uri in result.unit.uris]


def unfinished_findings(unfinished: Sequence[Unfinished], budget: float) -> list[Finding]:
    """One finding per file and reason: budget -> IDP040, timeout -> IDP041, crash -> IDP042."""
    grouped: dict[tuple[str, str], list[Unfinished]] = {}
    for item in unfinished:
        for uri in item.unit.uris:
            grouped.setdefault((uri, item.reason), []).append(item)
    findings = []
    for (uri, reason), items in sorted(grouped.items()):
        what = ", ".join(sorted({doing(i.unit.engine) for i in items}))
        details = "; ".join(sorted({i.detail for i in items if i.detail}))
        if reason == "budget":
            findings.append(failure("IDP040", f"The {budget:g} s budget ran out before {what} finished on this file.", Location(uri)))
        elif reason == "timeout":
            findings.append(failure("IDP041", f"Stopped {what} on this file: {details}.", Location(uri)))
        else:
            findings.append(failure("IDP042", f"The worker process died during {what} on this file: {details}.", Location(uri)))
    return findings


def doing(engine: str) -> str:
    return "loading" if engine == LOAD else engine


def budget_notifications(unfinished: Sequence[Unfinished], budget: float) -> tuple[Notification, ...]:
    """One notification that names every unit the deadline stopped."""
    stopped = [u.unit.label.replace(f"{LOAD} on", "loading") for u in unfinished if u.reason == "budget"]
    if not stopped:
        return ()
    message = f"The {budget:g} s budget ran out; {len(stopped)} unit(s) did not finish: {'; '.join(stopped)}"
    return (Notification(level=Severity.ERROR, message=message, rule_id="IDP040"),)
