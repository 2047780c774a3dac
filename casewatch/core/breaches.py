"""Clock breaches, derived exactly from a case's history: when a clock passed its due time, and
under which policy.

Between two instants where something changes (an event of the case, or another policy taking
force) a case's clocks follow one plan: the case as its events leave it, under the policy in force.
A clock breaches inside such a span when its due instant falls in it, or at a change that brings its
due instant in (a severity upgrade, a stricter policy), never to before that change. A later change
that resets the clock (a customer update, a review) ends the breach; the next overrun is a new one. A
clock passes each due instant once: stopped and restarted on the same due time (a case resolved,
then reopened), it is the breach already counted. Nothing that happens afterwards (a downgrade, a
laxer policy) erases it: it stays in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casewatch.core.calendars import from_us, to_us
from casewatch.core.clocks import ClockKind, earliest_due_us, plan_clock, plan_clocks
from casewatch.core.models import Case, Event, Severity, iso_z
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import apply, in_history_order


@dataclass(frozen=True, slots=True)
class Breach:
    case_id: str
    kind: ClockKind
    at: datetime  # when the clock was first overdue
    due: datetime  # the due instant it passed
    severity: Severity  # the case's severity at the time
    policy_version: int  # the policy in force at the time

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "clock": self.kind.value, "at": iso_z(self.at), "due": iso_z(self.due),
                "severity": self.severity.value, "policy_version": self.policy_version}


def breached_by(due_us: int | None, stop_us: int, *, last: bool) -> bool:
    """A running clock due at `due_us` breached in a span of one plan that stops at `stop_us`: due
    before the next change (a change at the due instant itself is in time), or, in the last span,
    by its end instant (None: the clock is stopped, paused or met)."""
    return due_us is not None and (due_us < stop_us or (last and due_us == stop_us))


def overdue_between(case: Case, kind: ClockKind, policies: PolicyHistory, start: datetime, stop: datetime, *,
                    last: bool) -> bool:
    """Whether one clock of `case`, the case standing as it is from `start` to `stop`, was overdue in
    that span, each part judged under the policy then in force: the rule of `case_breaches`, for
    the metrics' facts, which are kept one event at a time."""
    bounds = [start, *policies.changes(start, stop), stop]
    for index, since in enumerate(bounds[:-1]):
        policy, stop_us = policies.at(since), to_us(bounds[index + 1])
        if stop_us < earliest_due_us(case, policy, kind):
            continue  # it cannot have come due yet: spare the calendar work of planning it
        plan = plan_clock(case, policy, kind, policies.until(since))
        final = last and index == len(bounds) - 2
        if breached_by(plan.due_us if plan.active else None, stop_us, last=final):
            return True
    return False


def case_breaches(events: Iterable[Event], policies: PolicyHistory, until: datetime) -> list[Breach]:
    """Every breach of one case's clocks up to `until`, in time order (`events` are that case's)."""
    history = [e for e in in_history_order(events) if e.occurred_at <= until]
    if not history:
        return []
    # Each step is an instant where the plan may change: an event, or another policy taking force.
    steps: list[tuple[datetime, Event | None]] = [(e.occurred_at, e) for e in history]
    steps += [(since, None) for since in policies.changes(history[0].occurred_at, until)]
    steps.sort(key=lambda step: (step[0], step[1] is not None))  # a policy takes force before events at its instant
    found: list[Breach] = []
    case: Case | None = None
    overdue: dict[ClockKind, int] = {}  # kind -> due instant of the breach in progress
    passed: set[tuple[ClockKind, int]] = set()  # the due instants each clock has already breached
    end_us = to_us(until)
    for index, (instant, event) in enumerate(steps):
        if event is not None:
            case = apply(case, event)
        if case is None:
            continue
        policy = policies.at(instant)
        start = to_us(instant)
        stop = min(to_us(steps[index + 1][0]) if index + 1 < len(steps) else end_us, end_us)
        for plan in plan_clocks(case, policy, policies.until(instant)):
            due = plan.due_us if plan.active else None
            if due is None or not breached_by(due, stop, last=stop == end_us):
                overdue.pop(plan.kind, None)  # met, stopped, paused, reset, or not yet due in this span
                continue
            if (plan.kind in overdue and due <= start) or (plan.kind, due) in passed:
                overdue[plan.kind] = due  # overdue straight through this change, or stopped and
                continue  # restarted on the same due instant (resolved, then reopened): the same breach
            overdue[plan.kind] = due
            passed.add((plan.kind, due))
            found.append(Breach(case.id, plan.kind, from_us(max(due, start)), from_us(due), case.severity,
                                policy.version))
    return sorted(found, key=lambda b: (b.at, _CLOCK_ORDER[b.kind]))  # at one instant, in ClockKind order


_CLOCK_ORDER = {kind: index for index, kind in enumerate(ClockKind)}


def breaches_between(histories: Iterable[Iterable[Event]], policies: PolicyHistory, start: datetime,
                     end: datetime) -> list[Breach]:
    """The breaches of every given case history that happened in [start, end], in time order."""
    found = [b for events in histories for b in case_breaches(events, policies, end) if start <= b.at <= end]
    return sorted(found, key=lambda b: (b.at, b.case_id, b.kind))
