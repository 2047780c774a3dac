"""Shifts and handoffs in the database: the projections their events write, and the reads that
gather what a packet is built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Integer, Select, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core import commands as c
from casewatch.core.handoff import (
    Handoff,
    HandoffFacts,
    HandoffStatus,
    LeadRef,
    Packet,
    PacketDiff,
    Shift,
    build_packet,
    diff_since,
    shift_at,
)
from casewatch.core.models import Case, Event, EventType, Person
from casewatch.core.policy import Policy
from casewatch.core.projection import replay_cases
from casewatch.core.quarantine import CheckedFloor
from casewatch.storage import checked_log, convert
from casewatch.storage.as_of import open_cases_at
from casewatch.storage.policies import load_policy_history
from casewatch.storage.schema import cases, events, handoffs, shifts


async def current_shift(conn: AsyncConnection, at: datetime | None = None) -> Shift | None:
    """The shift that started last (a backfilled start counts when it happened), or last by `at`, as
    the checked fold of the log makes it: members may write the `shifts` rows (their lead, their time)."""
    checked = await checked_log.floor(conn)
    return shift_at(checked.accepted, checked.roster, at)


def shift_mark():
    """Moves whenever a shift starts or a handoff is prepared, replaced or accepted (a count of
    those facts, so it is commit-ordered on every backend): live views compare it."""
    counted = select(func.count() + func.count(handoffs.c.accepted_at) + func.count(handoffs.c.superseded_by))
    return (select(func.count()).select_from(shifts).scalar_subquery()
            + counted.select_from(handoffs).scalar_subquery()).cast(Integer)


async def first_event_at(conn: AsyncConnection) -> datetime | None:
    return (await conn.execute(select(events.c.occurred_at).order_by(events.c.id).limit(1))).scalar()


@dataclass(frozen=True)
class _Logged:
    """A handoff as the log's events that count say: its preparation, and whether it was accepted
    or replaced (its packet is parsed only when asked for)."""

    prepared: Event
    accepted_at: datetime | None = None
    superseded_by: int | None = None

    def handoff(self) -> Handoff:
        p = self.prepared.payload
        return Handoff(id=p["id"], packet=Packet.model_validate(p["packet"]), accepted_at=self.accepted_at,
                       superseded_by=self.superseded_by)


def _logged(checked: CheckedFloor) -> dict[int, _Logged]:
    """Every handoff by id, as the checked fold of the log makes it (never the `handoffs` table,
    which members can write): what `project_prepared` and `project_accepted` write."""
    found: dict[int, _Logged] = {}
    for event in checked.accepted:
        p = event.payload
        if event.type is EventType.HANDOFF_PREPARED:
            if p.get("supersedes") in found:
                found[p["supersedes"]] = replace(found[p["supersedes"]], superseded_by=p["id"])
            found[p["id"]] = _Logged(event)
        elif event.type is EventType.HANDOFF_ACCEPTED and p["id"] in found:
            found[p["id"]] = replace(found[p["id"]], accepted_at=event.occurred_at)
    return found


def load_handoff(checked: CheckedFloor, handoff_id: int, at: datetime | None = None) -> Handoff | None:
    """A handoff as it stands, or as it stood at `at`: not yet accepted or replaced when that came later
    (None when it was prepared after `at`)."""
    every = _logged(checked)
    if handoff_id not in every:
        return None
    handoff = every[handoff_id].handoff()
    if at is None:
        return handoff
    if handoff.packet.prepared_at > at:
        return None
    replaced = None
    if handoff.superseded_by is not None and handoff.superseded_by in every:
        newer = every[handoff.superseded_by].prepared.occurred_at
        replaced = handoff.superseded_by if newer <= at else None
    accepted = handoff.accepted_at if handoff.accepted_at is not None and handoff.accepted_at <= at else None
    return handoff.model_copy(update={"accepted_at": accepted, "superseded_by": replaced})


def load_handoffs(checked: CheckedFloor) -> list[Handoff]:
    """Every handoff, newest first."""
    return [logged.handoff() for _, logged in sorted(_logged(checked).items(), reverse=True)]


def pending_handoff(checked: CheckedFloor) -> Handoff | None:
    """The handoff waiting for its incoming lead, if any (a newer one replaces an older)."""
    waiting = [(handoff_id, logged) for handoff_id, logged in _logged(checked).items()
               if logged.accepted_at is None and logged.superseded_by is None]
    return max(waiting, key=lambda pair: pair[0])[1].handoff() if waiting else None


async def next_handoff_id(conn: AsyncConnection) -> int:
    """One more than the newest; two writers taking the same number collide on the key and retry."""
    newest = (await conn.execute(select(handoffs.c.id).order_by(handoffs.c.id.desc()).limit(1))).scalar()
    return (newest or 0) + 1


async def packet_sources(conn: AsyncConnection, since: datetime,
                         replay_to: datetime | None = None) -> tuple[list[Case], list[Event]]:
    """The open cases, and the histories of those and of every case with an event since `since`
    (what a packet, its shift summary and a diff are built from); with `replay_to`, as a replay of
    the log up to that instant."""
    if replay_to is not None:
        return await _replayed_sources(conn, since, replay_to)
    open_ids = select(cases.c.id).where(cases.c.is_open.is_(True))
    touched = select(events.c.case_id).where(events.c.occurred_at >= since, events.c.case_id.is_not(None))
    query = convert.LOGGED.where(or_(events.c.case_id.in_(open_ids), events.c.case_id.in_(touched)))
    history = await _counted(conn, query)
    # the open cases as their counted events make them (a packet goes into the log: never from a
    # `cases` row a member may have edited; the rows only say which cases to read)
    open_cases = [case for _, case in sorted(replay_cases(history).items()) if case.is_open]
    return open_cases, history


async def _counted(conn: AsyncConnection, query: Select) -> list[Event]:
    """The events of the `query`'s cases that count (storage.checked_log), in log order."""
    checked = await checked_log.floor(conn)
    ordered = query.order_by(events.c.case_id, events.c.id)
    found = [event async for history in checked_log.histories(conn, checked, ordered) for event in history]
    return sorted(found, key=lambda e: e.id or 0)


