"""Breaches derived from a case's history: each overrun once, at the moment it happened."""

from datetime import UTC, datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.breaches import breaches_between, case_breaches
from casewatch.core.clocks import ClockKind
from casewatch.core.models import Severity, Status
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
OWNER, UPDATE, REVIEW = ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sev1(floor: Floor) -> str:
    return floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV1), "agent", at=T0).id


def found(floor: Floor, until: datetime) -> list[tuple[ClockKind, datetime]]:
    return [(b.kind, b.at) for b in case_breaches(floor.log, floor.policy, until)]


def test_each_clock_breaches_once_at_its_due_time():
    floor = Floor()
    sev1(floor)
    floor.do(c.Note(case_id="CW-1", text="still looking"), at=at(30))  # an unrelated event ends nothing
    assert found(floor, at(14)) == []
    assert found(floor, at(15)) == [(OWNER, at(15))]
    assert found(floor, at(90)) == [(OWNER, at(15)), (UPDATE, at(20)), (REVIEW, at(60))]


def test_a_reset_clock_can_breach_again():
    floor = Floor()
    cid = sev1(floor)
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"), at=at(25))
    assert [b for b in found(floor, at(50)) if b[0] is UPDATE] == [(UPDATE, at(20)), (UPDATE, at(45))]


def test_a_clock_met_in_time_never_breaches():
    floor = Floor()
    cid = sev1(floor)
    floor.do(c.Assign(case_id=cid, name="spec"), at=at(14))
    assert OWNER not in [kind for kind, _ in found(floor, at(120))]


def test_a_downgrade_does_not_erase_a_breach_and_an_upgrade_breaches_at_once():
    floor = Floor()
    cid = sev1(floor)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV2, reason="one region"), at=at(17))
    assert found(floor, at(19)) == [(OWNER, at(15))]
    assert found(floor, at(29))[:1] == [(OWNER, at(15))]  # SEV2's 30m owner window is not over: still one
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "agent", at=T0).id
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="all EU"), at=at(25))
    assert found(floor, at(26)) == [(OWNER, at(25)), (UPDATE, at(25))]  # late under SEV1 from the change


def test_a_breach_that_runs_through_a_severity_change_is_one_breach():
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "agent", at=T0).id
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="worse"), at=at(40))
    assert [b for b in found(floor, at(41)) if b[0] is OWNER] == [(OWNER, at(30))]


def test_paused_and_resolved_clocks_do_not_breach():
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV3), "agent", at=T0).id
    floor.do(c.Assign(case_id=cid, name="spec"), at=at(1))
    floor.do(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), at=at(2))
    assert [kind for kind, _ in found(floor, at(60 * 24 * 5))] == [REVIEW]  # the update clock waits
    floor.do(c.ChangeStatus(case_id=cid, status=Status.RESOLVED), at=at(3))
    assert found(floor, at(60 * 24 * 5)) == []


def test_breaches_between_keeps_the_window_and_orders_by_time():
    floor = Floor()
    sev1(floor)
    floor.do(c.NewCase(title="u", customer="B", severity=Severity.SEV1), "agent", at=at(10))
    histories = [[e for e in floor.log if e.case_id == cid] for cid in ("CW-1", "CW-2")]
    window = breaches_between(histories, floor.policy, at(16), at(29))
    assert [(b.case_id, b.kind, b.at) for b in window] == [("CW-1", UPDATE, at(20)), ("CW-2", OWNER, at(25))]
