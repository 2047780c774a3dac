"""What a stored copy of a fold (a case's state in its row) must be to be read back: checked for
what its types cannot say. Those rows are caches members can write; one that fails here is
tampering, and storage folds the case from the log instead of trusting, or crashing on, it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from casewatch.core.models import Case

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No case is escalated, nor anything logged, before it (`--at` is refused, the fold quarantines)."""
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""No time casewatch keeps comes near it (events are at most a minute ahead of the server's
clock); one beyond it, or before EARLIEST, is a member's write. Far enough from datetime's limit
that no clock or time-zone arithmetic on a stored time can overflow."""


def check_time(value: datetime | None, what: str) -> None:
    """A time a fold could have made: aware (a naive one cannot be compared with the others) and
    within [EARLIEST, LATEST)."""
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} has no time zone")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{what} {value.isoformat()} is out of range")


def check_case(case: Case, case_id: str, version: int) -> Case:
    """`case`, read from the row of `case_id` at `version`, if it could be that row's fold; else ValueError."""
    if case.id != case_id or case.version != version:
        raise ValueError(f"the state of {case_id} v{version} is {case.id} v{case.version}")
    for what, value in _times(case):
        check_time(value, what)
    return case


def _times(case: Case) -> Iterator[tuple[str, datetime | None]]:
    for name in ("escalated_at", "owner_named_at", "last_customer_update_at", "last_review_at", "resolved_at",
                 "updated_at", "others_at", "last_occurred_at"):
        yield name, getattr(case, name)
    for span in case.waiting:
        yield "waiting", span.start
        yield "waiting", span.end
    for step in case.severity_steps:
        yield "severity_steps", step.at
    for record in case.evidence.values():
        yield "evidence", record.at
    if case.returned is not None:
        yield "returned", case.returned.at
    if case.review is not None:
        yield "review", case.review.at
