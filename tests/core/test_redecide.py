"""The fold decides each case event again (core.redecide): a payload may ask, never derive. What
`decide` derives (the route a case starts on, before-values, route_review, return_cleared, via,
an item's version) must be what it would derive then, or the event is quarantined naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, PermissionDenied
from casewatch.core.evidence import DEFAULT_ITEMS
from casewatch.core.models import EventType, Severity, Status
from casewatch.core.projection import replay_cases
from tests.core.floor import Floor
from tests.core.test_quarantine import T0, check_log, forged, roster_events

EVERY_KEY_DONE = [{"key": item.key, "label": item.label, "done": True} for item in DEFAULT_ITEMS]


def returned_floor() -> Floor:
    """CW-1 (SEV2) went to the database team past the gate and came back for missing impact."""
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2), at=T0)
    floor.do(c.ChangeRoute(case_id="CW-1", route="specialist:database", reason="lag", override="sev2 now"),
             at=T0 + timedelta(minutes=1))
    floor.do(c.ReturnCase(case_id="CW-1", missing=("impact",), reason="who is hit?"), "spec",
             at=T0 + timedelta(minutes=2))
    return floor


def test_an_honest_history_counts_whole():
    floor = returned_floor()
    at = T0 + timedelta(minutes=3)
    for item in DEFAULT_ITEMS:
        floor.do(c.SetEvidence(case_id="CW-1", key=item.key, state="done", value="v"), "agent", at=at)
    floor.do(c.Involve(case_id="CW-1", name="agent", role="incident-commander"), at=at)
    floor.do(c.ChangeSeverity(case_id="CW-1", severity=Severity.SEV1, reason="worse"), at=at)
    floor.do(c.ChangeRoute(case_id="CW-1", route="incident", reason="review"), at=at)
    floor.do(c.ChangeStatus(case_id="CW-1", status=Status.RESOLVED), at=at)
    floor.do(c.CloseCase(case_id="CW-1", final_severity=Severity.SEV1, avoidable=False), at=at)
    assert floor.cases["CW-1"].returned is None  # the packet complete again cleared it
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert quarantined == []
    assert replay_cases(counted["CW-1"]) == floor.replayed()


def test_a_forged_creation_gives_no_route_authority_no_route_and_no_evidence():
    """Finding 2: a creation is checked as `case new` (or an import) would have made it."""
    floor = Floor()
    created = {"title": "Forged", "customer": "Evil", "summary": "", "severity": "SEV1", "route": "incident",
               "route_authority": None}
    forgeries = [
        forged(floor, EventType.CASE_CREATED, created | {"route": "specialist:payments", "route_authority": "agent",
                                                         "evidence": EVERY_KEY_DONE}, case_id="CW-1"),
        forged(floor, EventType.CASE_CREATED, created | {"route_authority": "agent"}, case_id="CW-2"),
        forged(floor, EventType.CASE_CREATED, created | {"evidence": EVERY_KEY_DONE}, case_id="CW-3"),
        forged(floor, EventType.CASE_CREATED, created | {"route": "support"}, "lead", case_id="CW-4"),
    ]
    honest = forged(floor, EventType.CASE_CREATED, created, case_id="CW-5")
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [q.id for q in quarantined] == [e.id for e in forgeries]
    assert [q.reason.split(" is not")[0] for q in quarantined] == [
        "its route", "its route_authority", "its evidence", "its route"]
    assert "'specialist:payments', not 'incident'" in quarantined[0].reason
    assert counted["CW-5"] == [honest] and not any(counted[f"CW-{n}"] for n in range(1, 5))


def test_a_forged_return_cleared_leaves_the_return_mark():
    """Finding 6: an item done while the packet is still short does not clear another's return."""
    floor = returned_floor()
    forgery = forged(floor, EventType.EVIDENCE_SET, {"key": "timeline", "before": "missing", "state": "done",
                                                     "value": "x", "reason": "", "version": 1,
                                                     "return_cleared": True})
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason) for q in quarantined] == [
        (forgery.id, "its return_cleared is not what casewatch derives (True, not False)")]
    assert replay_cases(counted["CW-1"])["CW-1"].returned is not None


