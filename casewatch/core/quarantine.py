"""The checked fold: which events of the log count.

The log is a record of claims. Anyone who can append to it (a member with raw SQL, an imported or
damaged SQLite file) can write a claim that `decide` would have refused. Every replay therefore
runs each event through the checks `decide` makes, as of the state before it in log order (what
the writer saw): the actor's role then, the case's accountable people, the case existing and the
event's place in its history, the time bounds, a payload that parses, and (core.redecide) every
field `decide` derives rather than the author asks for. An event that fails is
*quarantined*: it stays in the log as evidence, changes no state, and `casewatch db audit` lists
it. Nothing here raises on bad data.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import TypeAdapter

from casewatch.core.errors import CasewatchError
from casewatch.core.events import EVENTS, ChangesCase, ChangesFloor, OpensCase, added_person
from casewatch.core.models import (
    READABLE,
    WEB_ADDRESS,
    Case,
    Event,
    EventType,
    FloorState,
    Person,
    Role,
    Status,
    link_key,
)
from casewatch.core.permissions import Action, check
from casewatch.core.policy import Policy, default_policy, parse_policy
from casewatch.core.projection import apply, apply_floor, in_history_order, replay_cases
from casewatch.core.redecide import identical, redecide_refusal
from casewatch.core.rules import EARLIEST, RULES, Context, resolved_by

SYSTEM_ACTOR = "casewatch"
"""The author of what an administrator writes (a new database's policy and first lead, team init's login)."""
SKEW = timedelta(minutes=1)  # how far after its recording an event may claim to have happened

_SYSTEM_MAY = frozenset({EventType.PERSON_ADDED, EventType.POLICY_APPLIED, EventType.LOGIN_GRANTED})
_ON_RESOLVED = frozenset(rule.event for rule in RULES.values() if rule.on_resolved)
CASE_ACTIONS: dict[EventType, Action] = {
    EventType.CASE_CREATED: Action.NEW,
    EventType.OWNER_ASSIGNED: Action.ASSIGN,
    EventType.COMMS_ASSIGNED: Action.COMMS,
    EventType.AUTHORITY_SET: Action.AUTHORITY,
    EventType.PARTICIPANT_INVOLVED: Action.INVOLVE,
    EventType.SEVERITY_CHANGED: Action.SEVERITY,
    EventType.ROUTE_CHANGED: Action.ROUTE,
    EventType.CUSTOMER_UPDATE_LOGGED: Action.UPDATE,
    EventType.REVIEW_LOGGED: Action.REVIEW,
    EventType.STATUS_CHANGED: Action.STATUS,
    EventType.CASE_REOPENED: Action.STATUS,
    EventType.NOTE_ADDED: Action.NOTE,
    EventType.EVIDENCE_SET: Action.EVIDENCE,
    EventType.CASE_RETURNED: Action.RETURN,
    EventType.CASE_CLOSED: Action.CLOSE,
    EventType.TITLE_CHANGED: Action.IMPORT,  # as rules._retitle checks it
    EventType.TICKET_SEEN: Action.IMPORT,  # as rules._see_ticket checks it
    EventType.ALERT_ACKNOWLEDGED: Action.ACKNOWLEDGE,  # and only from the shift lead (`_lead_refusal`)
}
"""The permission each case event needs, as `decide` checks it for the command that records it."""
CASE_ID = re.compile(r"CW-[1-9][0-9]{0,9}")
CASE_NUMBER_MAX = 1_999_999_999
"""A case id the fold accepts: CW- and a number (no leading zero) the case counter (a 32-bit integer)
holds with room to spare, so that no case, however made, leaves `case new` nowhere to go. The
server's trigger refuses the same, and any number beyond the next one (migration 0016)."""
CASE_PAYLOAD_MAX_BYTES = 256 * 1024
"""The most a case event's payload holds, as JSON text in UTF-8: no event casewatch writes comes near
(the largest, an evidence value of 64 KiB, is under 130 KiB however its characters are escaped). The
server refuses more (migration 0019), the store refuses to send more, and the fold quarantines it."""