async def _replayed_sources(conn: AsyncConnection, since: datetime, at: datetime) -> tuple[list[Case], list[Event]]:
    open_cases = await open_cases_at(conn, at)
    touched = select(events.c.case_id).where(events.c.occurred_at >= since, events.c.occurred_at <= at,
                                             events.c.case_id.is_not(None)).distinct()
    wanted = sorted({case.id for case in open_cases} | set((await conn.execute(touched)).scalars()))
    history: list[Event] = []
    for start in range(0, len(wanted), 1000):  # bounded IN lists on every backend
        history.extend(await _counted(conn, convert.LOGGED.where(events.c.case_id.in_(wanted[start:start + 1000]),
                                                                 events.c.occurred_at <= at)))
    history.sort(key=lambda e: e.id or 0)
    return open_cases, history


async def outgoing_shift(conn: AsyncConnection, actor: Person, now: datetime, replay: bool = False) -> Shift:
    """The shift being handed over: the current one (at `now` when replaying), or, before anyone
    started a shift, the acting lead's since the database began."""
    shift = await current_shift(conn, now if replay else None)
    if shift is not None:
        return shift
    began = await first_event_at(conn) or now
    return Shift(lead=actor.name, tz=actor.tz, started_at=min(began, now))  # a replay may precede the first event


async def preview(conn: AsyncConnection, policy: Policy, actor: Person, incoming: Person, now: datetime,
                  note: str = "", case_notes: Mapping[str, str] | None = None, replay: bool = False, *,
                  where: str) -> Packet:
    """The packet `actor` would hand to `incoming` now; with `replay`, the one the log up to `now`
    gives (`handoff show --as-of`). `where` names the database in errors."""
    shift = await outgoing_shift(conn, actor, now, replay)
    open_cases, history = await packet_sources(conn, shift.started_at, now if replay else None)
    return build_packet(cases=open_cases, events=history, policy=policy,
                        policies=await load_policy_history(conn, where), shift=shift,
                        incoming=LeadRef(name=incoming.name, tz=incoming.tz), now=now, note=note, case_notes=case_notes)


async def changes_since(conn: AsyncConnection, handoff: Handoff, now: datetime, replay: bool = False, *,
                        where: str) -> PacketDiff:
    """What moved on the floor after `handoff`'s packet was made (up to `now` when replaying); each
    breach judged under the policy in force when it happened."""
    open_cases, history = await packet_sources(conn, handoff.packet.prepared_at, now if replay else None)
    return diff_since(handoff.packet, open_cases, history, await load_policy_history(conn, where), now)


_NO_FACTS = HandoffFacts()  # nothing read: every command but a handoff gets this one object


async def facts_for(conn: AsyncConnection, command: c.Command, actor: Person, roster: Mapping[str, Person],
                    policy: Policy, now: datetime, *, where: str) -> HandoffFacts:
    """What the rule of a handoff command needs read (nothing for any other command)."""
    if isinstance(command, c.PrepareHandoff):
        incoming = roster.get(command.to)
        if incoming is None:
            return _NO_FACTS  # the rule names the missing person
        return HandoffFacts(next_id=await next_handoff_id(conn), pending=pending_handoff(await checked_log.floor(conn)),
                            packet=await preview(conn, policy, actor, incoming, now, command.note, command.case_notes,
                                                 where=where))
    if isinstance(command, c.AcceptHandoff):
        handoff = load_handoff(await checked_log.floor(conn), command.handoff_id)
        if handoff is None or handoff.status is not HandoffStatus.PENDING:
            return HandoffFacts(handoff=handoff)
        return HandoffFacts(handoff=handoff, diff=await changes_since(conn, handoff, now, where=where))
    return _NO_FACTS


# ------------------------------------------------------------------ projections


async def project_shift(conn: AsyncConnection, event: Event, handoff_id: int | None = None) -> None:
    p = event.payload
    await conn.execute(insert(shifts).values(event_id=event.id, lead=p["lead"], tz=p.get("tz") or "UTC",
                                             started_at=event.occurred_at, handoff_id=handoff_id))


async def project_prepared(conn: AsyncConnection, event: Event) -> None:
    p = event.payload
    if p.get("supersedes") is not None:
        await conn.execute(update(handoffs).where(handoffs.c.id == p["supersedes"])
                           .values(superseded_by=p["id"], last_event_id=event.id))
    await conn.execute(insert(handoffs).values(
        id=p["id"], prepared_at=event.occurred_at, prepared_by=event.actor, to_lead=p["to"], packet=p["packet"],
        accepted_at=None, superseded_by=None, last_event_id=event.id))


async def project_accepted(conn: AsyncConnection, event: Event) -> None:
    p = event.payload
    await conn.execute(update(handoffs).where(handoffs.c.id == p["id"])
                       .values(accepted_at=event.occurred_at, last_event_id=event.id))
    await project_shift(conn, event, handoff_id=p["id"])
