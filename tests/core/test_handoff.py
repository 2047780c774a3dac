"""The shift handoff: packet content and order, the shift summary, the diff since prepare, the accept
rules, and the two-zone times across DST changes."""

from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.errors import InvalidInput, PermissionDenied
from casewatch.core.handoff import (
    Handoff,
    HandoffStatus,
    LeadRef,
    Packet,
    Shift,
    build_packet,
    check_accept,
    check_prepare,
    diff_since,
)
from casewatch.core.handoff_export import dual_time, local_time, relative
from casewatch.core.models import EvidenceState, Person, Role, Severity, Status
from casewatch.core.policy_history import PolicyHistory
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # Friday 07:00 in Berlin: the outgoing shift starts
BERLIN, TOKYO = "Europe/Berlin", "Asia/Tokyo"
ANNA = Person(name="anna", role=Role.LEAD, tz=BERLIN)
KEN = Person(name="ken", role=Role.LEAD, tz=TOKYO)
SHIFT = Shift(lead="anna", tz=BERLIN, started_at=T0)
INCOMING = LeadRef(name="ken", tz=TOKYO)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new(floor: Floor, severity: Severity, when: datetime, title: str = "Login fails") -> str:
    return floor.do(c.NewCase(title=title, customer="ACME", severity=severity), "agent", at=when).id


def packet(floor: Floor, now: datetime, **kwargs) -> Packet:
    return build_packet(cases=list(floor.cases.values()), events=floor.log, policy=floor.policy, policies=PolicyHistory.only(floor.policy), shift=SHIFT,
                        incoming=INCOMING, now=now, **kwargs)


def handoff(p: Packet, **kwargs) -> Handoff:
    return Handoff(id=7, packet=p, **kwargs)


# ------------------------------------------------------------------ the packet


def busy_floor() -> tuple[Floor, dict[str, str]]:
    """Four open cases and one resolved: a SEV1 with owner, comms and an update; a SEV3 escalated
    before the shift whose owner clock breaches during it; a SEV2 raised from SEV3; a fresh SEV2."""
    floor = Floor()
    ids = {}
    ids["old_sev3"] = new(floor, Severity.SEV3, T0 - timedelta(hours=6), "Reports slow")  # Fri 00:00 UTC
    ids["sev1"] = new(floor, Severity.SEV1, at(60), "Checkout down")
    floor.do(c.Assign(case_id=ids["sev1"], name="spec"), at=at(65))
    floor.do(c.AssignComms(case_id=ids["sev1"], name="agent"), at=at(66))
    floor.do(c.CustomerUpdate(case_id=ids["sev1"], known="k", investigating="i", next_milestone="rollback at 09:00"),
             at=at(70))
    ids["raised"] = new(floor, Severity.SEV3, at(90), "Exports fail")
    floor.do(c.ChangeSeverity(case_id=ids["raised"], severity=Severity.SEV2, reason="more tenants"), at=at(100))
    ids["fresh"] = new(floor, Severity.SEV2, at(470), "Webhooks late")
    ids["done"] = new(floor, Severity.SEV4, at(30), "Typo in invoice")
    floor.do(c.ChangeStatus(case_id=ids["done"], status=Status.RESOLVED), at=at(45))
    floor.do(c.ChangeRoute(case_id=ids["raised"], route="incident", reason="spreading"), at=at(105))
    floor.do(c.ReturnCase(case_id=ids["raised"], missing=("logs",), reason="no logs"), at=at(110))
    return floor, ids


def test_packet_lists_every_open_case_most_urgent_first_with_breached_clocks_first():
    floor, ids = busy_floor()
    now = at(480)  # 14:00 UTC
    p = packet(floor, now)
    order = [case.id for case in p.cases]
    # Breached first (the SEV1's update and review clocks, the SEV3's owner clock and the raised SEV2's),
    # by severity among them; then the rest by severity.
    assert order == [ids["sev1"], ids["raised"], ids["old_sev3"], ids["fresh"]]
    assert ids["done"] not in order
    assert [case.breached for case in p.cases] == [True, True, True, False]
    sev1 = p.cases[0]
    assert [(clock.kind, clock.state) for clock in sev1.clocks] == [
        (ClockKind.CUSTOMER_UPDATE, ClockState.BREACHED), (ClockKind.INTERNAL_REVIEW, ClockState.BREACHED)]
    assert sev1.clocks[0].due == at(90)  # the update at 07:10 UTC + 20 min
    assert all(clock.kind is not ClockKind.OWNER for clock in sev1.clocks)  # met: no longer running