@dataclass(frozen=True)
class Oversized:
    """A case event's payload over CASE_PAYLOAD_MAX_BYTES, left undecoded (storage.convert)."""

    size: int


_UNDO_TO_NOBODY = {EventType.OWNER_ASSIGNED: "internal_owner", EventType.COMMS_ASSIGNED: "comms_owner"}
"""The events an undo may send with nobody named, and the field that must have named someone."""
_NAMES_ACCOUNTABLE = frozenset({EventType.OWNER_ASSIGNED, EventType.COMMS_ASSIGNED, EventType.AUTHORITY_SET})


@dataclass(frozen=True)
class Quarantined:
    """An event the rules did not let count: what `db audit` lists. `type` is the log's own text
    (it may name no known type)."""

    id: int | None
    case_id: str | None
    type: str
    actor: str
    occurred_at: datetime
    reason: str

    @classmethod
    def of(cls, event: Event, reason: str) -> Quarantined:
        return cls(id=event.id, case_id=event.case_id, type=str(event.type), actor=event.actor,
                   occurred_at=event.occurred_at, reason=reason)


@dataclass(frozen=True)
class _Handoff:
    outgoing: str
    incoming: str
    open: bool = True  # neither accepted nor replaced


@dataclass
class CheckedFloor:
    """The events outside any case that count (in log order), the floor they build, those
    quarantined, and the roster as it stood before any event id (what a case event's author was)."""

    floor: FloorState = field(default_factory=FloorState)
    accepted: list[Event] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """`link_key` -> the case it links: the first creation in the log naming it by someone who
    could import then (`link_holders`)."""
    _marks: list[int] = field(default_factory=list)  # ids of the accepted roster changes, ascending
    _rosters: list[Mapping[str, Person]] = field(default_factory=list)  # the roster after each mark
    _lead_marks: list[int] = field(default_factory=list)  # ids of the accepted shift lead changes, ascending
    _leads: list[str | None] = field(default_factory=list)  # the shift lead after each of them
    _policy_marks: list[int] = field(default_factory=list)  # ids of the accepted policies, ascending
    _policies: list[str] = field(default_factory=list)  # the text of each
    _parsed: dict[int, Policy] = field(default_factory=dict)  # policy_at's, by position

    def roster_at(self, event_id: int | None) -> Mapping[str, Person]:
        """The roster before the event with this id was written (None: after everything)."""
        index = len(self._marks) if event_id is None else bisect_left(self._marks, event_id)
        return self._rosters[index - 1] if index else {}

    def shift_lead_at(self, event_id: int | None) -> str | None:
        """Who led the shift before the event with this id was written (None: nobody yet)."""
        index = len(self._lead_marks) if event_id is None else bisect_left(self._lead_marks, event_id)
        return self._leads[index - 1] if index else None

    def policy_at(self, event_id: int | None) -> Policy:
        """The policy in force before the event with this id was written, as a write then read it
        (the store's `_load_policy`); a log that applied none has the policy a new database gets."""
        index = len(self._policy_marks) if event_id is None else bisect_left(self._policy_marks, event_id)
        if not index:
            return default_policy()
        if index not in self._parsed:  # (parse_policy's own cache holds a few: a log may apply many)
            self._parsed[index] = parse_policy(self._policies[index - 1], f"policy v{index}", version=index)
        return self._parsed[index]

    @property
    def roster(self) -> Mapping[str, Person]:
        return self.floor.roster


