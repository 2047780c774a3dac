"""The orders a board pane can be sorted in (`S` cycles them), each a key over a case and its clocks.

Every key ends with the case id, so two cases that tie keep one order from one sort to the next
and the cursor, restored by row key, never jumps between equals.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from casewatch.core.calendars import to_us
from casewatch.core.clocks import CaseClocks
from casewatch.core.models import Case
from casewatch.core.text import unseen_removed
from casewatch.core.views import deadline_order


class Sort(StrEnum):
    """A pane's order, in the order `S` goes through them (the first is the default)."""

    DEADLINE = "deadline"
    ESCALATED = "escalated"
    CHANGED = "changed"
    CUSTOMER = "customer"

    @property
    def label(self) -> str:
        """What the pane's title says while the pane is sorted so."""
        return SORT_LABELS[self]

    def next(self) -> Sort:
        members = list(Sort)
        return members[(members.index(self) + 1) % len(members)]


SORT_LABELS = {
    Sort.DEADLINE: "nearest deadline",
    Sort.ESCALATED: "escalated first",  # the longest escalated on top
    Sort.CHANGED: "last changed",  # the latest change on top
    Sort.CUSTOMER: "customer A–Z",
}

SortKey = Callable[[Case, CaseClocks], tuple[Any, ...]]

SORT_KEYS: dict[Sort, SortKey] = {
    Sort.DEADLINE: lambda case, clocks: deadline_order(case.id, clocks),
    Sort.ESCALATED: lambda case, clocks: (to_us(case.escalated_at), case.id),
    Sort.CHANGED: lambda case, clocks: (-to_us(case.updated_at), case.id),
    Sort.CUSTOMER: lambda case, clocks: (unseen_removed(case.customer).casefold(), case.id),
}
"""Each order's key: ascending sorts put the case the order is about first."""