def test_packet_case_holds_owners_missing_items_last_update_and_the_shifts_events():
    floor, ids = busy_floor()
    p = packet(floor, at(480), note="Watch CW-2", case_notes={ids["sev1"]: "rollback pending\nsee chat"})
    by_id = {case.id: case for case in p.cases}
    sev1, raised, old = by_id[ids["sev1"]], by_id[ids["raised"]], by_id[ids["old_sev3"]]
    assert (sev1.internal_owner, sev1.comms_owner, sev1.route, sev1.route_authority) == ("spec", "agent", "incident",
                                                                                         None)
    assert sev1.missing_roles == ["incident-commander"]  # the shift lead fills the lead role
    assert "attachments" in sev1.missing_evidence and len(sev1.missing_evidence) == 7
    assert by_id[ids["raised"]].returned and not sev1.returned
    assert sev1.last_update is not None and sev1.last_update.at == at(70)
    assert sev1.last_update.next_milestone == "rollback at 09:00"
    assert sev1.note == "rollback pending\nsee chat" and p.note == "Watch CW-2"
    assert [change.text for change in sev1.changes][:2] == [
        "escalated as SEV1 on route incident: Checkout down (ACME)", "internal owner: nobody → spec"]
    assert raised.route_review is False and raised.severity is Severity.SEV2
    assert old.last_update is None
    assert old.changes == []  # escalated before the shift began: nothing happened to it during the shift
    assert (p.outgoing, p.incoming, p.shift_started_at) == (LeadRef(name="anna", tz=BERLIN), INCOMING, T0)


def test_the_open_question_comes_from_the_checklist():
    floor = Floor()
    cid = new(floor, Severity.SEV2, at(10))
    assert packet(floor, at(20)).cases[0].open_question is None
    floor.do(c.SetEvidence(case_id=cid, key="open_question", state=EvidenceState.PARTIAL,
                           value="Why only EU tenants?\n"), at=at(15))
    assert packet(floor, at(20)).cases[0].open_question == "Why only EU tenants?"


def test_route_review_flag_is_carried():
    floor = Floor()
    cid = new(floor, Severity.SEV2, at(10))
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"), at=at(20))
    assert packet(floor, at(30)).cases[0].route_review is True


def test_paused_clock_is_listed_with_working_time_left_after_running_ones():
    floor = Floor()
    cid = new(floor, Severity.SEV3, at(180))  # 09:00 UTC, when the business calendar opens
    floor.do(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), at=at(240))
    clocks = packet(floor, at(300)).cases[0].clocks
    assert clocks[-1].kind is ClockKind.CUSTOMER_UPDATE and clocks[-1].state is ClockState.PAUSED
    assert clocks[-1].due is None and clocks[-1].left_s == 7 * 3600  # 8 working hours, 1 spent before waiting


def test_shift_summary_counts_opened_resolved_severity_breaches_and_evidence_returns_in_the_shift():
    floor, ids = busy_floor()
    s = packet(floor, at(480)).summary
    assert s.opened == [ids["done"], ids["sev1"], ids["raised"], ids["fresh"]]  # not the one from before the shift
    assert s.resolved == [ids["done"]]
    assert [(x.case_id, x.before, x.after) for x in s.severity_changes] == [(ids["raised"], Severity.SEV3,
                                                                             Severity.SEV2)]
    assert [(r.case_id, r.items) for r in s.evidence_returns] == [(ids["raised"], ["attachments"])]
    breaches = {(b.case_id, b.kind): b.at for b in s.breaches}
    # The SEV3 escalated at 00:00 UTC has a 4 h business-hours owner window from 09:00 UTC: due 13:00.
    assert breaches[(ids["old_sev3"], ClockKind.OWNER)] == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    assert breaches[(ids["sev1"], ClockKind.CUSTOMER_UPDATE)] == at(90)
    assert breaches[(ids["raised"], ClockKind.OWNER)] == at(130)  # raised to SEV2 at 07:40: owner within 30m of it
    assert (ids["fresh"], ClockKind.OWNER) not in breaches
    assert [b.at for b in s.breaches] == sorted(b.at for b in s.breaches)


def test_a_breach_before_the_shift_is_not_the_shifts():
    floor = Floor()
    new(floor, Severity.SEV1, T0 - timedelta(hours=2))
    s = packet(floor, at(60)).summary
    assert [b.kind for b in s.breaches] == []  # the owner, update and review clocks all ran out before 06:00