def check_floor(events: Iterable[Event]) -> CheckedFloor:
    """Fold the events outside any case, in log order, keeping only those the rules allow (its
    `links` are set from the case creations after: `link_holders`)."""
    checked = CheckedFloor()
    handoffs: dict[Any, _Handoff] = {}
    for event in sorted(events, key=lambda e: e.id or 0):
        try:
            reason = _floor_refusal(checked.floor, handoffs, event)
            if reason is None:
                after = apply_floor(checked.floor, event)
                _track_handoff(handoffs, event)
        except Exception as exc:  # noqa: BLE001 - any bad payload is quarantined, never raised
            reason = _unparsed(exc)
        if reason is not None:
            checked.quarantined.append(Quarantined.of(event, reason))
            continue
        if after.roster is not checked.floor.roster:
            checked._marks.append(event.id or 0)
            checked._rosters.append(after.roster)
        if after.shift_lead != checked.floor.shift_lead:
            checked._lead_marks.append(event.id or 0)
            checked._leads.append(after.shift_lead)
        if event.type is EventType.POLICY_APPLIED:
            checked._policy_marks.append(event.id or 0)
            checked._policies.append(event.payload["toml"])
        checked.floor = after
        checked.accepted.append(event)
    return checked


def check_case(history: Sequence[Event], floor: CheckedFloor) -> tuple[list[Event], list[Quarantined]]:
    """One case's events (any order): those that count, in history order, and those quarantined.
    Each is checked against the case as the events before it in the log left it, and the roster then."""
    checked = CaseCheck(floor)
    checked.extend(history)
    return checked.counted(), list(checked.quarantined)


@dataclass
class CaseCheck:
    """`check_case` as a fold that can go on: a writer that keeps one checks only the events its
    case gained since, instead of the whole history again at every write. It goes on only with
    events after `last_id` under the same floor; anything else is a new check."""

    floor: CheckedFloor
    case: Case | None = None  # the accepted events folded in log order
    written: Case | None = None  # the same in history order: what a writer decided from
    accepted: list[Event] = field(default_factory=list)  # in log order
    quarantined: list[Quarantined] = field(default_factory=list)
    last_id: int = 0
    read: int = 0  # how many events it checked: with `last_id`, whether the log still holds just those

    def extend(self, events: Iterable[Event]) -> None:
        """Check these events (any order, every one after `last_id`) as the next in the log."""
        for event in sorted(events, key=lambda e: e.id or 0):
            if self.read and (event.id or 0) <= self.last_id:
                raise ValueError(f"event {event.id} is not after {self.last_id}: check the case again")
            self.last_id, self.read = max(self.last_id, event.id or 0), self.read + 1
            case, written = self.case, self.written
            try:
                reason = _case_refusal(case, event, self.floor, written)
                if reason is None:
                    after = apply(case, event)
                    reason = _change_refusal(case, after, event)
                if reason is None:
                    written = _history_fold(written, case, after, self.accepted, event)
            except Exception as exc:  # noqa: BLE001 - any bad payload is quarantined, never raised
                reason = _unparsed(exc)
            if reason is not None:
                self.quarantined.append(Quarantined.of(event, reason))
                continue
            self.case, self.written = after, written
            self.accepted.append(event)

    def counted(self) -> list[Event]:
        """The events that count, in history order."""
        return in_history_order(self.accepted)


def _history_fold(written: Case | None, case: Case | None, after: Case, accepted: list[Event], event: Event) -> Case:
    """The history-order fold after `event` joins `accepted`: the log-order one while no event came
    backfilled, one more step while this one is the latest, else (a backfill) the history again."""
    if written is case and (case is None or event.occurred_at >= case.last_occurred_at):
        return after
    assert written is not None
    if event.occurred_at >= written.last_occurred_at:
        return apply(written, event)
    return replay_cases([*accepted, event])[written.id]


