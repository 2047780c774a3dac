"""The fold decides each case event again (core.redecide): a payload may ask, never derive. What
`decide` derives (the route a case starts on, before-values, route_review, return_cleared, via,
an item's version) must be what it would derive then, or the event is quarantined naming the field."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, PermissionDenied
from casewatch.core.evidence import DEFAULT_ITEMS
from casewatch.core.messages import render_customer_update
from casewatch.core.models import EventType, Severity, Status
from casewatch.core.projection import replay_cases
from casewatch.core.rules import next_update_due
from tests.core.floor import ROSTER, Floor
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


AFTER_THE_FIRST_RULES = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
"""A time a member's event is recorded at today: after `FIRST_RULES_UNTIL`."""


def test_an_old_shape_evidence_event_cannot_clear_a_return_mark():
    """N1: the first checklist's shape ({before, after} booleans) with `return_cleared` is compared as
    projection applies it (upgraded, the flag kept), so it cannot clear the mark while the packet is short."""
    floor = returned_floor()
    old = {"key": "reproduction", "before": False, "after": True}
    forgery = forged(floor, EventType.EVIDENCE_SET, old | {"return_cleared": True}, at=AFTER_THE_FIRST_RULES)
    honest = forged(floor, EventType.EVIDENCE_SET, old, at=AFTER_THE_FIRST_RULES)
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason) for q in quarantined] == [
        (forgery.id, "its return_cleared is not what casewatch derives (True, not False)")]
    case = replay_cases(counted["CW-1"])["CW-1"]
    assert counted["CW-1"][-1] == honest and case.returned is not None
    assert case.evidence["observed"].state == "done"


def test_only_a_lead_or_the_first_rules_name_a_route_authority_at_creation():
    """N2: the first rules' creation shape named the shift lead; an agent's raw creation naming her
    today is refused, while the first rules' own (recorded on their day) and a lead's still count."""
    floor = Floor()
    forged(floor, EventType.SHIFT_STARTED, {"lead": "lead", "tz": "Europe/Berlin", "before": None}, "lead",
           case_id=None, at=T0)
    created = {"title": "F6", "customer": "ACME", "summary": "", "severity": "SEV2", "route": "support",
               "route_authority": "lead"}
    agents = forged(floor, EventType.CASE_CREATED, created, case_id="CW-1", at=AFTER_THE_FIRST_RULES)
    agents_own = forged(floor, EventType.CASE_CREATED, created | {"route_authority": "agent"}, case_id="CW-2",
                        at=AFTER_THE_FIRST_RULES)
    leads = forged(floor, EventType.CASE_CREATED, created, "lead", case_id="CW-3", at=AFTER_THE_FIRST_RULES)
    first_rules = forged(floor, EventType.CASE_CREATED, created, case_id="CW-4", at=T0 + timedelta(hours=1))
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason) for q in quarantined] == [
        (agents.id, "its route_authority is not what casewatch derives ('lead', not None)"),
        (agents_own.id, "its route_authority is not what casewatch derives ('agent', not None)")]
    assert counted["CW-3"] == [leads] and counted["CW-4"] == [first_rules]
    assert replay_cases(counted["CW-3"])["CW-3"].route_authority == "lead"


def test_text_over_its_limit_counts_only_from_before_there_were_limits():
    """N6: a raw creation with a 250,000-character title, or a customer of 5,000, or a note over
    16 KiB, is quarantined; text of the first day (no limits then) and control characters an older
    version let through still count (shown escaped)."""
    floor = Floor()
    created = {"title": "Checkout down", "customer": "Globex", "summary": "", "severity": "SEV2",
               "route": "support", "route_authority": None}
    title = forged(floor, EventType.CASE_CREATED, created | {"title": "x" * 250_000}, case_id="CW-1",
                   at=AFTER_THE_FIRST_RULES)
    customer = forged(floor, EventType.CASE_CREATED, created | {"customer": "y" * 5_000}, case_id="CW-2",
                      at=AFTER_THE_FIRST_RULES)
    padded = forged(floor, EventType.CASE_CREATED, created | {"title": "Down" + " " * 300}, case_id="CW-3",
                    at=AFTER_THE_FIRST_RULES)
    honest = forged(floor, EventType.CASE_CREATED, created | {"title": "Down\u200b\x1b[2J"}, case_id="CW-4",
                    at=AFTER_THE_FIRST_RULES)
    note = forged(floor, EventType.NOTE_ADDED, {"text": "n" * (16 * 1024 + 1)}, case_id="CW-4",
                  at=AFTER_THE_FIRST_RULES)
    first_day = forged(floor, EventType.CASE_CREATED, created | {"title": "x" * 250_000}, case_id="CW-5",
                       at=T0 + timedelta(hours=1))
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason) for q in quarantined] == [
        (title.id, "its title is too long (250000 characters; the limit is 200)"),
        (customer.id, "its customer is too long (5000 characters; the limit is 120)"),
        (padded.id, "its title is too long (304 characters; the limit is 200)"),
        (note.id, "its text is too long (16385 bytes; the limit is 16384, 16 KiB)")]
    assert counted["CW-4"] == [honest] and counted["CW-5"] == [first_day]
    assert not any(counted.get(f"CW-{n}") for n in range(1, 4))


