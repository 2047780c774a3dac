"""Post-case reviews as a list: what `casewatch reviews` prints and the metrics screen summarises.

A review is the `case_closed` event; a case reopened and closed again counts its latest review.
Avoidable escalations are grouped by cause, so a gap in the L2 layer shows as one cause growing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casewatch.core.errors import InvalidInput
from casewatch.core.models import Case, Event, EventType, Severity, Status, iso_z
from casewatch.core.projection import in_history_order

NO_CAUSE = "(no cause given)"


@dataclass(frozen=True, slots=True)
class ReviewRow:
    case_id: str
    title: str
    customer: str
    initial_severity: Severity
    final_severity: Severity
    avoidable: bool
    cause: str | None
    lesson: str
    notes: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title, "customer": self.customer,
                "initial_severity": self.initial_severity.value, "final_severity": self.final_severity.value,
                "avoidable": self.avoidable, "cause": self.cause, "lesson": self.lesson, "notes": self.notes,
                "reviewed_by": self.by, "reviewed_at": iso_z(self.at)}


def parse_yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer not in ("yes", "no"):
        raise InvalidInput(f"expected yes or no, got {text!r}")
    return answer == "yes"


def check_cause(cause: str, causes: tuple[str, ...]) -> str:
    """`cause` when the policy lists it; otherwise InvalidInput naming the causes it does list."""
    if cause not in causes:
        raise InvalidInput(f"cause {cause!r} is not one of the policy's causes: {', '.join(causes)}")
    return cause


def already_reviewed(case: Case) -> str | None:
    """Why `case` cannot be closed and reviewed now, or None: a closed case is reviewed once, until reopened."""
    if case.status is Status.RESOLVED and case.review is not None:
        return f"{case.id} is already closed and reviewed; reopen it to review it again"
    return None


def case_review(events: Iterable[Event], as_of: datetime | None = None) -> ReviewRow | None:
    """The latest review in one case's history (up to `as_of`), or None when it was never closed."""
    history = [e for e in in_history_order(events) if as_of is None or e.occurred_at <= as_of]
    closed = next((e for e in reversed(history) if e.type is EventType.CASE_CLOSED), None)
    if closed is None or not history or history[0].type is not EventType.CASE_CREATED:
        return None
    created, p = history[0].payload, closed.payload
    return ReviewRow(case_id=closed.case_id or "", title=created["title"], customer=created["customer"],
                     initial_severity=Severity(created["severity"]), final_severity=Severity(p["final_severity"]),
                     avoidable=p["avoidable"], cause=p.get("cause"), lesson=p.get("lesson", ""),
                     notes=p.get("notes", ""), by=closed.actor, at=closed.occurred_at)


def in_window(row: ReviewRow, since: datetime | None, until: datetime | None) -> bool:
    """Reviews are listed by when they were recorded, in [since, until)."""
    return (since is None or row.at >= since) and (until is None or row.at < until)


def avoidable_by_cause(rows: Iterable[ReviewRow]) -> dict[str, int]:
    """How many avoidable escalations each cause accounts for, most first (ties by name)."""
    counts = Counter(row.cause or NO_CAUSE for row in rows if row.avoidable)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