def _change_refusal(before: Case | None, after: Case, event: Event) -> str | None:
    """What the fold applied without pydantic's checks (projection applies a change by copying, as
    the rules only make well-typed ones): each field the event set must hold a value of its type,
    and its timeline line must render. A raw INSERT's `{"next_update_in_s": "abc"}` or an evidence
    record without `before` would otherwise become state that every reader trips over; and a value
    of the wrong kind that pydantic would take (`1` for a flag) is refused too, as its serializer
    would warn on stderr at every dump of the case."""
    EVENTS[event.type].describe(event.payload)  # a missing or wrongly typed key raises: quarantined
    if before is None:
        return None  # a case_created's fields went through Case(...) itself
    for (name, value), old in zip(after.__dict__.items(), before.__dict__.values(), strict=True):
        if value is old or type(value) in _plain_types(name):  # a str where a str goes: nothing to check
            continue
        check = _field_check(name)  # through plain data: pydantic takes a dataclass instance as it is
        if not identical(check.validate_python(check.dump_python(value, warnings=False)), value):
            return f"it sets {name} to a value casewatch never writes"
    return None


_PLAIN = (str, int, bool, datetime)


@cache
def _plain_types(name: str) -> frozenset[type]:
    """The exact types a field takes as they are, where a value of one would pass the round trip
    through `_field_check` anyway (plain str, int, bool, datetime or enum, or None beside one of
    them): most fields most events set, checked without pydantic. Empty for anything else."""
    info = Case.model_fields[name]
    if info.metadata:
        return frozenset()
    kinds = get_args(info.annotation) if get_origin(info.annotation) in (Union, UnionType) else (info.annotation,)
    plain = [kind for kind in kinds if kind is type(None) or kind in _PLAIN or
             (isinstance(kind, type) and issubclass(kind, Enum))]
    return frozenset(plain) if len(plain) == len(kinds) else frozenset()


@cache
def _field_check(name: str) -> TypeAdapter:
    info = Case.model_fields[name]
    field_type: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(field_type)


def link_holders(created: Iterable[Event], floor: CheckedFloor) -> dict[tuple[str, str], str]:
    """The `case_created` events naming a ticket link (any order) -> the case each link belongs to:
    the first in the log naming it (by `link_key`, so `ZD-00123` is `zd` 123) whose author could
    import then. A link an agent's raw INSERT named first claims nothing."""
    links: dict[tuple[str, str], str] = {}
    for event in sorted(created, key=lambda e: e.id or 0):
        source = event.payload.get("source") if isinstance(event.payload, dict) else None
        if event.case_id is None or _link_refusal(source) or source is None:
            continue
        key = link_key(source["name"], source["id"])
        if key not in links and _may_import(floor.roster_at(event.id).get(event.actor)):
            links[key] = event.case_id
    return links


def _may_import(person: Person | None) -> bool:
    if person is None:
        return False
    try:
        check(person, Action.IMPORT)
    except CasewatchError:
        return False
    return True


def _link_refusal(source: Any) -> str | None:
    """What is wrong with a creation's ticket link as written (None: no link, or a sound one)."""
    if source is None:
        return None
    if not isinstance(source, dict) or not all(isinstance(source.get(k), str) and source[k].strip()
                                               for k in ("name", "kind", "id")):
        return "its ticket link is not one casewatch makes"
    if source.get("url") is not None and not (isinstance(source["url"], str) and WEB_ADDRESS.fullmatch(source["url"])):
        return "its ticket link's URL is not an http(s) address"
    return None


