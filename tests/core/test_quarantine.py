"""The checked fold: what `decide` allowed counts, a claim it would have refused is quarantined
(kept out of the state, listed with a reason), and bad data never raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.events import EVENTS, ChangesCase, OpensCase
from casewatch.core.models import READABLE, Event, EventType, Severity
from casewatch.core.projection import replay_cases
from casewatch.core.quarantine import CASE_ACTIONS, SYSTEM_ACTOR, CheckedFloor, Quarantined, check_case, check_floor
from tests.core.floor import ROSTER, Floor

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def roster_events() -> list[Event]:
    """The floor's people, added by the system before anything else (ids below the cases')."""
    return [Event(id=-len(ROSTER) + n, type=EventType.PERSON_ADDED, actor=SYSTEM_ACTOR, occurred_at=T0,
                  recorded_at=T0, payload={"name": p.name, "role": p.role.value, "tz": p.tz, "team": p.team})
            for n, p in enumerate(ROSTER.values())]


def check_log(events: list[Event]) -> tuple[CheckedFloor, dict[str, list[Event]], list[Quarantined]]:
    """A whole log in memory: the checked floor, each case's counted history, and every quarantined
    event in log order."""
    every = list(events)
    floor = check_floor(e for e in every if e.case_id is None)
    histories: dict[str, list[Event]] = {}
    for event in every:
        if event.case_id is not None:
            histories.setdefault(event.case_id, []).append(event)
    quarantined = list(floor.quarantined)
    counted: dict[str, list[Event]] = {}
    for case_id, history in histories.items():
        counted[case_id], refused = check_case(history, floor)
        quarantined.extend(refused)
    return floor, counted, sorted(quarantined, key=lambda q: q.id or 0)


def floor_with_a_case() -> Floor:
    floor = Floor()
    floor.do(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2), at=T0)
    floor.do(c.AssignComms(case_id="CW-1", name="agent"), at=T0 + timedelta(minutes=30))
    # the comms owner backfills an update to before they were named: decide saw them as comms owner
    floor.do(c.CustomerUpdate(case_id="CW-1", known="k", investigating="i", next_milestone="n"), "agent",
             at=T0 + timedelta(minutes=10), recorded=T0 + timedelta(minutes=40))
    return floor


def forged(floor: Floor, kind: EventType, payload, actor: str = "agent", **times) -> Event:
    at = times.get("at", T0 + timedelta(hours=1))
    event = Event.model_construct(id=len(floor.log) + 1, case_id=times.get("case_id", "CW-1"), type=kind,
                                  actor=actor, occurred_at=at, recorded_at=times.get("recorded", at), payload=payload)
    floor.log.append(event)
    return event


def test_every_event_decide_made_counts_backfills_included():
    floor = floor_with_a_case()
    checked, counted, quarantined = check_log(roster_events() + floor.log)
    assert quarantined == []
    assert replay_cases(counted["CW-1"]) == floor.replayed()
    assert set(checked.roster) == set(ROSTER)


def test_claims_the_rules_refuse_are_quarantined_with_a_reason_and_change_nothing():
    floor = floor_with_a_case()
    honest = floor.replayed()["CW-1"]
    refused = [
        forged(floor, EventType.OWNER_ASSIGNED, {"before": None, "after": "agent", "role": "agent"}),
        forged(floor, EventType.CASE_CREATED, {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"},
               "lead"),
        forged(floor, EventType.NOTE_ADDED, {"text": "early"}, at=T0 - timedelta(days=1)),
        forged(floor, EventType.NOTE_ADDED, {"text": "later"}, at=T0 + timedelta(days=9000), recorded=T0),
        forged(floor, EventType.NOTE_ADDED, {"text": "where?"}, case_id="CW-404"),
        forged(floor, "made_up", {}),
        forged(floor, EventType.NOTE_ADDED, [1, 2]),
        forged(floor, EventType.SEVERITY_CHANGED, {"before": "SEV2"}, "lead"),
        forged(floor, EventType.NOTE_ADDED, {"text": "who?"}, "mallory"),
        forged(floor, EventType.PERSON_ADDED, {"name": "agent", "role": "lead"}, case_id=None),
        forged(floor, EventType.PERSON_RENAMED, {"before": "agent", "after": "lead"}, "lead", case_id=None),
        forged(floor, EventType.SHIFT_STARTED, {"lead": "agent"}, case_id=None),
        forged(floor, EventType.HANDOFF_ACCEPTED, {"id": 1, "lead": "lead"}, "lead", case_id=None),
        forged(floor, EventType.PERSON_ADDED, {"name": "carol", "tz": "UTC"}, "lead", case_id=None),
    ]
    checked, counted, quarantined = check_log(roster_events() + floor.log)
    assert [q.id for q in quarantined] == [e.id for e in refused]
    reasons = [q.reason for q in quarantined]
    assert "naming the internal owner needs a lead" in reasons[0]
    assert reasons[1:6] == ["CW-1 was created already", "it claims to have happened before CW-1 was escalated",
                            "it claims to have happened after it was recorded", "no case CW-404 existed before it",
                            "unknown event type 'made_up'"]
    assert "does not parse" in reasons[7] and reasons[8] == "mallory was not on the roster"
    assert reasons[9] == "agent was not a lead: person added needs a lead"
    assert reasons[10] == "lead was already on the roster"
    assert replay_cases(counted["CW-1"])["CW-1"] == honest
    assert checked.roster["agent"].role.value == "agent" and checked.floor.shift_lead is None


def test_every_case_event_type_needs_a_permission():
    case_types = {kind for kind, entry in EVENTS.items() if isinstance(entry, OpensCase | ChangesCase)}
    assert set(CASE_ACTIONS) == case_types


def test_what_no_state_can_take_is_quarantined_never_raised():
    """Case ids the counter cannot follow, a ticket link another case holds, tracker values on a
    case without a ticket, a payload that did not decode (read as None): each is quarantined alone."""
    floor = floor_with_a_case()
    created = {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"}
    zd = {"name": "zd", "kind": "zendesk", "id": "100"}
    linked = forged(floor, EventType.CASE_CREATED, created | {"source": zd, "via": "zd"}, "lead", case_id="CW-2")
    refused = [
        forged(floor, EventType.CASE_CREATED, created, "lead", case_id="CW-abc"),
        forged(floor, EventType.CASE_CREATED, created, "lead", case_id="CW-99999999999999999999"),
        forged(floor, EventType.CASE_CREATED, created, "lead", case_id="CW-2147483647"),
        forged(floor, EventType.CASE_CREATED, created | {"source": zd}, "lead", case_id="CW-3"),
        forged(floor, EventType.TICKET_SEEN, {"seen": {"status": "open"}}, "lead"),
        forged(floor, EventType.TICKET_SEEN, {"seen": "str"}, "lead", case_id="CW-2"),
        forged(floor, EventType.NOTE_ADDED, None),
    ]
    seen = forged(floor, EventType.TICKET_SEEN, {"seen": {"status": "open"}}, "lead", case_id="CW-2")
    links = {("zd", "100"): "CW-2"}
    checked = check_floor(e for e in roster_events() + floor.log if e.case_id is None)
    checked.links = links
    quarantined: list[Quarantined] = []
    counted = {}
    for case_id in ("CW-1", "CW-2", "CW-3", "CW-abc", "CW-99999999999999999999", "CW-2147483647"):
        counted[case_id], refused_here = check_case([e for e in floor.log if e.case_id == case_id], checked)
        quarantined.extend(refused_here)
    assert sorted(q.id for q in quarantined) == [e.id for e in refused]
    reasons = {q.id: q.reason for q in quarantined}
    assert all("is not a case id casewatch gives" in reasons[e.id] for e in refused[:3])
    assert reasons[refused[3].id] == "ticket 100 of zd is linked to another case"
    assert reasons[refused[4].id] == "CW-1 is not linked to a tracker ticket"
    assert reasons[refused[5].id] == "what it saw is not a set of tracker values"
    assert reasons[refused[6].id] == "its payload does not parse"
    assert [e.id for e in counted["CW-2"]] == [linked.id, seen.id]


def test_a_linked_case_needs_an_importer_and_claims_its_ticket_under_any_spelling():
    """An agent's linked creation is quarantined and holds no link (core.permissions Action.IMPORT);
    the lead's first creation holds it, also against `ZD`/`00100`; a `javascript:` URL or a link
    that is not one casewatch makes is quarantined; a leading zero is no case id."""
    from casewatch.core.models import link_key
    from casewatch.core.quarantine import link_holders

    floor = floor_with_a_case()
    created = {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"}
    zd = {"name": "zd", "kind": "zendesk", "id": "100", "url": "https://acme.zendesk.com/agent/tickets/100"}
    agents = forged(floor, EventType.CASE_CREATED, created | {"source": zd}, "agent", case_id="CW-2")
    leads = forged(floor, EventType.CASE_CREATED, created | {"source": zd, "via": "zd"}, "lead", case_id="CW-3")
    refused = [
        forged(floor, EventType.CASE_CREATED, created | {"source": zd | {"name": "ZD", "id": "00100"}}, "lead",
               case_id="CW-4"),
        forged(floor, EventType.CASE_CREATED, created | {"source": zd | {"id": "7", "url": "javascript:x"}}, "lead",
               case_id="CW-5"),
        forged(floor, EventType.CASE_CREATED, created | {"source": zd | {"id": 8}}, "lead", case_id="CW-6"),
        forged(floor, EventType.CASE_CREATED, created, "lead", case_id="CW-07"),
    ]
    checked = check_floor(e for e in roster_events() + floor.log if e.case_id is None)
    checked.links = link_holders((e for e in floor.log if e.type is EventType.CASE_CREATED), checked)
    assert checked.links == {link_key("zd", "100"): "CW-3"} and link_key("ZD", "00100") == ("zd", "100")
    reasons = {}
    for case_id in ("CW-2", "CW-3", "CW-4", "CW-5", "CW-6", "CW-07"):
        counted, refused_here = check_case([e for e in floor.log if e.case_id == case_id], checked)
        reasons.update({q.id: q.reason for q in refused_here})
        assert (case_id == "CW-3") == bool(counted)
    assert reasons[agents.id] == "ticket 100 of zd is linked to another case"
    assert leads.id not in reasons
    assert reasons[refused[0].id] == "ticket 00100 of ZD is linked to another case"
    assert reasons[refused[1].id] == "its ticket link's URL is not an http(s) address"
    assert reasons[refused[2].id] == "its ticket link is not one casewatch makes"
    assert "is not a case id casewatch gives" in reasons[refused[3].id]
    checked.links = {}  # nobody holds it: the agent's claim fails on who may import
    _, alone = check_case([agents], checked)
    assert [q.reason for q in alone] == ["agent is an agent: importing cases from a tracker needs a lead"]


def test_a_time_out_of_range_or_before_2000_is_quarantined_whichever_time_it_is():
    """Storage reads a BC, infinite or unreadable logged time at a bound of `READABLE`: such an
    event, or one recorded before 2000 (an administrator's raw write), counts for nothing."""
    floor = floor_with_a_case()
    early, late = READABLE
    made = [forged(floor, EventType.NOTE_ADDED, {"text": "et tu"}, at=early, recorded=T0 + timedelta(hours=1)),
            forged(floor, EventType.NOTE_ADDED, {"text": "et tu"}, at=T0 + timedelta(hours=1), recorded=late),
            forged(floor, EventType.PERSON_ADDED, {"name": "brutus", "role": "lead", "tz": "UTC"}, actor=SYSTEM_ACTOR,
                   case_id=None, at=early, recorded=early),
            forged(floor, EventType.NOTE_ADDED, {"text": "et tu"}, at=datetime(1999, 1, 1, tzinfo=UTC),
                   recorded=datetime(1999, 1, 1, tzinfo=UTC))]
    checked, counted, quarantined = check_log(roster_events() + floor.log)
    assert [q.id for q in quarantined] == [e.id for e in made]
    assert [q.reason.split(" (")[0] for q in quarantined] == ["its time is out of range"] * 3 + [
        "it claims to have happened before 2000"]
    assert "brutus" not in checked.roster and len(counted["CW-1"]) == 3
