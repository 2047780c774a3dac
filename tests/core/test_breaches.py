"""Breaches derived from a case's history: each overrun once, at the moment it happened."""

from datetime import UTC, datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.breaches import breaches_between, case_breaches
from casewatch.core.clocks import ClockKind
from casewatch.core.models import Severity, Status
from casewatch.core.policy_history import PolicyHistory
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
OWNER, UPDATE, REVIEW = ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sev1(floor: Floor) -> str:
    return floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV1), "agent", at=T0).id


def found(floor: Floor, until: datetime) -> list[tuple[ClockKind, datetime]]:
    return [(b.kind, b.at) for b in case_breaches(floor.log, PolicyHistory.only(floor.policy), until)]


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


def test_a_downgrade_does_not_erase_a_breach_and_an_upgrade_is_never_late_before_it():
    floor = Floor()
    cid = sev1(floor)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV2, reason="one region"), at=at(17))
    assert found(floor, at(19)) == [(OWNER, at(15))]
    assert found(floor, at(29))[:1] == [(OWNER, at(15))]  # SEV2's 30m owner window is not over: still one
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "agent", at=T0).id
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="all EU"), at=at(25))
    assert found(floor, at(29)) == []  # SEV1's windows ran from the change, never from before it
    # owner: min(SEV2's due at 30, 25 + 15m); update: min(SEV2's due at 60, 25 + 20m)
    assert found(floor, at(46)) == [(OWNER, at(30)), (UPDATE, at(45))]


def test_a_raise_that_shortens_a_window_brings_the_due_time_in_from_the_change():
    """The issue's case: a SEV2 whose last update was 40 minutes ago, raised to SEV1 (every 20m), is
    due 20 minutes after the raise, not `LATE -20m`; no breach is dated before SEV1 applied."""
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "agent", at=T0).id
    floor.do(c.Assign(case_id=cid, name="spec"), at=at(1))
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"), at=at(5))
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="all EU"), at=at(45))
    updates = [b for b in case_breaches(floor.log, PolicyHistory.only(floor.policy), at(70)) if b.kind is UPDATE]
    assert [(b.at, b.due, b.severity) for b in updates] == [(at(65), at(65), Severity.SEV1)]
    assert all(b.due >= at(45) for b in case_breaches(floor.log, PolicyHistory.only(floor.policy), at(70))
               if b.severity is Severity.SEV1)
    # raised again with less left on the old clock than the new window: the old due time stands
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV2, reason="one region"), at=at(50))
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="all EU again"), at=at(60))
    assert [b.due for b in case_breaches(floor.log, PolicyHistory.only(floor.policy), at(70))
            if b.kind is UPDATE] == [at(65)]


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


def test_a_reopen_adds_no_breach_for_a_due_time_already_passed():
    """Resolving stops the clocks and reopening restarts them on the same due times: the overrun
    they show again is the breach already counted, not a new one dated at the reopen."""
    floor = Floor()
    cid = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), "agent", at=T0).id
    floor.do(c.Assign(case_id=cid, name="spec"), at=T0)
    before = found(floor, at(60))
    assert before and all(when <= at(60) for _, when in before)
    floor.do(c.ChangeStatus(case_id=cid, status=Status.RESOLVED), at=at(61))
    floor.do(c.Reopen(case_id=cid), at=at(62))
    assert found(floor, at(63)) == before
    window = breaches_between([floor.log], PolicyHistory.only(floor.policy), at(61), at(63))
    assert window == []  # a handoff of the shift that saw the reopen lists no breach from it
    # a clock reset after the reopen and overrun again is a new breach
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"), at=at(64))
    assert [b for b in found(floor, at(200)) if b not in before] == [(UPDATE, at(124))]


def test_breaches_between_keeps_the_window_and_orders_by_time():
    floor = Floor()
    sev1(floor)
    floor.do(c.NewCase(title="u", customer="B", severity=Severity.SEV1), "agent", at=at(10))
    histories = [[e for e in floor.log if e.case_id == cid] for cid in ("CW-1", "CW-2")]
    window = breaches_between(histories, PolicyHistory.only(floor.policy), at(16), at(29))
    assert [(b.case_id, b.kind, b.at) for b in window] == [("CW-1", UPDATE, at(20)), ("CW-2", OWNER, at(25))]


