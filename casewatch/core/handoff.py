"""Shift handoff: the packet the outgoing lead hands over, what changed since, and who may accept it.

A packet is a snapshot: every open case, most urgent first, with its running clocks as due instants
(shown later in any zone, relative to any "now"), what is missing, what happened on it during the
outgoing shift and the outgoing lead's notes, plus a summary of the shift. It is built once, when
the handoff is prepared, and stored as it was; `diff_since` says what moved after that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from casewatch.core.breaches import breaches_between
from casewatch.core.clocks import ClockKind, ClockState, missing_roles, plan_clocks
from casewatch.core.errors import InvalidInput, NotFound, PermissionDenied
from casewatch.core.events import resolves_case
from casewatch.core.evidence import case_readiness
from casewatch.core.models import Case, Event, EventType, Person, Role, Severity, Status
from casewatch.core.policy import Policy
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import in_history_order
from casewatch.core.views import describe_event

PENDING_WARNING_AFTER = timedelta(minutes=15)


class _Frozen(BaseModel):
    """Built on first use, as commands are: most `casewatch` processes never make a packet."""

    model_config = ConfigDict(frozen=True, defer_build=True)


class LeadRef(_Frozen):
    """A lead as the packet names them: who, and the IANA zone their times are shown in."""

    name: str
    tz: str


class Shift(_Frozen):
    """Who leads the floor, in which zone, and since when."""

    lead: str
    tz: str
    started_at: datetime

    def age(self, now: datetime) -> timedelta:
        return now - self.started_at


def shift_at(floor_events: Iterable[Event], roster: Mapping[str, Person], at: datetime | None = None) -> Shift | None:
    """The shift that started last (a backfilled start counts when it happened), or last by `at`,
    from the floor events that count: who leads is the log's, not the `shifts` table's. A start
    from before starts named their zone is in the lead's roster zone."""
    starts = [e for e in floor_events if e.type in (EventType.SHIFT_STARTED, EventType.HANDOFF_ACCEPTED)
              and (at is None or e.occurred_at <= at)]
    if not starts:
        return None
    last = max(starts, key=lambda e: (e.occurred_at, e.id or 0))
    lead = last.payload["lead"]
    tz = last.payload.get("tz") or (roster[lead].tz if lead in roster else "UTC")
    return Shift(lead=lead, tz=tz, started_at=last.occurred_at)


class PacketClock(_Frozen):
    """A clock still running when the packet was made: its due instant, or, while paused, the
    working time it has left."""

    kind: ClockKind
    state: ClockState
    due: datetime | None = None
    left_s: int | None = None


class LastUpdate(_Frozen):
    at: datetime
    next_milestone: str


class CaseChange(_Frozen):
    """One event on the case during the outgoing shift, in the timeline's words."""

    at: datetime
    actor: str
    text: str


class PacketCase(_Frozen):
    id: str
    title: str
    customer: str
    severity: Severity
    status: Status
    route: str
    internal_owner: str | None
    comms_owner: str | None
    route_authority: str | None  # None: the shift lead, by default
    clocks: list[PacketClock]
    missing_evidence: list[str]
    missing_roles: list[str]
    route_review: bool
    returned: bool
    last_update: LastUpdate | None
    open_question: str | None
    changes: list[CaseChange]
    note: str = ""

    @property
    def breached(self) -> bool:
        return any(clock.state is ClockState.BREACHED for clock in self.clocks)


class SeverityChange(_Frozen):
    case_id: str
    at: datetime
    before: Severity
    after: Severity


class ClockBreach(_Frozen):
    case_id: str
    kind: ClockKind
    at: datetime


class EvidenceReturn(_Frozen):
    case_id: str
    at: datetime
    actor: str
    items: list[str]


class ShiftSummary(_Frozen):
    """What the outgoing shift saw happen, derived from the events it covered."""

    opened: list[str]
    resolved: list[str]
    severity_changes: list[SeverityChange]
    breaches: list[ClockBreach]
    evidence_returns: list[EvidenceReturn]


class Packet(_Frozen):
    prepared_at: datetime
    outgoing: LeadRef
    incoming: LeadRef
    shift_started_at: datetime
    note: str = ""
    cases: list[PacketCase]
    summary: ShiftSummary


class HandoffStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"  # the outgoing lead prepared a newer one before this was accepted


class Handoff(_Frozen):
    """A prepared packet and what became of it."""

    id: int
    packet: Packet
    accepted_at: datetime | None = None
    superseded_by: int | None = None

    @property
    def status(self) -> HandoffStatus:
        if self.accepted_at is not None:
            return HandoffStatus.ACCEPTED
        return HandoffStatus.SUPERSEDED if self.superseded_by is not None else HandoffStatus.PENDING

    def waiting_for(self, now: datetime) -> timedelta:
        """How long a pending handoff has waited for its incoming lead."""
        return now - self.packet.prepared_at

    def overdue(self, now: datetime) -> bool:
        """A handoff left unaccepted this long turns the board's banner into a warning."""
        return self.status is HandoffStatus.PENDING and self.waiting_for(now) >= PENDING_WARNING_AFTER


class LeadView(_Frozen):
    """What a board's header shows of the floor: who leads, and the handoff waiting to be accepted."""

    shift: Shift | None = None
    pending: Handoff | None = None

    @classmethod
    def of(cls, shift: Shift | None, pending: Handoff | None) -> LeadView:
        """A handoff prepared by someone who no longer leads is out of date: it is not waiting."""
        if pending is not None and shift is not None and pending.packet.outgoing.name != shift.lead:
            pending = None
        return cls(shift=shift, pending=pending)


# ------------------------------------------------------------------ building the packet

