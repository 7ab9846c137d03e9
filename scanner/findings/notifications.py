"""The scanner's own errors, repeated as tool notifications (SARIF `toolExecutionNotifications`)."""

from __future__ import annotations

from typing import Iterable

from scanner.failures import is_blocking_failure
from scanner.model import Finding, Notification, Severity


def notifications_for(findings: Iterable[Finding]) -> tuple[Notification, ...]:
    return tuple(
        Notification(level=Severity.ERROR, message=f"{f.location.uri}:{f.location.start_line}: {f.message}", rule_id=f.rule_id)
        for f in findings
        if is_blocking_failure(f)
    )
