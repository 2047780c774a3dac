"""One entry per event type: how it changes the state it belongs to and how the timeline says it.

A new event type is a member of `EventType` plus one entry in `EVENTS`; projection (`apply`,
`apply_floor`) and the timeline (`views.describe_event`) only look entries up. The coverage test in
tests/test_parts.py fails when a type has no entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from casewatch.core.evidence import apply_return, apply_set, records_at_creation, upgrade_set_payload
from casewatch.core.models import (
    Case,
    CaseReturn,
    CaseReview,
    Event,
    EventType,
    FloorState,
    Interval,
    Participant,
    Person,
    Role,
    Severity,
    SeverityStep,
    SourceLink,
    Status,
)
from casewatch.core.text import counted

Payload = Mapping[str, Any]
Describe = Callable[[Payload], str]


@dataclass(frozen=True)
class OpensCase:
    """The event that starts a case: `fields` are the new case's, besides version and authorship."""

    fields: Callable[[Event], dict[str, Any]]
    describe: Describe


@dataclass(frozen=True)
class ChangesCase:
    """An event on an existing case: `change` returns the fields it sets (the version bump is generic)."""

    change: Callable[[Case, Event], dict[str, Any]]
    describe: Describe


@dataclass(frozen=True)
class ChangesFloor:
    """An event outside any case: roster, policy, shift."""

    change: Callable[[FloorState, Event], FloorState]
    describe: Describe


EventKind = OpensCase | ChangesCase | ChangesFloor


def _who(value: str | None) -> str:
    return value or "nobody"


def _before_after(label: str) -> Describe:
    return lambda p: f"{label}: {_who(p['before'])} → {_who(p['after'])}"


def _with_participant(case: Case, name: str | None, role: str | None) -> list[Participant]:
    if not name or not role or any(p.name == name and p.role == role for p in case.participants):
        return case.participants
    return case.participants + [Participant(name=name, role=role)]


def _close_waiting(waiting: list[Interval], at: datetime) -> list[Interval]:
    if waiting and waiting[-1].end is None:
        return waiting[:-1] + [Interval(start=waiting[-1].start, end=at)]
    return waiting


# ------------------------------------------------------------------ case events

def _created(e: Event) -> dict[str, Any]:
    p = e.payload
    return {
        "id": e.case_id, "title": p["title"], "customer": p["customer"], "summary": p.get("summary", ""),
        "severity": Severity(p["severity"]), "route": p["route"], "route_authority": p.get("route_authority"),
        "participants": [Participant(name=e.actor, role="reporter")], "escalated_at": e.occurred_at,
        "evidence": records_at_creation(p.get("evidence", []), e.actor, e.occurred_at),  # older cases listed it
        "source": SourceLink(**p["source"]) if p.get("source") else None, "source_seen": p.get("seen", {}),
    }


def _describe_created(p: Payload) -> str:
    text = f"escalated as {p['severity']} on route {p['route']}: {p['title']} ({p['customer']})"
    if source := p.get("source"):
        link = SourceLink(**source)
        return f"{text} from {link.name} ticket {link.key}"
    return text


def _describe_seen(p: Payload) -> str:
    seen = ", ".join(f"{name} {value!r}" for name, value in sorted(p["seen"].items()) if value)
    return f"ticket seen: {seen or 'no values'}"


def _owner_assigned(case: Case, e: Event) -> dict[str, Any]:
    after = e.payload["after"]
    update = {"internal_owner": after, "participants": _with_participant(case, after, e.payload.get("role"))}
    if case.owner_named_at is None and after is not None:
        update["owner_named_at"] = e.occurred_at
    return update


def _comms_assigned(case: Case, e: Event) -> dict[str, Any]:
    after = e.payload["after"]
    return {"comms_owner": after, "participants": _with_participant(case, after, e.payload.get("role"))}


def _severity_changed(case: Case, e: Event) -> dict[str, Any]:
    after = Severity(e.payload["after"])
    step = SeverityStep(at=e.occurred_at, before=case.severity, after=after)
    return {"severity": after, "severity_steps": [*case.severity_steps, step],
            "route_review_needed": case.route_review_needed or e.payload["route_review"] is True}


def _describe_severity(p: Payload) -> str:
    review = "; route review needed" if p.get("route_review") else ""
    return f"severity: {p['before']} → {p['after']} ({p['reason']}){review}"


def _status_changed(case: Case, e: Event) -> dict[str, Any]:
    after, at = Status(e.payload["after"]), e.occurred_at
    waiting = _close_waiting(case.waiting, at)
    if after is Status.WAITING_ON_CUSTOMER:
        waiting = waiting + [Interval(start=at)]
    return {"status": after, "waiting": waiting, "resolved_at": at if after is Status.RESOLVED else None}