def _by_case(events: Iterable[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.case_id is not None:
            grouped[event.case_id].append(event)
    return {case_id: in_history_order(history) for case_id, history in grouped.items()}


_STATE_ORDER = {ClockState.BREACHED: 0, ClockState.WARNING: 1, ClockState.RUNNING: 1, ClockState.PAUSED: 2}


def _clock_order(clock: PacketClock) -> tuple[int, float]:
    return _STATE_ORDER[clock.state], clock.due.timestamp() if clock.due else float("inf")


def _clocks(case: Case, policy: Policy, policies: PolicyHistory, now: datetime) -> list[PacketClock]:
    """The clocks still running (or paused) at `now`, breached first, then by due time."""
    found = []
    for reading in plan_clocks(case, policy, policies.until(now)).read(now).values():
        if reading.state in (ClockState.MET, ClockState.STOPPED):
            continue
        paused = reading.state is ClockState.PAUSED
        found.append(PacketClock(kind=reading.kind, state=reading.state, due=None if paused else reading.due,
                                 left_s=reading.remaining_s if paused else None))
    return sorted(found, key=_clock_order)


def _last_update(history: list[Event]) -> LastUpdate | None:
    for event in reversed(history):
        if event.type is EventType.CUSTOMER_UPDATE_LOGGED:
            return LastUpdate(at=event.occurred_at, next_milestone=event.payload["next_milestone"])
    return None


def _open_question(case: Case) -> str | None:
    """The one question the receiving team must answer: the checklist's `open_question` item."""
    record = case.evidence.get("open_question")
    return record.value.strip() or None if record is not None else None


def _in_window(event: Event, start: datetime, end: datetime) -> bool:
    return start <= event.occurred_at <= end


def _packet_case(case: Case, history: list[Event], policy: Policy, policies: PolicyHistory, shift: Shift,
                 now: datetime, note: str) -> PacketCase:
    start = shift.started_at
    return PacketCase(
        id=case.id, title=case.title, customer=case.customer, severity=case.severity, status=case.status,
        route=case.route, internal_owner=case.internal_owner, comms_owner=case.comms_owner,
        route_authority=case.route_authority, clocks=_clocks(case, policy, policies, now),
        missing_evidence=list(case_readiness(case, policy.evidence).missing),
        missing_roles=missing_roles(case, policy, shift.lead),
        route_review=case.route_review_needed, returned=case.returned is not None, last_update=_last_update(history),
        open_question=_open_question(case),
        changes=[CaseChange(at=e.occurred_at, actor=e.actor, text=describe_event(e))
                 for e in history if _in_window(e, start, now)],
        note=note.strip(),
    )


def _urgency(case: PacketCase) -> tuple[bool, Severity, float, str]:
    """Most urgent first: cases with a breached clock, then by severity, nearest due, id."""
    dues = [clock.due.timestamp() for clock in case.clocks if clock.due is not None]
    return not case.breached, case.severity, min(dues, default=float("inf")), case.id


def shift_summary(histories: Mapping[str, list[Event]], policies: PolicyHistory, start: datetime,
                  end: datetime) -> ShiftSummary:
    """Cases opened and resolved, severity changes, clocks breached and evidence sent back, in [start, end]."""
    shift = in_history_order(e for h in histories.values() for e in h if _in_window(e, start, end))
    return ShiftSummary(
        opened=[e.case_id for e in shift if e.type is EventType.CASE_CREATED],
        resolved=[e.case_id for e in shift if resolves_case(e)],
        severity_changes=[
            SeverityChange(case_id=e.case_id, at=e.occurred_at, before=e.payload["before"], after=e.payload["after"])
            for e in shift if e.type is EventType.SEVERITY_CHANGED],
        breaches=[ClockBreach(case_id=b.case_id, kind=b.kind, at=b.at)
                  for b in breaches_between(histories.values(), policies, start, end)],
        evidence_returns=[
            EvidenceReturn(case_id=e.case_id, at=e.occurred_at, actor=e.actor, items=list(e.payload["missing"]))
            for e in shift if e.type is EventType.CASE_RETURNED],
    )


def build_packet(*, cases: Iterable[Case], events: Iterable[Event], policy: Policy, policies: PolicyHistory,
                 shift: Shift,
                 incoming: LeadRef, now: datetime, note: str = "",
                 case_notes: Mapping[str, str] | None = None) -> Packet:
    """The packet for handing `shift` over to `incoming` at `now`.

    `cases` are the open cases; `events` the histories of those cases and of every case touched
    during the shift (the summary counts resolved cases and breaches on cases since closed).
    The clocks are read under `policy` (in force now), each breach judged under `policies`.
    """
    histories = _by_case(events)
    notes = case_notes or {}
    open_cases = [_packet_case(case, histories.get(case.id, []), policy, policies, shift, now,
                               notes.get(case.id, "")) for case in cases if case.is_open]
    return Packet(
        prepared_at=now, outgoing=LeadRef(name=shift.lead, tz=shift.tz), incoming=incoming,
        shift_started_at=shift.started_at, note=note.strip(), cases=sorted(open_cases, key=_urgency),
        summary=shift_summary(histories, policies, shift.started_at, now),
    )


# ------------------------------------------------------------------ what changed since

class CaseLine(_Frozen):
    id: str
    severity: Severity
    title: str


class PacketDiff(_Frozen):
    """What moved between the packet and now: the incoming lead reads this before taking over."""

    new_cases: list[CaseLine]
    closed: list[str]
    severity_changes: list[SeverityChange]
    breaches: list[ClockBreach]

    @property
    def empty(self) -> bool:
        return not (self.new_cases or self.closed or self.severity_changes or self.breaches)


def diff_since(packet: Packet, cases: Iterable[Case], events: Iterable[Event], policies: PolicyHistory,
               now: datetime) -> PacketDiff:
    """New cases, cases closed, severity changes and clocks breached after the packet was made.
    `cases` are the open cases now; `events` the histories of those and of the packet's cases."""
    current = {case.id: case for case in cases if case.is_open}
    before = {case.id: case for case in packet.cases}
    since = packet.prepared_at
    histories = _by_case(events)
    breaches = breaches_between(histories.values(), policies, since, now)

    def changed_at(case: Case) -> datetime:
        moves = [e.occurred_at for e in histories.get(case.id, []) if e.type is EventType.SEVERITY_CHANGED]
        return max(moves, default=case.last_occurred_at)

    return PacketDiff(
        new_cases=sorted((CaseLine(id=c.id, severity=c.severity, title=c.title)
                          for c in current.values() if c.id not in before), key=lambda c: (c.severity, c.id)),
        closed=[case_id for case_id in before if case_id not in current],
        severity_changes=[
            SeverityChange(case_id=case_id, at=changed_at(current[case_id]), before=old.severity,
                           after=current[case_id].severity)
            for case_id, old in before.items() if case_id in current and current[case_id].severity != old.severity],
        breaches=[ClockBreach(case_id=b.case_id, kind=b.kind, at=b.at) for b in breaches if b.at > since],
    )


# ------------------------------------------------------------------ who may do what

def check_prepare(actor: Person, incoming: Person, shift_lead: str | None) -> None:
    """The outgoing lead (the current shift lead, or any lead while nobody leads) hands over to another lead."""
    if actor.role is not Role.LEAD:
        raise PermissionDenied(f"{actor.name} is not a lead: preparing a handoff needs the shift lead")
    if shift_lead is not None and actor.name != shift_lead:
        raise PermissionDenied(f"{actor.name} is not the shift lead ({shift_lead} is): only the outgoing "
                               "shift lead prepares a handoff; run `casewatch shift start` to take over first")
    check_incoming(actor.name, incoming)


def check_incoming(outgoing: str, incoming: Person) -> None:
    """The shift goes to another lead."""
    if incoming.name == outgoing:
        raise InvalidInput(f"{outgoing} cannot hand the shift over to themselves")
    if incoming.role is not Role.LEAD:
        raise InvalidInput(f"{incoming.name} is {'an' if incoming.role is Role.AGENT else 'a'} {incoming.role}: "
                           "the incoming shift lead must be a lead")


def check_accept(handoff: Handoff, actor: Person, shift_lead: str | None = None) -> None:
    """Only the named incoming lead accepts, never the preparer, only a pending handoff, and only
    while its preparer still leads the shift."""
    packet = handoff.packet
    status = handoff.status
    if status is HandoffStatus.ACCEPTED:
        raise InvalidInput(f"handoff {handoff.id} was already accepted by {packet.incoming.name}")
    if status is HandoffStatus.SUPERSEDED:
        raise InvalidInput(f"handoff {handoff.id} was replaced by handoff {handoff.superseded_by}; accept that one")
    if actor.name == packet.outgoing.name:
        raise PermissionDenied(f"{actor.name} prepared handoff {handoff.id} and cannot accept it: "
                               f"{packet.incoming.name} must")
    if actor.name != packet.incoming.name:
        raise PermissionDenied(f"handoff {handoff.id} is addressed to {packet.incoming.name}; "
                               f"{actor.name} may not accept it")
    if actor.role is not Role.LEAD:
        raise PermissionDenied(f"{actor.name} is no longer a lead and cannot take over the shift")
    if shift_lead is not None and shift_lead != packet.outgoing.name:
        raise InvalidInput(f"handoff {handoff.id} is out of date: {shift_lead} has led the shift since "
                           f"{packet.outgoing.name} prepared it")


# ------------------------------------------------------------------ deciding the events


@dataclass(frozen=True)
class HandoffFacts:
    """What the store read for a handoff command, so that the rule itself reads nothing."""

    next_id: int = 0
    packet: Packet | None = None  # prepare: the packet as of now, notes included
    pending: Handoff | None = None  # prepare: the unaccepted handoff the new one replaces
    handoff: Handoff | None = None  # accept: the handoff named
    diff: PacketDiff | None = None  # accept: what changed since it was made


def prepare_payload(actor: Person, incoming: Person, shift_lead: str | None, facts: HandoffFacts) -> dict[str, Any]:
    """The `handoff_prepared` payload: the whole packet, so the log alone can show it again."""
    check_prepare(actor, incoming, shift_lead)
    if facts.packet is None:
        raise ValueError("preparing a handoff needs the packet the store built")
    return {"id": facts.next_id, "to": incoming.name, "supersedes": facts.pending.id if facts.pending else None,
            "packet": facts.packet.model_dump(mode="json")}


def accept_payload(handoff_id: int, actor: Person, shift_lead: str | None, facts: HandoffFacts) -> dict[str, Any]:
    """The `handoff_accepted` payload: the incoming lead takes the shift, in their zone; what they
    were shown as changed since the packet is kept with it."""
    if facts.handoff is None:
        raise NotFound(f"no handoff {handoff_id} (see `casewatch handoff list`)")
    check_accept(facts.handoff, actor, shift_lead)
    return {"id": handoff_id, "lead": actor.name, "tz": actor.tz, "before": shift_lead,
            "changes_since": facts.diff.model_dump(mode="json") if facts.diff else None}
