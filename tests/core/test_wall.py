"""The wall's figures: counts per severity and the floor, the next deadlines, and when they next change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.calendars import to_us
from casewatch.core.clocks import ClockKind, ClockState, plan_clocks
from casewatch.core.models import Severity, Status
from casewatch.core.wall import wall_view
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # a Friday afternoon; SEV1 runs 24x7: owner in 15m, update every 20m


def floor_at() -> Floor:
    floor = Floor()
    floor.do(c.NewCase(title="A", customer="ACME", severity=Severity.SEV1), at=T0)                    # CW-1
    floor.do(c.NewCase(title="B", customer="ACME", severity=Severity.SEV1), at=T0 - timedelta(hours=1))  # CW-2, late
    floor.do(c.NewCase(title="C", customer="Initech", severity=Severity.SEV2), at=T0)                 # CW-3
    floor.do(c.Assign(case_id="CW-3", name="agent"), at=T0)
    floor.do(c.AssignComms(case_id="CW-3", name="agent"), at=T0)
    floor.do(c.ChangeStatus(case_id="CW-3", status=Status.WAITING_ON_CUSTOMER), at=T0)
    return floor


def view_of(floor: Floor, now: datetime, shown: int = 10):
    return wall_view(((case, plan_clocks(case, floor.policy)) for case in floor.cases.values()), to_us(now), shown)


def test_counts_per_severity_and_for_the_floor():
    view = view_of(floor_at(), T0 + timedelta(minutes=1))
    sev1, sev2 = view.figures[Severity.SEV1], view.figures[Severity.SEV2]
    assert (sev1.open, sev1.breached, sev1.unowned, sev1.waiting) == (2, 1, 2, 0)
    assert (sev2.open, sev2.breached, sev2.unowned, sev2.waiting) == (1, 0, 0, 1)
    total = view.total
    assert (total.open, total.breached, total.unowned, total.waiting) == (3, 1, 2, 1)


def test_the_next_deadlines_are_running_clocks_soonest_first_never_passed_ones():
    view = view_of(floor_at(), T0 + timedelta(minutes=1))
    listed = [(d.case_id, d.kind) for d in view.deadlines]
    assert listed[0] == ("CW-1", ClockKind.OWNER)  # due 14:15
    assert all(d.case_id != "CW-2" or d.due_us > to_us(T0 + timedelta(minutes=1)) for d in view.deadlines)
    assert [d.due_us for d in view.deadlines] == sorted(d.due_us for d in view.deadlines)
    assert {d.state for d in view.deadlines} <= {ClockState.RUNNING, ClockState.WARNING}
    assert len(view_of(floor_at(), T0, shown=2).deadlines) == 2


def test_nothing_changes_before_the_next_clock_edge():
    floor = floor_at()
    now = T0 + timedelta(minutes=1)
    view = view_of(floor, now)
    assert to_us(now) < view.changes_at_us
    just_before = view_of(floor, datetime.fromtimestamp((view.changes_at_us - 1) / 1e6, UTC))
    assert just_before.figures == view.figures and just_before.deadlines == view.deadlines
    at_edge = view_of(floor, datetime.fromtimestamp(view.changes_at_us / 1e6, UTC))
    assert (at_edge.figures, at_edge.deadlines) != (view.figures, view.deadlines)


def test_a_linked_case_is_listed_by_its_ticket_key_as_everywhere_else():
    from casewatch.core.models import SourceLink

    floor = floor_at()
    linked = floor.cases["CW-1"].model_copy(update={"source": SourceLink("zd", "zendesk", "48213")})
    cases = [linked if case.id == "CW-1" else case for case in floor.cases.values()]
    view = wall_view(((case, plan_clocks(case, floor.policy)) for case in cases), to_us(T0 + timedelta(minutes=1)))
    assert {d.title for d in view.deadlines if d.case_id == "CW-1"} == {"ZD-48213 A"}
