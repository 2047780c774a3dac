"""Clock breaches, derived exactly from a case's history: when a clock passed its due time.

Between two events a case's clocks follow one plan; a clock breaches inside that span when its due
instant falls in it, or at an event that moves its due instant into the past (a severity upgrade).
A later event that resets the clock (a customer update, a review) ends the breach; the next
overrun is a new one. A downgrade afterwards does not erase it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from casewatch.core.calendars import from_us, to_us
from casewatch.core.clocks import ClockKind, plan_clocks
from casewatch.core.models import Case, Event, Severity
from casewatch.core.policy import Policy
from casewatch.core.projection import apply, in_history_order


@dataclass(frozen=True, slots=True)
class Breach:
    case_id: str
    kind: ClockKind
    at: datetime  # when the clock was first overdue
    due: datetime  # the due instant it passed
    severity: Severity  # the case's severity at the time


def breached_by(due_us: int | None, stop_us: int, *, last: bool) -> bool:
    """A running clock due at `due_us` breached in a span of one plan that stops at `stop_us`: due
    before the next event (an event at the due instant itself is in time), or, in the last span,
    by its end instant (None: the clock is stopped, paused or met)."""
    return due_us is not None and (due_us < stop_us or (last and due_us == stop_us))


def case_breaches(events: Iterable[Event], policy: Policy, until: datetime) -> list[Breach]:
    """Every breach of one case's clocks up to `until`, in time order (`events` are that case's)."""
    found: list[Breach] = []
    case: Case | None = None
    overdue: dict[ClockKind, int] = {}  # kind -> due instant of the breach in progress
    end_us = to_us(until)
    history = in_history_order(events)
    for index, event in enumerate(history):
        if event.occurred_at > until:
            break
        case = apply(case, event)
        start = to_us(event.occurred_at)
        stop = to_us(history[index + 1].occurred_at) if index + 1 < len(history) else end_us
        stop = min(stop, end_us)
        for plan in plan_clocks(case, policy):
            due = plan.due_us if plan.active else None
            if due is None or not breached_by(due, stop, last=stop == end_us):
                overdue.pop(plan.kind, None)  # met, stopped, paused, reset, or not yet due in this span
                continue
            if plan.kind in overdue and due <= start:
                overdue[plan.kind] = due  # overdue straight through this event: the same breach
                continue
            overdue[plan.kind] = due
            found.append(Breach(case.id, plan.kind, from_us(max(due, start)), from_us(due), case.severity))
    return found


def breaches_between(histories: Iterable[Iterable[Event]], policy: Policy, start: datetime,
                     end: datetime) -> list[Breach]:
    """The breaches of every given case history that happened in [start, end], in time order."""
    found = [b for events in histories for b in case_breaches(events, policy, end) if start <= b.at <= end]
    return sorted(found, key=lambda b: (b.at, b.case_id, b.kind))