def _unparsed(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    what = f"missing {exc}" if isinstance(exc, KeyError) else text
    return f"its payload does not parse ({what[:200]})"


def _common_refusal(event: Event) -> str | None:
    if not isinstance(event.type, EventType) or event.type not in EVENTS:
        return f"unknown event type {str(event.type)[:60]!r}"
    if isinstance(event.payload, Oversized):
        return f"its payload is too large ({event.payload.size} bytes; a case event holds at most " \
               f"{CASE_PAYLOAD_MAX_BYTES})"
    if event.payload is None:
        return "its payload does not parse"
    if not isinstance(event.payload, dict):
        return "its payload is not a JSON object"
    if any(at in READABLE for at in (event.occurred_at, event.recorded_at)):
        return "its time is out of range (BC, infinite, past 9999 or no time at all, as stored)"
    if event.occurred_at < EARLIEST:
        return "it claims to have happened before 2000"
    if event.recorded_at < EARLIEST:
        return "it claims to have been recorded before 2000"
    if event.occurred_at > event.recorded_at + SKEW:
        return "it claims to have happened after it was recorded"
    return None


def _case_refusal(case: Case | None, event: Event, floor: CheckedFloor, written: Case | None) -> str | None:
    """`case`: the events before this one folded in log order; `written`: in history order, the case
    its writer decided from (they differ once an event was backfilled)."""
    if reason := _common_refusal(event) or _content_refusal(case, event, floor.links):
        return reason
    roster = floor.roster_at(event.id)
    kind = EVENTS[event.type]
    if isinstance(kind, ChangesFloor):
        return f"{event.type} is not an event of a case"
    if isinstance(kind, OpensCase) and case is not None:
        return f"{event.case_id} was created already"
    if isinstance(kind, ChangesCase) and case is None:
        return f"no case {event.case_id} existed before it"
    if case is not None and event.occurred_at < case.escalated_at:
        return f"it claims to have happened before {case.id} was escalated"
    person = roster.get(event.actor)
    if person is None:
        return f"{event.actor} was not on the roster"
    if (case is not None and case.status is Status.RESOLVED and event.type not in _ON_RESOLVED
            and resolved_by(case, event.occurred_at)):
        return f"{case.id} was resolved"
    target = event.payload.get("name") if event.type is EventType.PARTICIPANT_INVOLVED else None
    action = CASE_ACTIONS[event.type]
    if event.type is EventType.CASE_CREATED and event.payload.get("source") is not None:
        action = Action.IMPORT  # a linked case claims its ticket: imports, which leads run (rules._import_ticket)
    try:
        check(person, action, case, target=target)
    except CasewatchError as exc:
        return str(exc)
    if event.type is EventType.ALERT_ACKNOWLEDGED:
        lead = floor.shift_lead_at(event.id)
        if lead != event.actor or event.payload.get("lead") != event.actor:
            return f"{event.actor} was not the shift lead ({lead or 'nobody'} was)"
    if event.type in _UNDO_TO_NOBODY and event.payload.get("after") is None:
        # nobody: how the board's undo puts back a case that had no owner (rules._owner_like)
        owned = case is not None and getattr(case, _UNDO_TO_NOBODY[event.type]) is not None
        return None if owned else "it names nobody, and nobody owned it"
    if event.type in _NAMES_ACCOUNTABLE:
        named = roster.get(str(event.payload.get("after")))
        if named is None or named.role is Role.VIEWER:
            return f"{event.payload.get('after')} was not on the roster to be named"
    ctx = Context(actor=person, roster=roster, policy=floor.policy_at(event.id), occurred_at=event.occurred_at,
                  recorded_at=event.recorded_at, shift_lead=floor.shift_lead_at(event.id))
    return redecide_refusal(written, event, ctx)


def _content_refusal(case: Case | None, event: Event, links: Mapping[tuple[str, str], str]) -> str | None:
    """What a case event says that no state could take: a case id out of range, a ticket link
    another case holds, tracker values without a ticket."""
    p = event.payload
    if event.type is EventType.CASE_CREATED:
        case_id = str(event.case_id)
        if not CASE_ID.fullmatch(case_id) or int(case_id[3:]) > CASE_NUMBER_MAX:
            return f"{case_id[:40]!r} is not a case id casewatch gives"
        source = p.get("source")
        if reason := _link_refusal(source):
            return reason
        if isinstance(source, dict) and links.get(link_key(source["name"], source["id"]), case_id) != case_id:
            return f"ticket {source['id']} of {source['name']} is linked to another case"
    elif event.type is EventType.TICKET_SEEN:
        if case is not None and case.source is None:
            return f"{case.id} is not linked to a tracker ticket"
        seen = p.get("seen")
        if not isinstance(seen, dict) or not all(isinstance(v, str) for v in seen.values()):
            return "what it saw is not a set of tracker values"
    return None


def _floor_refusal(floor: FloorState, handoffs: Mapping[Any, _Handoff], event: Event) -> str | None:
    if reason := _common_refusal(event):
        return reason
    if not isinstance(EVENTS[event.type], ChangesFloor):
        return f"{event.type} needs a case"
    if event.actor == SYSTEM_ACTOR:
        return None if event.type in _SYSTEM_MAY else f"the system does not record {event.type}"
    actor = floor.roster.get(event.actor)
    if actor is None:
        return f"{event.actor} was not on the roster"
    p, kind = event.payload, event.type
    if kind is EventType.HANDOFF_ACCEPTED:
        return _accept_refusal(floor, handoffs.get(p.get("id")), actor, p)
    if actor.role is not Role.LEAD:
        return f"{actor.name} was not a lead: {str(kind).replace('_', ' ')} needs a lead"
    if kind is EventType.PERSON_RENAMED:
        if p.get("before") not in floor.roster:
            return f"{p.get('before')} was not on the roster"
        if p.get("after") in floor.roster or not isinstance(p.get("after"), str):
            return f"{p.get('after')} was already on the roster"
        if p["after"] == SYSTEM_ACTOR:
            return f"{SYSTEM_ACTOR} is the system's name"
    elif kind is EventType.PERSON_ADDED and added_person(p).name == SYSTEM_ACTOR:  # (a bad payload raises)
        return f"{SYSTEM_ACTOR} is the system's name"
    elif kind is EventType.LOGIN_GRANTED and p.get("person") not in floor.roster:
        return f"{p.get('person')} was not on the roster"
    elif kind is EventType.POLICY_APPLIED:
        parse_policy(p["toml"], "the applied policy")
    elif kind is EventType.SHIFT_STARTED and p.get("lead") != actor.name:
        return f"{actor.name} started a shift for {p.get('lead')}"
    elif kind is EventType.HANDOFF_PREPARED:
        incoming = floor.roster.get(str(p.get("to")))
        if floor.shift_lead is not None and floor.shift_lead != actor.name:
            return f"{actor.name} was not the shift lead ({floor.shift_lead} was)"
        if incoming is None or incoming.role is not Role.LEAD or incoming.name == actor.name:
            return f"{p.get('to')} was not another lead to hand over to"
    return None


def _accept_refusal(floor: FloorState, handoff: _Handoff | None, actor: Person, p: Mapping[str, Any]) -> str | None:
    if handoff is None or not handoff.open:
        return f"handoff {p.get('id')} was not waiting to be accepted"
    if actor.name != handoff.incoming or p.get("lead") != actor.name:
        return f"handoff {p.get('id')} was addressed to {handoff.incoming}, not {actor.name}"
    if actor.role is not Role.LEAD:
        return f"{actor.name} was not a lead"
    if floor.shift_lead is not None and floor.shift_lead != handoff.outgoing:
        return f"handoff {p.get('id')} was out of date: {floor.shift_lead} led the shift"
    return None


def _track_handoff(handoffs: dict[Any, _Handoff], event: Event) -> None:
    p = event.payload
    if event.type is EventType.HANDOFF_PREPARED:
        if p.get("supersedes") in handoffs:
            handoffs[p["supersedes"]] = replace(handoffs[p["supersedes"]], open=False)
        handoffs[p["id"]] = _Handoff(outgoing=event.actor, incoming=str(p["to"]))
    elif event.type is EventType.HANDOFF_ACCEPTED:
        handoffs[p["id"]] = replace(handoffs[p["id"]], open=False)