def _closed(case: Case, e: Event) -> dict[str, Any]:
    """Resolved (when it was not already) with the review kept on the case."""
    p, at = e.payload, e.occurred_at
    review = CaseReview(by=e.actor, at=at, final_severity=Severity(p["final_severity"]), avoidable=p["avoidable"],
                        cause=p.get("cause"), lesson=p.get("lesson", ""), notes=p.get("notes", ""))
    resolved_at = case.resolved_at if case.status is Status.RESOLVED else at
    return {"status": Status.RESOLVED, "waiting": _close_waiting(case.waiting, at), "resolved_at": resolved_at,
            "review": review}


def _describe_close(p: Payload) -> str:
    avoidable = "avoidable" if p["avoidable"] else "not avoidable"
    cause = f", cause {p['cause']}" if p.get("cause") else ""
    lesson = f"; lesson: {p['lesson']}" if p.get("lesson") else ""
    return f"closed and reviewed: final severity {p['final_severity']}, {avoidable}{cause}{lesson}"


def _evidence_set(case: Case, e: Event) -> dict[str, Any]:
    """Applied as upgraded (the first checklist's shape too): the payload the fold compared."""
    p = upgrade_set_payload(e.payload)
    returned = None if p.get("return_cleared") is True else case.returned
    return {"evidence": apply_set(case.evidence, p, e.actor, e.occurred_at), "returned": returned}


def _describe_evidence(payload: Payload) -> str:
    p = upgrade_set_payload(payload)
    reason = f" ({p['reason']})" if p.get("reason") else ""
    cleared = "; packet complete again" if p.get("return_cleared") else ""
    if p["before"] == p["state"]:  # the text changed, not the state: "done → done" said nothing
        return f"evidence {p['key']}: value edited{reason}{cleared}"
    return f"evidence {p['key']}: {p['before']} → {p['state']}{reason}{cleared}"


def _route_changed(case: Case, e: Event) -> dict[str, Any]:
    p = e.payload
    return {"route": p["after"], "route_review_needed": False,
            "returned": None if p["after"] != "support" else case.returned,
            "gate_overrides": case.gate_overrides + (1 if p.get("override") else 0)}


def _describe_route(p: Payload) -> str:
    text = (f"route confirmed: {p['after']} ({p['reason']})" if p["before"] == p["after"]
            else f"route: {p['before']} → {p['after']} ({p['reason']})")
    missing = ", ".join(p.get("missing", []))
    if p.get("override"):
        return f"{text}; evidence gate overridden: {p['override']} (missing: {missing})"
    return f"{text}; missing evidence: {missing}" if missing else text


def _returned(case: Case, e: Event) -> dict[str, Any]:
    p = e.payload
    returned = CaseReturn(by=e.actor, at=e.occurred_at, reason=p["reason"], keys=tuple(p["missing"]),
                          from_route=p["before"])
    owner = None if p.get("owner_cleared") else case.internal_owner
    return {"route": p["after"], "route_review_needed": bool(p.get("route_review")), "returned": returned,
            "internal_owner": owner,
            "evidence": apply_return(case.evidence, p, e.actor, e.occurred_at)}


def _describe_return(p: Payload) -> str:
    owner = f"; {p['owner_cleared']} no longer owns it" if p.get("owner_cleared") else ""
    review = f"; route review needed (policy says {p['policy_route']})" if p.get("route_review") else ""
    return (f"returned from {p['before']} to support for missing {', '.join(p['missing'])} ({p['reason']})"
            f"{owner}{review}")


def resolves_case(event: Event) -> bool:
    """The event resolved its case: a status change to resolved, or a close of a case not resolved yet."""
    if event.type is EventType.STATUS_CHANGED:
        return bool(event.payload["after"] == Status.RESOLVED.value)
    return event.type is EventType.CASE_CLOSED and event.payload.get("before") != Status.RESOLVED.value


# ----------------------------------------------------------------- floor events

def added_person(p: Payload) -> Person:
    """The roster entry a `person_added` payload describes."""
    return Person(name=p["name"], role=Role(p["role"]), tz=p.get("tz") or "UTC", team=p.get("team"),
                  display_name=p.get("display_name"))


def _person_added(floor: FloorState, e: Event) -> FloorState:
    person = added_person(e.payload)
    return replace(floor, roster={**floor.roster, person.name: person})


