"""The log as the checked fold reads it (core.quarantine): every reader that folds events (verify,
rebuild, `--as-of`, metrics, a case's timeline, the roster and policy a write is decided under)
reads them through here, so a forged or malformed event is quarantined the same way everywhere."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.models import Event, EventType, link_key
from casewatch.core.quarantine import CheckedFloor, Quarantined, check_case, check_floor, link_holders
from casewatch.storage import convert
from casewatch.storage.schema import events

TURN_S = 0.01  # a fold of the whole log gives the event loop a turn this often (the board's audit runs on it)
_FLOOR = events.c.case_id.is_(None)
_CREATED = events.c.type == EventType.CASE_CREATED.value
FLOOR_MARK = select(*(select(what).where(which).scalar_subquery()
                      for which in (_FLOOR, _CREATED)
                      for what in (func.count(), func.coalesce(func.max(events.c.id), 0))))
"""(how many floor events, the highest id; the same of case creations, which may claim ticket links):
moves whenever one commits, on every backend."""


async def floor(conn: AsyncConnection) -> CheckedFloor:
    """The events outside any case, checked in log order, and which case holds each ticket link."""
    query = convert.LOGGED.where(events.c.case_id.is_(None)).order_by(events.c.id)
    checked = check_floor([convert.event_from_trusted_row(row) for row in await conn.execute(query)])
    checked.links = link_holders(await _linked_creations(conn), checked)
    return checked


async def _linked_creations(conn: AsyncConnection, case_ids: Sequence[str] | None = None) -> list[Event]:
    """The `case_created` events naming a ticket link (of these cases), in log order."""
    payload = cast(events.c.payload, Text)
    query = (select(events.c.id, events.c.case_id, events.c.type, events.c.actor, events.c.occurred_at,
                    events.c.recorded_at, payload)
             .where(events.c.type == EventType.CASE_CREATED.value, payload.contains('"source"'))
             .order_by(events.c.id))
    if case_ids is not None:
        query = query.where(events.c.case_id.in_(case_ids))
    return [convert.event_from_trusted_row(row) for row in await conn.execute(query)]


def linked_case_ids(checked: CheckedFloor, source: str, ticket_ids: Iterable[str]) -> dict[str, str]:
    """Ticket id -> the case the log links it to (as the checked fold decides: `link_holders`),
    never `cases.source_name` / `source_id`, which members can write."""
    found = {ticket_id: checked.links.get(link_key(source, ticket_id)) for ticket_id in ticket_ids}
    return {ticket_id: case_id for ticket_id, case_id in found.items() if case_id is not None}


async def case_events(conn: AsyncConnection, case_id: str, checked: CheckedFloor) -> tuple[list[Event],
                                                                                             list[Quarantined]]:
    """One case's events that count (in log order) and those quarantined."""
    query = convert.LOGGED.where(events.c.case_id == case_id).order_by(events.c.id)
    accepted, quarantined = check_case([convert.event_from_trusted_row(row) for row in await conn.execute(query)],
                                       checked)
    return sorted(accepted, key=lambda e: e.id or 0), quarantined


async def histories(conn: AsyncConnection, checked: CheckedFloor, query: Select | None = None,
                    quarantined: list[Quarantined] | None = None) -> AsyncIterator[list[Event]]:
    """Each case's counted history (history order), one case at a time, streamed from the log in
    case order: never the whole log at once. `query`: the LOGGED rows to read (default: every case
    event), ordered by case id; `quarantined` collects what was left out."""
    if query is None:
        query = convert.LOGGED.where(events.c.case_id.is_not(None)).order_by(events.c.case_id, events.c.id)
    history: list[Event] = []
    turn = time.monotonic() + TURN_S
    async for partition in (await conn.stream(query)).partitions(2000):
        for row in partition:
            event = convert.event_from_trusted_row(row)
            if history and event.case_id != history[0].case_id:
                if time.monotonic() >= turn:  # let the board's keys and frames in between two cases
                    await asyncio.sleep(0)
                    turn = time.monotonic() + TURN_S
                accepted, refused = check_case(history, checked)
                if quarantined is not None:
                    quarantined.extend(refused)
                if accepted:
                    yield accepted
                history = []
            history.append(event)
    if history:
        accepted, refused = check_case(history, checked)
        if quarantined is not None:
            quarantined.extend(refused)
        if accepted:
            yield accepted


async def audit(conn: AsyncConnection) -> list[Quarantined]:
    """Every quarantined event of the log, in log order."""
    checked = await floor(conn)
    found = list(checked.quarantined)
    async for _ in histories(conn, checked, quarantined=found):
        pass
    return sorted(found, key=lambda q: q.id or 0)


@dataclass(frozen=True)
class AuditMark:
    """What one audit found, and how far into the log it read: enough for the next audit to check
    only the cases that gained events since (a lead's board counts the quarantined at every start,
    and a full audit of a 10,000-case log costs seconds)."""

    read: int  # how many events the log held up to `last_id`
    last_id: int
    floor: tuple[int, int]  # FLOOR_MARK as it was
    quarantined: dict[str, int]  # case id ("" for the floor) -> how many of its events were quarantined

    @property
    def count(self) -> int:
        return sum(self.quarantined.values())


async def audit_since(conn: AsyncConnection, mark: AuditMark | None) -> AuditMark:
    """The quarantined counts now, re-checking only the cases with events after `mark`. Anything
    that could change an earlier judgement sends it back to the whole log: a new floor event (the
    roster an event is judged under), or an event that committed with an id below the mark's last
    (PostgreSQL draws ids before commit). A new case does not: a ticket link belongs to the first
    creation in the log naming it, so a creation after the mark can lose a link, never take one."""
    last_id = (await conn.execute(select(func.coalesce(func.max(events.c.id), 0)))).scalar() or 0
    floor_count, floor_last, *_creations = tuple((await conn.execute(FLOOR_MARK)).one())
    if mark is None or (floor_count, floor_last) != mark.floor or await _count_to(conn, mark.last_id) != mark.read:
        found = await audit(conn)
        counts = Counter(q.case_id or "" for q in found if q.id is None or q.id <= last_id)
    else:
        changed = select(events.c.case_id).where(events.c.id > mark.last_id, events.c.case_id.is_not(None)).distinct()
        case_ids = sorted(row[0] for row in await conn.execute(changed))
        counts = Counter({case: n for case, n in mark.quarantined.items() if case not in case_ids})
        if case_ids:
            checked = await floor(conn)
            query = convert.LOGGED.where(events.c.case_id.in_(case_ids)).order_by(events.c.case_id, events.c.id)
            refused: list[Quarantined] = []
            async for _ in histories(conn, checked, query, quarantined=refused):
                pass
            counts.update(q.case_id or "" for q in refused)
    return AuditMark(read=await _count_to(conn, last_id), last_id=last_id, floor=(floor_count, floor_last),
                     quarantined=dict(counts))


async def _count_to(conn: AsyncConnection, last_id: int) -> int:
    return (await conn.execute(select(func.count()).select_from(events).where(events.c.id <= last_id))).scalar() or 0
