"""The reducer: current case state as a fold of its events. Storage and replay both use it,
so the projection tables can always be checked against (and rebuilt from) the log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from casewatch.core.models import (
    Case,
    Event,
    EventType,
    EvidenceItem,
    Interval,
    Participant,
    Person,
    Role,
    Severity,
    Status,
)


def _close_waiting(waiting: list[Interval], at: datetime) -> list[Interval]:
    if waiting and waiting[-1].end is None:
        return waiting[:-1] + [Interval(start=waiting[-1].start, end=at)]
    return waiting


def _with_participant(case: Case, name: str | None, role: str | None) -> list[Participant]:
    if not name or not role or any(p.name == name and p.role == role for p in case.participants):
        return case.participants
    return case.participants + [Participant(name=name, role=role)]


def apply(case: Case | None, event: Event) -> Case:
    """Return the case after `event`. Every event bumps the version by one."""
    p, at = event.payload, event.occurred_at
    if event.type is EventType.CASE_CREATED:
        participants = [Participant(name=event.actor, role="reporter")]
        return Case(
            id=event.case_id, title=p["title"], customer=p["customer"], summary=p.get("summary", ""),
            severity=Severity(p["severity"]), route=p["route"], route_authority=p.get("route_authority"),
            participants=participants, escalated_at=at,
            evidence=[EvidenceItem(**item) for item in p.get("evidence", [])],
            version=1, updated_at=event.recorded_at, updated_by=event.actor, last_occurred_at=at,
        )
    if case is None:
        raise ValueError(f"event {event.id} ({event.type}) for {event.case_id} precedes the case's creation")
    kind = event.type
    update: dict = {}
    if kind is EventType.OWNER_ASSIGNED:
        update = {"internal_owner": p["after"], "participants": _with_participant(case, p["after"], p.get("role"))}
        if case.owner_named_at is None:
            update["owner_named_at"] = at
    elif kind is EventType.COMMS_ASSIGNED:
        update = {"comms_owner": p["after"], "participants": _with_participant(case, p["after"], p.get("role"))}
    elif kind is EventType.AUTHORITY_SET:
        update = {"route_authority": p["after"]}
    elif kind is EventType.PARTICIPANT_INVOLVED:
        update = {"participants": _with_participant(case, p["name"], p["role"])}
    elif kind is EventType.SEVERITY_CHANGED:
        review = case.route_review_needed or p["route_review"]
        update = {"severity": Severity(p["after"]), "route_review_needed": review}
    elif kind is EventType.ROUTE_CHANGED:
        update = {"route": p["after"], "route_review_needed": False}
    elif kind is EventType.CUSTOMER_UPDATE_LOGGED:
        update = {"last_customer_update_at": at, "next_update_override_s": p.get("next_update_in_s")}
    elif kind is EventType.REVIEW_LOGGED:
        update = {"last_review_at": at}
    elif kind is EventType.STATUS_CHANGED:
        after = Status(p["after"])
        waiting = _close_waiting(case.waiting, at)
        if after is Status.WAITING_ON_CUSTOMER:
            waiting = waiting + [Interval(start=at)]
        update = {"status": after, "waiting": waiting, "resolved_at": at if after is Status.RESOLVED else None}
    elif kind is EventType.CASE_REOPENED:
        update = {"status": Status(p["after"]), "resolved_at": None}
    elif kind is EventType.EVIDENCE_SET:
        update = {"evidence": [
            EvidenceItem(key=i.key, label=i.label, done=p["after"]) if i.key == p["key"] else i for i in case.evidence
        ]}
    elif kind is not EventType.NOTE_ADDED:
        raise ValueError(f"event type {kind} does not apply to a case")
    update |= {
        "version": case.version + 1,
        "updated_at": event.recorded_at,
        "updated_by": event.actor,
        "last_occurred_at": max(case.last_occurred_at, at),
    }
    return case.model_copy(update=update)


def in_history_order(events: Iterable[Event]) -> list[Event]:
    """Events in the order they happened (backfilled ones where they belong), ties by log id."""
    return sorted(events, key=lambda e: (e.occurred_at, e.id or 0))


def replay_cases(events: Iterable[Event]) -> dict[str, Case]:
    """Fold the case events of a log into current states, in history order."""
    cases: dict[str, Case] = {}
    for event in in_history_order(e for e in events if e.case_id is not None):
        cases[event.case_id] = apply(cases.get(event.case_id), event)
    return cases


def apply_person(roster: dict[str, Person], event: Event) -> None:
    p = event.payload
    roster[p["name"]] = Person(name=p["name"], role=Role(p["role"]), tz=p.get("tz") or "UTC", team=p.get("team"))


def policy_source_as_of(events: Iterable[Event], at: datetime) -> str | None:
    """The TOML of the policy in force at `at` (the first one when `at` precedes every policy)."""
    applied = in_history_order(e for e in events if e.type is EventType.POLICY_APPLIED)
    in_force = [e for e in applied if e.occurred_at <= at] or applied[:1]
    return in_force[-1].payload["toml"] if in_force else None
