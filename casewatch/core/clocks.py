"""The three deadline clocks of a case, as pure functions of its state, the policy and "now".

`plan_clocks` does the calendar work once per case change (due and warning instants, pauses);
`CaseClocks.read(now)` is then a couple of integer comparisons, cheap enough for a 1 s tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from casewatch.core.calendars import ALWAYS, WorkingTime, from_us, to_us
from casewatch.core.durations import countdown_stable_for
from casewatch.core.models import Case, Severity, Status
from casewatch.core.policy import Policy, Timing

US_PER_S = 1_000_000


class ClockKind(StrEnum):
    OWNER = "owner"
    CUSTOMER_UPDATE = "customer_update"
    INTERNAL_REVIEW = "internal_review"


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    STOPPED = "stopped"


_PAUSED, _BREACHED, _WARNING, _RUNNING = ClockState.PAUSED, ClockState.BREACHED, ClockState.WARNING, ClockState.RUNNING


class ClockReading(NamedTuple):
    kind: ClockKind
    state: ClockState
    due_us: int | None
    remaining_s: int | None  # wall seconds to due (negative when overdue); working seconds left when paused

    @property
    def due(self) -> datetime | None:
        """The due instant; made on demand, since most readers only need state and remaining time."""
        return None if self.due_us is None else from_us(self.due_us)


class ClockPlan(NamedTuple):
    """What a clock needs to be read at any instant: fixed state, or due and warning instants.
    (Tuples, not frozen dataclasses: a board plans tens of thousands of these at once.)"""

    kind: ClockKind
    fixed: ClockState | None = None
    due_us: int | None = None
    warn_us: int | None = None
    paused_left_us: int | None = None
    calendar: WorkingTime | None = None  # a business calendar the clock counts working time in (None: 24x7)

    def state_at(self, now_us: int) -> tuple[ClockState, int | None]:
        """State and remaining seconds at `now_us`, without allocating: the board's tick calls this."""
        fixed = self.fixed
        if fixed is not None:
            if fixed is _PAUSED:
                assert self.paused_left_us is not None  # a paused plan always knows what is left
                return _PAUSED, self.paused_left_us // US_PER_S
            return fixed, None
        due = self.due_us
        assert due is not None  # a running plan always has a due instant
        if now_us >= due:
            return _BREACHED, (due - now_us) // US_PER_S
        warn = self.warn_us
        if warn is not None and now_us >= warn:
            return _WARNING, (due - now_us) // US_PER_S
        return _RUNNING, (due - now_us) // US_PER_S

    def read(self, now_us: int) -> ClockReading:
        state, remaining = self.state_at(now_us)
        return ClockReading(self.kind, state, None if self.fixed is not None else self.due_us, remaining)

    @property
    def due(self) -> datetime | None:
        return None if self.due_us is None else from_us(self.due_us)

    @property
    def active(self) -> bool:
        return self.fixed is None

    def working_left_s(self, now_us: int) -> int | None:
        """Working seconds left to the due instant, when the clock counts business hours and they are
        fewer than the wall-clock seconds (the clock waits for business hours); else None. What a
        warning on such a clock is about: `▲ 6h11m` hid that 11 minutes of work were left."""
        cal, due = self.calendar, self.due_us
        if cal is None or due is None or now_us >= due:
            return None
        left = cal.worked_us(now_us, due) // US_PER_S
        return left if left < (due - now_us) // US_PER_S - 59 else None


class CaseClocks(NamedTuple):
    owner: ClockPlan
    customer_update: ClockPlan
    internal_review: ClockPlan

    def read(self, now: datetime) -> dict[ClockKind, ClockReading]:
        now_us = to_us(now)
        return {
            ClockKind.OWNER: self.owner.read(now_us),
            ClockKind.CUSTOMER_UPDATE: self.customer_update.read(now_us),
            ClockKind.INTERNAL_REVIEW: self.internal_review.read(now_us),
        }

    @property
    def nearest_due_us(self) -> int | None:
        """The soonest deadline of the running clocks; the board sorts by it."""
        dues = [p.due_us for p in (self.owner, self.customer_update, self.internal_review)
                if p.active and p.due_us is not None]
        return min(dues) if dues else None


def countdown_changes_at(due_us: int, remaining_s: int) -> int:
    """The first instant at which the countdown to `due_us`, showing `remaining_s` now, shows other
    text. A live view waits for this instant, never for "now + a second": a tick that comes a
    millisecond early would otherwise skip a second (34s, 34s, 32s)."""
    return due_us - (remaining_s - countdown_stable_for(remaining_s) + 1) * US_PER_S + 1