def test_a_breach_on_a_case_resolved_later_in_the_shift_still_counts():
    floor = Floor()
    cid = new(floor, Severity.SEV1, at(0))
    floor.do(c.ChangeStatus(case_id=cid, status=Status.RESOLVED), at=at(30))
    s = packet(floor, at(60)).summary
    assert [(b.kind, b.at) for b in s.breaches] == [(ClockKind.OWNER, at(15)), (ClockKind.CUSTOMER_UPDATE, at(20))]
    assert packet(floor, at(60)).cases == []


def test_prepare_outside_any_case_with_no_open_cases_is_an_empty_packet():
    p = packet(Floor(), at(60))
    assert p.cases == [] and p.summary.opened == [] and p.summary.breaches == []


def test_packet_round_trips_through_json():
    floor, ids = busy_floor()
    p = packet(floor, at(480), note="n", case_notes={ids["fresh"]: "call back"})
    assert Packet.model_validate(p.model_dump(mode="json")) == p


# ------------------------------------------------------------------ the diff since prepare


def test_diff_since_prepare_lists_new_cases_severity_changes_breaches_and_closed_cases():
    floor, ids = busy_floor()
    p = packet(floor, at(480))
    assert diff_since(p, floor.cases.values(), floor.log, PolicyHistory.only(floor.policy), at(480)).empty
    added = new(floor, Severity.SEV1, at(485), "New outage")
    floor.do(c.ChangeSeverity(case_id=ids["fresh"], severity=Severity.SEV1, reason="all EU"), at=at(490))
    floor.do(c.ChangeStatus(case_id=ids["old_sev3"], status=Status.RESOLVED), at=at(495))
    d = diff_since(p, floor.cases.values(), floor.log, PolicyHistory.only(floor.policy), at(510))
    assert [(x.id, x.severity, x.title) for x in d.new_cases] == [(added, Severity.SEV1, "New outage")]
    assert [(x.case_id, x.before, x.after, x.at) for x in d.severity_changes] == [
        (ids["fresh"], Severity.SEV2, Severity.SEV1, at(490))]
    assert d.closed == [ids["old_sev3"]]
    # The new SEV1's owner (15m) and update (20m) clocks breach after the packet; the fresh case, raised
    # to SEV1 20 minutes after its escalation, keeps SEV2's owner due time (500, sooner than 490 + 15m)
    # and owes its update 20 minutes after the raise, never at once.
    assert sorted((b.case_id, b.kind, b.at) for b in d.breaches) == sorted([
        (added, ClockKind.OWNER, at(500)),
        (added, ClockKind.CUSTOMER_UPDATE, at(505)),
        (ids["fresh"], ClockKind.OWNER, at(500)),
        (ids["fresh"], ClockKind.CUSTOMER_UPDATE, at(510)),
    ])
    assert not d.empty


def test_diff_does_not_repeat_a_breach_already_in_the_packet():
    floor = Floor()
    cid = new(floor, Severity.SEV1, at(0))
    p = packet(floor, at(16))  # the owner clock breached at 15
    d = diff_since(p, floor.cases.values(), floor.log, PolicyHistory.only(floor.policy), at(21))
    assert [(b.case_id, b.kind) for b in d.breaches] == [(cid, ClockKind.CUSTOMER_UPDATE)]


# ------------------------------------------------------------------ who may prepare and accept


def test_prepare_rules():
    check_prepare(ANNA, KEN, shift_lead="anna")
    check_prepare(ANNA, KEN, shift_lead=None)  # nobody leads yet: any lead may hand over
    with pytest.raises(PermissionDenied, match="ken is the shift lead|not the shift lead"):
        check_prepare(ANNA, KEN, shift_lead="ken")
    with pytest.raises(InvalidInput, match="to themselves"):
        check_prepare(ANNA, ANNA, shift_lead="anna")
    with pytest.raises(InvalidInput, match="agent: the incoming shift lead must be a lead"):
        check_prepare(ANNA, Person(name="al", role=Role.AGENT), shift_lead="anna")
    with pytest.raises(PermissionDenied, match="not a lead"):
        check_prepare(Person(name="al", role=Role.AGENT), KEN, shift_lead=None)


