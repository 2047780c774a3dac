"""The boundary: rows become core objects here and core objects become row values."""

from __future__ import annotations

import orjson
from sqlalchemy import Text, cast, select

from casewatch.core.errors import InvalidInput
from casewatch.core.listing import list_case, listing_json
from casewatch.core.models import Case, Event, EventType, Person, Role
from casewatch.core.policy import Policy
from casewatch.core.quarantine import CASE_PAYLOAD_MAX_BYTES, Oversized
from casewatch.core.stored import check_case
from casewatch.storage.schema import cases, events

CASE_STATE = cast(cases.c.state, Text).label("state")
"""A case's stored state as its JSON text (select it, then `case_from_state`): pydantic reads the
text in one pass, about 45 % less CPU than decoding it to Python objects and validating those."""

CASE_LISTING = cast(cases.c.listing, Text).label("listing")
"""A case's stored listing as JSON text, or None (see `stored_listing`)."""


def event_values(event: Event) -> dict:
    return {
        "case_id": event.case_id, "type": event.type.value, "actor": event.actor,
        "occurred_at": event.occurred_at, "recorded_at": event.recorded_at, "payload": event.payload,
    }


def event_from_row(row) -> Event:
    return Event(
        id=row.id, case_id=row.case_id, type=EventType(row.type), actor=row.actor,
        occurred_at=row.occurred_at, recorded_at=row.recorded_at, payload=row.payload,
    )


LOGGED = select(events.c.id, events.c.case_id, events.c.type, events.c.actor, events.c.occurred_at,
                events.c.recorded_at, cast(events.c.payload, Text).label("payload"))
"""The log's events as `event_from_trusted_row` reads them: add WHERE and ORDER BY. The payload
comes as text, decoded row by row, so that one that does not decode spoils only its own event."""


def event_from_trusted_row(row) -> Event:
    """An event read back for folding (a `LOGGED` row), without validating it again: replays read
    tens of thousands of them, and the checked fold (storage.checked_log) judges each.
    The row is unpacked by position: reading seven columns by name costs ten times as much.
    A type casewatch does not know stays the log's text: the checked fold (core.quarantine) refuses it.
    A payload that does not decode (say, nested too deep) is read as None, and a case event's over
    its size limit is left undecoded (`Oversized`): the fold refuses both.
    """
    event_id, case_id, kind, actor, occurred_at, recorded_at, text = row
    payload = decoded(text) if case_id is None else _case_payload(text)
    return _trusted_event({"id": event_id, "case_id": case_id, "type": _EVENT_TYPES.get(kind, kind), "actor": actor,
                           "occurred_at": occurred_at, "recorded_at": recorded_at, "payload": payload})


def _case_payload(text: str | None):
    if text is not None and len(text) * 4 > CASE_PAYLOAD_MAX_BYTES:  # (at most 4 bytes a character)
        size = len(text.encode(errors="replace"))
        if size > CASE_PAYLOAD_MAX_BYTES:
            return Oversized(size)
    return decoded(text)


def oversized(event: Event) -> InvalidInput | None:
    """A case event the server would refuse for its size, as one line before it is sent."""
    if event.case_id is None:
        return None
    size = len(orjson.dumps(event.payload))
    if size <= CASE_PAYLOAD_MAX_BYTES:
        return None
    return InvalidInput(f"{event.case_id}: this {event.type.value.replace('_', ' ')} is too large to record ({size} "
                        f"bytes; a case event holds at most {CASE_PAYLOAD_MAX_BYTES // 1024} KiB): nothing was written")


def decoded(text: str | None):
    """A logged payload's JSON text decoded; None when it does not decode (say, nested too deep)."""
    try:
        return orjson.loads(text)  # type: ignore[arg-type]
    except (orjson.JSONDecodeError, TypeError):
        return None


def stored_event(event: Event, decided: dict) -> Event:
    """`event` as stored: with what the database decided (its id; in team mode its author and
    times). `event.model_copy(update=decided)`, for the thousands a write batch stores."""
    return _trusted_event(event.__dict__ | decided)


def _trusted_event(fields: dict) -> Event:
    """What `Event.model_construct(**fields)` makes from all of its fields, in a fifth of the time
    (a test holds the two equal)."""
    event = _new(Event)
    _set(event, "__dict__", fields)
    _set(event, "__pydantic_fields_set__", _EVERY_EVENT_FIELD)
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


_new, _set = object.__new__, object.__setattr__
_EVENT_TYPES = {kind.value: kind for kind in EventType}
_EVERY_EVENT_FIELD = set(Event.model_fields)


def case_values(case: Case, event_id: int, policy: Policy) -> dict:
    """A case's row, its listing planned under `policy` (the one in force as it is written)."""
    return {
        "severity": case.severity.value, "status": case.status.value, "is_open": case.is_open,
        "escalated_at": case.escalated_at, "version": case.version, "updated_at": case.updated_at,
        "updated_by": case.updated_by, "last_event_id": event_id, "state": case.model_dump(mode="json"),
        "listing": listing_json(list_case(case, policy)),
        "source_name": case.source.name if case.source else None, "source_id": case.source.id if case.source else None,
    }


def stored_listing(text: str | None) -> dict | None:
    """A stored listing's JSON decoded; None when there is none or it does not decode (a member's
    write, say a number past the float range, which PostgreSQL's `json` takes): then it is no listing."""
    return None if text is None else decoded(text)


_EVERY_CASE_FIELD = set(Case.model_fields)


def case_from_state(state: str, case_id: str, version: int) -> Case:
    """The case a stored state holds, checked against its row (core.stored): ValueError when the
    row is no fold of that case (a member's write); storage then folds the case from the log.
    A stored state names every field, so pydantic's record of the fields given (a 2 KB set per
    object, a third of a case in memory, which casewatch never reads) is the same set for every
    case: they share one. Adding a name it holds changes nothing; copies get their own."""
    case = Case.model_validate_json(state)
    check_case(case, case_id, version)
    if len(case.model_fields_set) == len(_EVERY_CASE_FIELD):
        object.__setattr__(case, "__pydantic_fields_set__", _EVERY_CASE_FIELD)
    return case


def person_from_row(row) -> Person:
    return Person(name=row.name, role=Role(row.role), tz=row.tz, team=row.team, display_name=row.display_name)