def _person_renamed(floor: FloorState, e: Event) -> FloorState:
    """The person keeps role, zone and team under the new name; a shift lead and logins follow it."""
    before, after = e.payload["before"], e.payload["after"]
    roster = {name: person for name, person in floor.roster.items() if name != before}
    if before in floor.roster:
        roster[after] = floor.roster[before].model_copy(update={"name": after})
    lead = after if floor.shift_lead == before else floor.shift_lead
    logins = {login: after if person == before else person for login, person in floor.logins.items()}
    return replace(floor, roster=roster, shift_lead=lead, logins=logins)


EVENTS: dict[EventType, EventKind] = {
    EventType.CASE_CREATED: OpensCase(_created, _describe_created),
    EventType.TITLE_CHANGED: ChangesCase(lambda case, e: {"title": e.payload["after"]}, _before_after("title")),
    EventType.TICKET_SEEN: ChangesCase(lambda case, e: {"source_seen": e.payload["seen"]}, _describe_seen),
    EventType.OWNER_ASSIGNED: ChangesCase(_owner_assigned, _before_after("internal owner")),
    EventType.COMMS_ASSIGNED: ChangesCase(_comms_assigned, _before_after("comms owner")),
    EventType.AUTHORITY_SET: ChangesCase(
        lambda case, e: {"route_authority": e.payload["after"]}, _before_after("route authority")),
    EventType.PARTICIPANT_INVOLVED: ChangesCase(
        lambda case, e: {"participants": _with_participant(case, e.payload["name"], e.payload["role"])},
        lambda p: f"involved {p['name']} as {p['role']}"),
    EventType.SEVERITY_CHANGED: ChangesCase(_severity_changed, _describe_severity),
    EventType.ROUTE_CHANGED: ChangesCase(_route_changed, _describe_route),
    EventType.CUSTOMER_UPDATE_LOGGED: ChangesCase(
        lambda case, e: {"last_customer_update_at": e.occurred_at,
                         "next_update_override_s": e.payload.get("next_update_in_s")},
        lambda p: f"customer update: {p['known']} | next milestone: {p['next_milestone']}"),
    EventType.REVIEW_LOGGED: ChangesCase(
        lambda case, e: {"last_review_at": e.occurred_at}, lambda p: f"internal review: {p['notes']}"),
    EventType.STATUS_CHANGED: ChangesCase(_status_changed, lambda p: f"status: {p['before']} → {p['after']}"),
    EventType.CASE_REOPENED: ChangesCase(
        lambda case, e: {"status": Status(e.payload["after"]), "resolved_at": None},
        lambda p: f"reopened: {p['before']} → {p['after']}"),
    EventType.NOTE_ADDED: ChangesCase(lambda case, e: {}, lambda p: f"note: {p['text']}"),
    EventType.EVIDENCE_SET: ChangesCase(_evidence_set, _describe_evidence),
    EventType.CASE_RETURNED: ChangesCase(_returned, _describe_return),
    EventType.CASE_CLOSED: ChangesCase(_closed, _describe_close),
    EventType.ALERT_ACKNOWLEDGED: ChangesCase(
        lambda case, e: {}, lambda p: f"ack by {p['lead']}: {str(p['clock']).replace('_', ' ')} clock {p['state']}"),
    EventType.PERSON_ADDED: ChangesFloor(_person_added, lambda p: f"roster: {p['name']} as {p['role']} ({p['tz']})"),
    EventType.PERSON_RENAMED: ChangesFloor(_person_renamed, lambda p: f"roster: {p['before']} renamed to {p['after']}"),
    EventType.LOGIN_GRANTED: ChangesFloor(
        lambda floor, e: replace(floor, logins={**floor.logins, e.payload["login"]: e.payload["person"]}),
        lambda p: f"login {p['login']} acts as {p['person']}" + (f" (was {p['before']})" if p.get("before") else "")),
    EventType.POLICY_APPLIED: ChangesFloor(
        lambda floor, e: replace(floor, policy_source=e.payload["toml"]),
        lambda p: f"policy applied from {p.get('source', 'a file')}"),
    EventType.SHIFT_STARTED: ChangesFloor(
        lambda floor, e: replace(floor, shift_lead=e.payload["lead"]),
        lambda p: f"shift started; shift lead {_who(p.get('before'))} → {p['lead']}"),
    EventType.HANDOFF_PREPARED: ChangesFloor(
        lambda floor, e: floor,
        lambda p: f"handoff {p['id']} prepared for {p['to']}: {counted(len(p['packet']['cases']), 'open case')}"
                  + (f" (replaces handoff {p['supersedes']})" if p.get("supersedes") else "")),
    EventType.HANDOFF_ACCEPTED: ChangesFloor(
        lambda floor, e: replace(floor, shift_lead=e.payload["lead"]),
        lambda p: f"handoff {p['id']} accepted; shift lead {_who(p.get('before'))} → {p['lead']}"),
}