def test_only_the_named_incoming_lead_accepts():
    h = handoff(packet(Floor(), at(60)))
    check_accept(h, KEN)
    with pytest.raises(PermissionDenied, match="handoff 7 is addressed to ken; bea may not accept it"):
        check_accept(h, Person(name="bea", role=Role.LEAD, tz=TOKYO))


def test_the_preparer_cannot_accept_their_own_handoff():
    h = handoff(packet(Floor(), at(60)))
    with pytest.raises(PermissionDenied, match="anna prepared handoff 7 and cannot accept it: ken must"):
        check_accept(h, ANNA)


def test_a_handoff_is_accepted_once():
    h = handoff(packet(Floor(), at(60)), accepted_at=at(70))
    assert h.status is HandoffStatus.ACCEPTED
    with pytest.raises(InvalidInput, match="already accepted by ken"):
        check_accept(h, KEN)


def test_a_replaced_handoff_cannot_be_accepted():
    h = handoff(packet(Floor(), at(60)), superseded_by=8)
    assert h.status is HandoffStatus.SUPERSEDED
    with pytest.raises(InvalidInput, match="replaced by handoff 8"):
        check_accept(h, KEN)


def test_an_incoming_lead_demoted_since_cannot_accept():
    with pytest.raises(PermissionDenied, match="no longer a lead"):
        check_accept(handoff(packet(Floor(), at(60))), Person(name="ken", role=Role.AGENT, tz=TOKYO))


def test_an_unaccepted_handoff_turns_into_a_warning_after_15_minutes():
    h = handoff(packet(Floor(), at(60)))
    assert h.waiting_for(at(74)) == timedelta(minutes=14) and not h.overdue(at(74))
    assert h.overdue(at(75))
    assert not handoff(h.packet, accepted_at=at(70)).overdue(at(200))


# ------------------------------------------------------------------ two zones, DST-correct


def test_dual_time_names_both_zones_and_how_far_away():
    now = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    due = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    assert dual_time(due, TOKYO, BERLIN, now) == "Sat 09:30 JST · 01:30 CET · in 10h30m"
    assert dual_time(due - timedelta(hours=2), TOKYO, BERLIN, now) == "Sat 07:30 JST · Fri 23:30 CET · in 8h30m"
    assert dual_time(now - timedelta(minutes=40), TOKYO, BERLIN, now) == "Fri 22:20 JST · 14:20 CET · 40m ago"
    assert dual_time(now, BERLIN, "Europe/Paris", now) == "Fri 15:00 CET · now"  # the same wall time once
    assert local_time(now + timedelta(days=8), TOKYO, now) == "Sat 05 Dec 2026 23:00 JST"
    assert relative(now + timedelta(hours=3, minutes=20), now) == "in 3h20m"


def test_dual_time_is_dst_correct_on_both_sides_of_a_change():
    # Europe/Berlin leaves summer time on Sun 25 Oct 2026 at 01:00 UTC; Tokyo has no DST.
    now = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    assert dual_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), TOKYO, BERLIN, now) == \
        "Sun 09:30 JST · 02:30 CEST · in 4h30m"
    assert dual_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), TOKYO, BERLIN, now) == \
        "Sun 10:30 JST · 02:30 CET · in 5h30m"
    # Los Angeles leaves daylight time on Sun 1 Nov 2026 at 09:00 UTC.
    now = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    assert dual_time(datetime(2026, 11, 1, 8, 30, tzinfo=UTC), "America/Los_Angeles", BERLIN, now) == \
        "Sun 01:30 PDT · 09:30 CET · in 2h30m"
    assert dual_time(datetime(2026, 11, 1, 9, 30, tzinfo=UTC), "America/Los_Angeles", BERLIN, now) == \
        "Sun 01:30 PST · 10:30 CET · in 3h30m"


def test_a_case_closed_with_its_review_counts_as_resolved_once():
    """`case close` resolves too; closing (reviewing) a case already resolved is no second resolution."""
    floor = Floor()
    closed, reviewed = new(floor, Severity.SEV2, at(0)), new(floor, Severity.SEV3, at(5))
    floor.do(c.CloseCase(case_id=closed, final_severity=Severity.SEV3, avoidable=True), at=at(30))
    floor.do(c.ChangeStatus(case_id=reviewed, status=Status.RESOLVED), at=at(35))
    floor.do(c.CloseCase(case_id=reviewed, final_severity=Severity.SEV3, avoidable=False), at=at(40))
    assert packet(floor, at(60)).summary.resolved == [closed, reviewed]