def _advance(
    cal: WorkingTime, anchor: int, amount: int, pauses: Sequence[tuple[int, int | None]]
) -> tuple[int | None, int]:
    """The instant `amount` of working time has run since `anchor`, not counting paused spans.

    Returns (None, left) when an open pause stops the clock first, with the working time left.
    """
    t, left = anchor, amount
    for start, end in pauses:
        run = cal.worked_us(t, start)
        if run >= left:
            return cal.add_us(t, left), 0
        left -= run
        if end is None:
            return None, left
        t = end
    return cal.add_us(t, left), 0


def _running_plan(kind: ClockKind, cal: WorkingTime, anchor: int, window: int, warn_at: float,
                  pauses: Sequence[tuple[int, int | None]] = ()) -> ClockPlan:
    business = cal if cal.name != ALWAYS else None
    if not pauses:  # the common case, without the pause walk
        due_us, warn_us = cal.add_pair_us(anchor, window, window - round(window * warn_at))
        return ClockPlan(kind, None, due_us, warn_us if warn_at > 0 else None, calendar=business)
    due, left = _advance(cal, anchor, window, pauses)
    if due is None:
        return ClockPlan(kind, fixed=ClockState.PAUSED, paused_left_us=left)
    warn = None
    if warn_at > 0:
        warn, _ = _advance(cal, anchor, window - round(window * warn_at), pauses)
    return ClockPlan(kind, due_us=due, warn_us=warn, calendar=business)


def plan_clocks(case: Case, policy: Policy, in_force: PoliciesInForce = ()) -> CaseClocks:
    """The case's three clocks under `policy`. `in_force`: the policy history up to now, each
    policy with the instant it took force, `policy` last (`PolicyHistory.until`); a newer policy
    that shortens a window is held to the rule a severity raise is (`_planned`). Empty: `policy`
    throughout."""
    regimes = _Regimes(policy, in_force)
    escalated = to_us(case.escalated_at)
    return CaseClocks(_owner_plan(case, regimes, escalated), _update_plan(case, regimes, escalated),
                      _review_plan(case, regimes, escalated))


def plan_clock(case: Case, policy: Policy, kind: ClockKind, in_force: PoliciesInForce = ()) -> ClockPlan:
    """One of the plans `plan_clocks` makes, without the calendar work of the other two (the
    metric facts ask one clock after every event)."""
    return _PLANNERS[kind](case, _Regimes(policy, in_force), to_us(case.escalated_at))


def earliest_due_us(case: Case, policy: Policy, kind: ClockKind) -> int:
    """No plan of the clock comes due before its window has passed since its anchor: working time
    runs no faster than the wall clock, pauses only delay it, and a severity or policy change that
    shortens the window restarts it no earlier than the anchor. No calendar work, so asking whether
    a clock can have come due by some instant is cheap."""
    anchor, window = _WINDOWS[kind](case, policy.timings[case.severity], to_us(case.escalated_at))
    return anchor + window


PoliciesInForce = Sequence[tuple[datetime, Policy]]


class _Regimes:
    """The policies a clock may have run under, each from the instant it took force."""

    __slots__ = ("current", "_taken")

    def __init__(self, current: Policy, in_force: PoliciesInForce):
        self.current: Timings = current.timings
        self._taken = [(to_us(since), policy.timings) for since, policy in in_force[:-1]]
        if in_force:
            self._taken.append((to_us(in_force[-1][0]), self.current))

    def since(self, anchor: int) -> tuple[Timings, list[tuple[int, Timings]]]:
        """The timings in force at `anchor` (before the first policy, the first counts) and each
        later one with the instant it took force."""
        taken = self._taken
        if len(taken) < 2 or taken[-1][0] <= anchor:  # the common case: one policy since the anchor
            return self.current, []
        at_anchor: Timings = taken[0][1]
        later: list[tuple[int, Timings]] = []
        for since, timings in taken[1:]:
            if since <= anchor:
                at_anchor = timings
            else:
                later.append((since, timings))
        return at_anchor, later


Timings = Mapping[Severity, Timing]
Pauses = Sequence[tuple[int, int | None]]


def _owner_window(case: Case, t: Timing, escalated: int) -> tuple[int, int]:
    return escalated, t.owner_us


def _update_window(case: Case, t: Timing, escalated: int) -> tuple[int, int]:
    anchor = to_us(case.last_customer_update_at) if case.last_customer_update_at else escalated
    return anchor, case.next_update_override_s * US_PER_S if case.next_update_override_s else t.update_us


def _review_window(case: Case, t: Timing, escalated: int) -> tuple[int, int]:
    return to_us(case.last_review_at) if case.last_review_at else escalated, t.review_us


def _sooner(a: ClockPlan, b: ClockPlan) -> bool:
    """Plan `a` comes due before plan `b` (a paused plan after any running one, by the time left)."""
    return _soonness(a) < _soonness(b)


def _soonness(plan: ClockPlan) -> tuple[int, int]:
    return (0, plan.due_us or 0) if plan.fixed is None else (1, plan.paused_left_us or 0)