def test_every_derived_field_of_a_case_event_must_be_what_decide_derives():
    """Finding 7: route_review, a before-value, a change to the same severity, via, an item the
    policy does not have, an item version, a return's owner."""
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV3), at=T0)
    floor.do(c.Assign(case_id="CW-1", name="spec"), at=T0)
    bumped = {"before": "SEV3", "after": "SEV1", "reason": "bumped"}
    forgeries = [
        forged(floor, EventType.SEVERITY_CHANGED, bumped | {"route_review": False}, "spec"),
        forged(floor, EventType.SEVERITY_CHANGED, bumped | {"before": "SEV1", "after": "SEV2", "route_review": False},
               "spec"),
        forged(floor, EventType.SEVERITY_CHANGED, bumped | {"after": "SEV3", "route_review": False}, "spec"),
        forged(floor, EventType.NOTE_ADDED, {"text": "from the tracker", "via": "zendesk"}, "spec"),
        forged(floor, EventType.NOTE_ADDED, {"text": "from the tracker", "via": "zendesk"}, "lead"),
        forged(floor, EventType.STATUS_CHANGED, {"before": "new", "after": "investigating", "via": "zendesk"}, "lead"),
        forged(floor, EventType.EVIDENCE_SET, {"key": "payroll", "before": "missing", "state": "done", "value": "x",
                                               "reason": "", "version": 1}),
        forged(floor, EventType.EVIDENCE_SET, {"key": "impact", "before": "missing", "state": "done", "value": "x",
                                               "reason": "", "version": 7}),
        forged(floor, EventType.OWNER_ASSIGNED, {"before": None, "after": "agent", "role": "agent"}, "lead"),
    ]
    honest = forged(floor, EventType.SEVERITY_CHANGED, bumped | {"policy_route": "incident", "route_review": True},
                    "spec")
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [q.id for q in quarantined] == [e.id for e in forgeries]
    reasons = [q.reason for q in quarantined]
    assert reasons[0] == "its route_review is not what casewatch derives (False, not True)"
    assert reasons[1] == "its before is not what casewatch derives ('SEV1', not 'SEV3')"
    assert reasons[2] == "casewatch would have refused it: CW-1 is already SEV3"
    assert reasons[3] == "casewatch would have refused it: spec is a specialist: importing cases from a tracker needs a lead"
    assert reasons[4] == reasons[5] == "casewatch would have refused it: CW-1 is not linked to a zendesk ticket"
    assert reasons[6].startswith("casewatch would have refused it: CW-1 has no evidence item 'payroll'")
    assert reasons[7] == "its version is not what casewatch derives (7, not 1)"
    assert reasons[8] == "its before is not what casewatch derives (None, not 'spec')"
    case = replay_cases(counted["CW-1"])["CW-1"]
    assert counted["CW-1"][-1] == honest and case.route_review_needed and case.internal_owner == "spec"


def test_a_required_case_role_is_filled_as_the_roster_and_a_lead_say():
    """Finding 8: `lead` on a case is a lead on the roster; a role the policy requires (SEV1's
    incident-commander) is named by a lead, and an agent's claim of it is quarantined."""
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV1), at=T0)
    with pytest.raises(InvalidInput, match="agent is not a lead on the roster"):
        floor.do(c.Involve(case_id="CW-1", name="agent", role="lead"), "agent", at=T0)
    with pytest.raises(InvalidInput, match="agent is not a lead on the roster"):
        floor.do(c.Involve(case_id="CW-1", name="agent", role="Lead"), at=T0)
    with pytest.raises(PermissionDenied, match="a lead names who fills it"):
        floor.do(c.Involve(case_id="CW-1", name="agent", role="incident-commander"), "agent", at=T0)
    floor.do(c.Involve(case_id="CW-1", name="agent", role="scribe"), "agent", at=T0)
    forgery = forged(floor, EventType.PARTICIPANT_INVOLVED, {"name": "agent", "role": "incident-commander"})
    floor.do(c.Involve(case_id="CW-1", name="agent", role="incident-commander"), at=T0 + timedelta(hours=2))
    floor.do(c.Involve(case_id="CW-1", name="lead", role="lead"), at=T0 + timedelta(hours=2))
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason.split(":")[0]) for q in quarantined] == [(forgery.id, "casewatch would have refused it")]
    assert "a lead names who fills it" in quarantined[0].reason
    assert len(counted["CW-1"]) == 4


def test_a_backfill_is_judged_from_the_case_its_writer_saw_in_history_order():
    """The store decides from the case folded in history order; after a backfilled status change
    the log-order fold says otherwise, and the next change's before-value is the history's."""
    from casewatch.core.rules import Context, decide
    from tests.core.floor import ROSTER

    log = []

    def write(command, at, recorded=None):
        case = replay_cases(log).get("CW-1")
        ctx = Context(actor=ROSTER["lead"], roster=ROSTER, policy=Floor().policy, occurred_at=at,
                      recorded_at=recorded or at)
        log.append(decide(command, case, ctx, new_case_id="CW-1").model_copy(update={"id": len(log) + 1}))

    write(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2), T0)
    write(c.ChangeStatus(case_id="CW-1", status=Status.INVESTIGATING), T0 + timedelta(hours=2))
    write(c.ChangeStatus(case_id="CW-1", status=Status.WAITING_ON_CUSTOMER), T0 + timedelta(hours=1),
          T0 + timedelta(hours=3))
    write(c.ChangeStatus(case_id="CW-1", status=Status.RESOLVED), T0 + timedelta(hours=4))
    assert log[-1].payload["before"] == "investigating"
    _, counted, quarantined = check_log(roster_events() + log)
    assert quarantined == [] and len(counted["CW-1"]) == 4
