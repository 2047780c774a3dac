"""What a person did about alerts, kept on their machine: alerts acknowledged, cases snoozed.

An acknowledged alert greys out in the history. A snoozed case keeps its clocks on the board but
does not ring (no toast, bell or alert command) until the snooze ends, or at once when the case's
severity rises above what it was when snoozed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from casewatch.core.alerts import Alert
from casewatch.core.models import Severity, iso_z

SNOOZE_FOR = (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1))
"""The snoozes the alert history offers."""


def alert_key(alert: Alert) -> str:
    """One alert's name across restarts: the case, the clock, the state it turned to and its due time."""
    return f"{alert.case_id} {alert.clock.value} {alert.state.value} {iso_z(alert.due) or '-'}"


@dataclass(frozen=True)
class Snooze:
    until: datetime
    severity: Severity  # the case's severity when snoozed: a rise ends the snooze


@dataclass
class AlertMarks:
    acknowledged: set[str] = field(default_factory=set)  # alert keys
    snoozed: dict[str, Snooze] = field(default_factory=dict)  # case id -> its snooze

    def rings(self, alert: Alert, now: datetime) -> bool:
        """Whether the alert rings: not while its case is snoozed (a rise in severity ends the snooze)."""
        snooze = self.snoozed.get(alert.case_id)
        if snooze is None:
            return True
        if now >= snooze.until or alert.severity < snooze.severity:  # SEV1 < SEV2: a rise
            del self.snoozed[alert.case_id]
            return True
        return False

    def snooze(self, case_id: str, severity: Severity, now: datetime, length: timedelta) -> Snooze:
        self.snoozed[case_id] = Snooze(now + length, severity)
        return self.snoozed[case_id]

    def kept(self, open_ids: set[str] | frozenset[str], now: datetime) -> AlertMarks:
        """What is worth writing down: the marks of cases still open, snoozes not yet over."""
        return AlertMarks({key for key in self.acknowledged if key.split(" ", 1)[0] in open_ids},
                          {case_id: s for case_id, s in self.snoozed.items() if case_id in open_ids and s.until > now})


def snooze_words(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} m"