def _from(pauses: Pauses, start: int) -> list[tuple[int, int | None]]:
    """The pauses that still stop a clock started at `start`."""
    return [(max(begin, start), end) for begin, end in pauses if end is None or end > start]


def _planned(kind: ClockKind, case: Case, regimes: _Regimes, anchor: int, window_of: Callable[[Timing], int],
             pauses: Pauses = ()) -> ClockPlan:
    """The plan of a running clock, with the rule for severity and policy changes since its anchor:
    a change that lengthens the window moves the due time out; one that shortens it brings the due
    time in to the earlier of the old due time and the change plus the new window, never to before
    the change (a raise is the right call, not a late one; a stricter policy does not reach back)."""
    timings, policy_changes = regimes.since(anchor)
    steps = [step for step in case.severity_steps if to_us(step.at) > anchor]
    if not steps and not policy_changes:  # the common case: one severity and one policy since the anchor
        t = timings[case.severity]
        return _running_plan(kind, t.calendar, anchor, window_of(t), t.warn_at, pauses)
    severity = steps[0].before if steps else case.severity
    changes = sorted([(to_us(step.at), 1, None, step.after) for step in steps]
                     + [(since, 0, later, None) for since, later in policy_changes],
                     key=lambda change: change[:2])  # a policy takes force before a raise at its instant
    t = timings[severity]
    current = _running_plan(kind, t.calendar, anchor, window_of(t), t.warn_at, pauses)
    for at, _, new_timings, new_severity in changes:
        timings = new_timings or timings
        severity = new_severity or severity
        t = timings[severity]
        normal = _running_plan(kind, t.calendar, anchor, window_of(t), t.warn_at, pauses)
        if not _sooner(normal, current):
            current = normal
            continue
        restarted = _running_plan(kind, t.calendar, at, window_of(t), t.warn_at, _from(pauses, at))
        if _sooner(restarted, current):
            current = restarted
    return current


def _owner_plan(case: Case, regimes: _Regimes, escalated: int) -> ClockPlan:
    if case.owner_named_at is not None:
        return _MET_OWNER
    if case.status is _RESOLVED:
        return _STOPPED_OWNER
    return _planned(ClockKind.OWNER, case, regimes, escalated, _owner_window_of)


def _update_plan(case: Case, regimes: _Regimes, escalated: int) -> ClockPlan:
    if case.status is _RESOLVED:
        return _STOPPED_UPDATE
    t = regimes.current[case.severity]
    anchor, _ = _update_window(case, t, escalated)
    pauses = []
    if t.pause_while_waiting:
        for span in case.waiting:
            end = to_us(span.end) if span.end is not None else None
            if end is None or end > anchor:
                pauses.append((max(anchor, to_us(span.start)), end))
    return _planned(ClockKind.CUSTOMER_UPDATE, case, regimes, anchor,
                    lambda timing: _update_window(case, timing, escalated)[1], pauses)


def _review_plan(case: Case, regimes: _Regimes, escalated: int) -> ClockPlan:
    if case.status is _RESOLVED:
        return _STOPPED_REVIEW
    anchor, _ = _review_window(case, regimes.current[case.severity], escalated)
    return _planned(ClockKind.INTERNAL_REVIEW, case, regimes, anchor, _review_window_of)


def _owner_window_of(t: Timing) -> int:
    return t.owner_us


def _review_window_of(t: Timing) -> int:
    return t.review_us

_PLANNERS = {ClockKind.OWNER: _owner_plan, ClockKind.CUSTOMER_UPDATE: _update_plan,
             ClockKind.INTERNAL_REVIEW: _review_plan}
_WINDOWS = {ClockKind.OWNER: _owner_window, ClockKind.CUSTOMER_UPDATE: _update_window,
            ClockKind.INTERNAL_REVIEW: _review_window}
_RESOLVED = Status.RESOLVED
_MET_OWNER = ClockPlan(ClockKind.OWNER, fixed=ClockState.MET)
_STOPPED_OWNER = ClockPlan(ClockKind.OWNER, fixed=ClockState.STOPPED)
_STOPPED_UPDATE = ClockPlan(ClockKind.CUSTOMER_UPDATE, fixed=ClockState.STOPPED)
_STOPPED_REVIEW = ClockPlan(ClockKind.INTERNAL_REVIEW, fixed=ClockState.STOPPED)


def missing_roles(case: Case, policy: Policy, shift_lead: str | None = None) -> list[str]:
    """Roles the severity policy says must be on the case and nobody on it holds. The shift lead,
    who leads while the case is open and is its route authority unless another is named, fills
    the `lead` role, unless the severity's policy says `shift_lead_is_lead = false`: a flag on
    nearly every SEV1 and SEV2 was a flag on nothing."""
    present = case.participant_roles()
    severity = policy[case.severity]
    if shift_lead is not None and severity.shift_lead_is_lead:
        present.add(LEAD_ROLE)
    return [role for role in severity.must_involve if role not in present]


LEAD_ROLE = "lead"