def _policy(owner_within: str, version: int):
    from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy

    sev1 = 'owner_within = "15m"'
    assert sev1 in DEFAULT_POLICY_TOML
    return parse_policy(DEFAULT_POLICY_TOML.replace(sev1, f'owner_within = "{owner_within}"', 1), version=version)


def owner_breaches(floor: Floor, policies: PolicyHistory, until: datetime) -> list[tuple[datetime, int]]:
    return [(b.at, b.policy_version) for b in case_breaches(floor.log, policies, until) if b.kind is OWNER]


def test_each_breach_is_judged_under_the_policy_in_force_then():
    v1 = _policy("15m", 1)
    floor = Floor(v1)
    sev1(floor)
    laxer = PolicyHistory([(T0 - timedelta(hours=1), v1), (at(10), _policy("45m", 2))])
    assert owner_breaches(floor, laxer, at(44)) == []  # v1's 15m no longer applies at 15
    assert owner_breaches(floor, laxer, at(50)) == [(at(45), 2)]
    stricter = PolicyHistory([(T0 - timedelta(hours=1), v1), (at(10), _policy("2m", 2))])
    assert owner_breaches(floor, stricter, at(11)) == []  # v2's 2m runs from the moment it took force
    assert owner_breaches(floor, stricter, at(13)) == [(at(12), 2)]
    later = PolicyHistory([(T0 - timedelta(hours=1), v1), (at(20), _policy("45m", 2))])
    assert owner_breaches(floor, later, at(50)) == [(at(15), 1), (at(45), 2)]  # v2 does not erase v1's breach


def test_a_stricter_policy_never_backdates_a_due_time():
    """A newly applied policy that shortens a window is held to the rule a raise is: the new due time
    is the earlier of the old one and the moment of the change plus the new window."""
    v1 = _policy("15m", 1)
    floor = Floor(v1)
    sev1(floor)
    policies = PolicyHistory([(T0 - timedelta(hours=1), v1), (at(12), _policy("5m", 2))])
    assert owner_breaches(floor, policies, at(14)) == []  # v2's 5m had passed since escalation; not late at once
    assert owner_breaches(floor, policies, at(16)) == [(at(15), 2)]  # v1's due time (15) is the earlier
    policies = PolicyHistory([(T0 - timedelta(hours=1), v1), (at(5), _policy("5m", 2))])
    [breach] = [b for b in case_breaches(floor.log, policies, at(20)) if b.kind is OWNER]
    assert (breach.at, breach.due, breach.policy_version) == (at(10), at(10), 2)  # min(15, 5 + 5)
    assert all(b.due >= at(5) for b in case_breaches(floor.log, policies, at(60)) if b.policy_version == 2)


def test_a_breach_records_the_case_the_clock_the_severity_and_the_policy():
    floor = Floor(_policy("15m", 3))
    cid = sev1(floor)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV2, reason="one region"), at=at(17))
    [breach] = [b for b in case_breaches(floor.log, PolicyHistory.only(floor.policy), at(18)) if b.kind is OWNER]
    assert (breach.case_id, breach.at, breach.due, breach.severity, breach.policy_version) == (
        cid, at(15), at(15), Severity.SEV1, 3)
    assert breach.as_json() == {"case_id": cid, "clock": "owner", "at": "2026-11-27T14:15:00Z",
                                "due": "2026-11-27T14:15:00Z", "severity": "SEV1", "policy_version": 3}


def test_the_policy_history_comes_from_the_log_in_the_order_it_applied_them():
    from casewatch.core.models import Event, EventType
    from casewatch.core.policy import DEFAULT_POLICY_TOML

    def applied(event_id: int, when: datetime, toml: str) -> Event:
        return Event(id=event_id, type=EventType.POLICY_APPLIED, actor="dana", occurred_at=when, recorded_at=when,
                     payload={"toml": toml, "source": "test"})

    stricter = DEFAULT_POLICY_TOML.replace('owner_within = "15m"', 'owner_within = "5m"', 1)
    history = PolicyHistory.from_log([applied(1, at(0), DEFAULT_POLICY_TOML), applied(7, at(30), stricter)])
    assert history is not None
    assert history.at(at(-60)).version == 1  # before any policy, the first counts
    assert [history.at(at(m)).version for m in (0, 29, 30, 90)] == [1, 1, 2, 2]
    assert history.at(at(30))[Severity.SEV1].owner_within == timedelta(minutes=5)
    assert history.changes(at(0), at(30)) == [at(30)] and history.changes(at(30), at(90)) == []
    assert PolicyHistory.from_log([]) is None