def test_a_derived_value_counts_only_as_the_same_type():
    """N7: `"route_review": 1` is not `true` (JSON and Python's `==` say it is): quarantined, and the
    case never holds an int where a flag belongs, so no serializer warning reaches stderr."""
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV3), at=T0)
    floor.do(c.Assign(case_id="CW-1", name="spec"), at=T0)
    bumped = {"before": "SEV3", "after": "SEV1", "reason": "bumped", "policy_route": "incident"}
    forgeries = [
        forged(floor, EventType.SEVERITY_CHANGED, bumped | {"route_review": 1}, "spec"),
        forged(floor, EventType.EVIDENCE_SET, {"key": "impact", "before": "missing", "state": "done", "value": "x",
                                               "reason": "", "version": 1.0}),
    ]
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [(q.id, q.reason) for q in quarantined] == [
        (forgeries[0].id, "its route_review is not what casewatch derives (1, not True)"),
        (forgeries[1].id, "its version is not what casewatch derives (1.0, not 1)")]
    case = replay_cases(counted["CW-1"])["CW-1"]
    assert case.route_review_needed is False and case.severity is Severity.SEV3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        case.model_dump(mode="json")


def test_a_customer_update_says_the_due_time_and_message_casewatch_renders():
    """N5: the comms owner cannot log a due time or a message casewatch would not have derived (the
    due time reaches the customer by write-back); an older update, without `next_update_due`,
    counts with its message in one of the renderings casewatch has had."""
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2), at=T0)
    floor.do(c.AssignComms(case_id="CW-1", name="agent"), at=T0)
    at = AFTER_THE_FIRST_RULES
    asked = dict(case_id="CW-1", known="k", investigating="i", next_milestone="n", next_update_in="10d")
    floor.do(c.CustomerUpdate(**asked), "agent", at=at)
    honest = floor.log[-1].payload
    assert honest["next_update_in_s"] == 864_000
    case = floor.cases["CW-1"]
    first_edition = render_customer_update(
        case_id="CW-1", title=case.title, customer=case.customer, known="k", investigating="i", next_milestone="n",
        next_update_due=next_update_due(case, floor.policy, at, timedelta(days=10)), sender="agent",
        tz=ROSTER["agent"].tz, sent_at=at, edition=1)
    assert first_edition != honest["message"]  # the first rendering gave no year
    older = {k: v for k, v in honest.items() if k != "next_update_due"}
    forgeries = [
        forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, honest | {"next_update_in_s": 2700,
                                                                  "next_update_due": "2099-01-01T00:00:00+00:00"},
               at=at),
        forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, honest | {"next_update_due": "2099-01-01T00:00:00+00:00"},
               at=at),
        forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, honest | {"message": "All fixed, no more updates."}, at=at),
        forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, older | {"message": "All fixed, no more updates."}, at=at),
        forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, honest | {"next_update_in_s": 864_000.0}, at=at),
    ]
    olds = [forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, older, at=at),
            forged(floor, EventType.CUSTOMER_UPDATE_LOGGED, older | {"message": first_edition}, at=at)]
    _, counted, quarantined = check_log(roster_events() + floor.log)
    reasons = [q.reason for q in quarantined]
    assert [q.id for q in quarantined] == [e.id for e in forgeries]
    assert reasons[0].startswith("its next_update_due is not what casewatch derives ('2099-01-01T00:00:00+00:00', "
                                 "not '2026-")
    assert reasons[1] == "its next_update_due is not what casewatch derives ('2099-01-01T00:00:00+00:00', " \
                         f"not {honest['next_update_due']!r})"
    assert reasons[2].startswith("its message is not what casewatch derives ('All fixed")
    assert reasons[3] == reasons[2]
    assert reasons[4] == "casewatch would have refused it: next_update_in_s 864000.0 is not a number of seconds"
    assert counted["CW-1"][-2:] == olds


def test_a_plain_creation_carrying_ticket_values_is_not_what_case_new_makes():
    """Sixth attack run: `seen` (what a tracker said of a ticket) on a creation without a ticket link
    went into the case's state unchecked, 200,000 characters of it. `case new` writes none."""
    floor = Floor()
    created = {"title": "Seen", "customer": "ACME", "summary": "", "severity": "SEV2", "route": "support",
               "route_authority": None}
    forgery = forged(floor, EventType.CASE_CREATED, created | {"seen": {"status": "S" * 200_000}}, case_id="CW-1")
    honest = forged(floor, EventType.CASE_CREATED, created | {"seen": {}}, case_id="CW-2")
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert [q.id for q in quarantined] == [forgery.id]
    assert quarantined[0].reason.startswith("its seen is not what casewatch derives")
    assert counted["CW-2"] == [honest] and not counted["CW-1"]
