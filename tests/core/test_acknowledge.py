"""The shift lead's acknowledgement of an alert: decided only for the shift lead, a timeline line
"ack by NAME", counted by the checked fold only when its author led the shift then; and the undo of
`c` naming nobody back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.clocks import ClockKind
from casewatch.core.errors import InvalidInput, PermissionDenied
from casewatch.core.models import Event, EventType, Severity
from casewatch.core.rules import Context, decide
from casewatch.core.views import describe_event
from tests.core.floor import ROSTER, Floor
from tests.core.test_quarantine import T0, check_log, forged, roster_events

ACK = c.AcknowledgeAlert(case_id="CW-1", clock=ClockKind.CUSTOMER_UPDATE, state="breached")


def _floor() -> Floor:
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2), at=T0)
    return floor


def _decide(floor: Floor, actor: str, shift_lead: str | None) -> Event:
    ctx = Context(actor=ROSTER[actor], roster=ROSTER, policy=floor.policy, occurred_at=T0 + timedelta(hours=1),
                  recorded_at=T0 + timedelta(hours=1), shift_lead=shift_lead)
    return decide(ACK, floor.cases["CW-1"], ctx)


def _shift(actor: str, event_id: int) -> Event:
    return Event(id=event_id, type=EventType.SHIFT_STARTED, actor=actor, occurred_at=T0, recorded_at=T0,
                 payload={"lead": actor, "tz": "UTC", "before": None})


def test_the_shift_lead_acknowledges_and_the_timeline_says_ack_by_name():
    event = _decide(_floor(), "lead", shift_lead="lead")
    assert event.type is EventType.ALERT_ACKNOWLEDGED and event.case_id == "CW-1"
    assert event.payload == {"clock": "customer_update", "state": "breached", "lead": "lead"}
    assert describe_event(event) == "ack by lead: customer update clock breached"


@pytest.mark.parametrize(("actor", "lead", "said"), [
    ("lead", None, "nobody leads the shift"),
    ("lead", "dana", "dana leads the shift"),
    ("agent", "lead", "needs the shift lead"),
    ("viewer", "lead", "viewer"),
])
def test_nobody_but_the_shift_lead_acknowledges_for_the_floor(actor, lead, said):
    with pytest.raises(PermissionDenied, match=said):
        _decide(_floor(), actor, shift_lead=lead)


def test_an_acknowledgement_needs_an_alerting_state():
    with pytest.raises(ValueError):
        c.AcknowledgeAlert(case_id="CW-1", clock=ClockKind.OWNER, state="running")


def test_the_fold_counts_an_ack_only_from_whoever_led_the_shift_then():
    floor = _floor()
    payload = {"clock": "owner", "state": "warning", "lead": "lead"}
    before_shift = forged(floor, EventType.ALERT_ACKNOWLEDGED, payload, "lead")
    floor.log.append(_shift("lead", len(floor.log) + 1))
    honest = forged(floor, EventType.ALERT_ACKNOWLEDGED, payload, "lead")
    by_agent = forged(floor, EventType.ALERT_ACKNOWLEDGED, payload | {"lead": "agent"}, "agent")
    claims_other = forged(floor, EventType.ALERT_ACKNOWLEDGED, payload | {"lead": "someone"}, "lead")
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert honest in counted["CW-1"]
    assert {q.id for q in quarantined} == {before_shift.id, by_agent.id, claims_other.id}
    reasons = {q.id: q.reason for q in quarantined}
    assert reasons[before_shift.id] == "lead was not the shift lead (nobody was)"
    assert "agent" in reasons[by_agent.id]
    counted_case = counted["CW-1"]
    assert [e.type for e in counted_case] == [EventType.CASE_CREATED, EventType.ALERT_ACKNOWLEDGED]


def test_an_undo_of_c_names_nobody_only_where_someone_had_the_comms():
    floor = _floor()
    with pytest.raises(InvalidInput, match="has no comms owner"):
        floor.do(c.AssignComms(case_id="CW-1", name=None), at=T0 + timedelta(minutes=1))
    floor.do(c.AssignComms(case_id="CW-1", name="agent"), at=T0 + timedelta(minutes=2))
    case = floor.do(c.AssignComms(case_id="CW-1", name=None), at=T0 + timedelta(minutes=3))
    assert case.comms_owner is None
    assert describe_event(floor.log[-1]) == "comms owner: agent → nobody"
    forged(floor, EventType.COMMS_ASSIGNED, {"before": None, "after": None}, "lead")
    _, counted, quarantined = check_log(roster_events() + floor.log)
    assert len(counted["CW-1"]) == 3 and [q.reason for q in quarantined] == ["it names nobody, and nobody owned it"]
