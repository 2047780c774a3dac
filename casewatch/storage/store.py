"""The store: runs commands through the core rules and writes event + projection in one transaction.

Concurrency: a write transaction locks the case row it changes (PostgreSQL `FOR UPDATE`; SQLite
writers take turns through `BEGIN IMMEDIATE`), and a projection row is only updated
`WHERE version = <version read>`. When a caller said which version it saw (`expect_version`) a
mismatch is a `Conflict`; otherwise the command is simply decided again against the fresh state (the
caller never saw the older one), after a short randomised back-off.

Every database failure, reads included, leaves here as one line (see storage.failures).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Integer, Select, String, func, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core import commands as c
from casewatch.core.errors import CasewatchError, Conflict, InvalidInput, NotFound, Unavailable
from casewatch.core.events import added_person
from casewatch.core.handoff import Handoff, LeadView, Packet, PacketDiff, Shift
from casewatch.core.models import Case, Event, EventType, Person, Role
from casewatch.core.policy import DEFAULT_POLICY_TOML, Policy, parse_policy
from casewatch.core.projection import apply, replay_cases
from casewatch.core.rules import Context, decide
from casewatch.core.text import check_handle
from casewatch.storage import convert
from casewatch.storage import handoffs as handoff_rows
from casewatch.storage.engine import create_engines
from casewatch.storage.failures import is_database_failure, retry_now, translate
from casewatch.storage.migrate import ensure_schema, take_turns
from casewatch.storage.schema import cases, counters, events, logins, people, policies
from casewatch.storage.target import Target

SYSTEM_ACTOR = "casewatch"
FIRST_CASE_NUMBER = 1001
RETRY_FOR_S = 60.0  # how long a write keeps trying again under contention before giving up (exit 4)
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.005, 0.25
Clock = Callable[[], datetime]
P = ParamSpec("P")
T = TypeVar("T")


def _reads(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A read whose database failures leave as one line (the first argument is the Store)."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except CasewatchError:
            raise
        except Exception as exc:
            if not is_database_failure(exc):
                raise
            store = args[0]
            assert isinstance(store, Store)
            raise translate(exc, store.target.describe(), writing=False) from None

    return guarded


def backoff_delays(rng: random.Random | None = None):
    """Randomised exponential back-off ("full jitter"): concurrent writers that collided spread out."""
    rng = rng or random.Random()
    ceiling = BACKOFF_FIRST_S
    while True:
        yield rng.uniform(0, ceiling)
        ceiling = min(BACKOFF_MAX_S, ceiling * 2)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Reads:
    """What one write transaction has read; our own writes keep it current, so read each once."""

    roster: dict[str, Person] | None = None
    policy: Policy | None = None
    shift: Shift | None = None
    shift_read: bool = False
    cases: dict[str, Case] = field(default_factory=dict)


class _Race(Exception):
    """Another writer changed the row between our read and our write."""


@dataclass(frozen=True)
class Outcome:
    event: Event
    case: Case | None = None

    @property
    def changed_case(self) -> Case:
        """The case a case command wrote; floor commands (a person, the policy, a shift) write none."""
        if self.case is None:
            raise ValueError(f"a {self.event.type} event changes no case")
        return self.case


@dataclass
class Changes:
    """What a live view needs after a high-water mark: the cases touched since, and the current
    policy version and roster mark to compare with what it holds."""

    high_water: int
    cases: list[Case] = field(default_factory=list)
    policy_version: int = 0
    roster_mark: int = 0
    shift_mark: int = 0


@dataclass(frozen=True)
class Marks:
    """What the projections hold right now, by marks that only move on commit: every open case's
    version, the policy version, the roster mark and the shift mark (see storage.feed); `high_water`
    is the newest event id, commit-ordered only where writers are serialised (SQLite)."""

    cases: dict[str, int]
    policy_version: int
    roster_mark: int
    high_water: int
    shift_mark: int = 0


class Store:
    def __init__(self, target: Target, clock: Clock):
        self.target = target
        self.clock = clock
        self._reader, self._writer = create_engines(target)
        self._policy_cache: Policy | None = None
        self.migrated = False  # whether opening it ran a schema migration

    @classmethod
    async def open(cls, target: Target, *, clock: Clock = system_clock, creator: Person | None = None) -> Store:
        """Open (creating and migrating as needed). On a new database `creator` becomes its first lead."""
        store = cls(target, clock)
        try:
            store.migrated = await ensure_schema(store._reader, store._writer, target.describe())
            await store._bootstrap(creator)
        except CasewatchError:
            await store.close()
            raise
        except Exception as exc:
            await store.close()
            if not is_database_failure(exc):
                raise
            raise translate(exc, target.describe(), writing=False) from None
        return store

    async def close(self) -> None:
        await self._reader.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ----------------------------------------------------------------- writes

    async def _bootstrap(self, creator: Person | None) -> None:
        """A new database gets the default policy and its creator as first lead. Only reads when
        there is nothing to write, so opening never waits for (or takes) the write lock."""
        async with self._reader.connect() as conn:
            needs_policy, needs_lead = await self._bootstrap_needs(conn, creator)
        if not (needs_policy or needs_lead):
            return
        self._check_writable()
        async with self._writer.begin() as conn:
            await take_turns(conn)
            needs_policy, needs_lead = await self._bootstrap_needs(conn, creator)
            now = self.clock()
            if needs_policy:
                event = Event(type=EventType.POLICY_APPLIED, actor=SYSTEM_ACTOR, occurred_at=now, recorded_at=now,
                              payload={"toml": DEFAULT_POLICY_TOML, "source": "default policy"})
                await self._project(conn, await self._append(conn, event), None)
            if needs_lead and creator is not None:
                check_handle(creator.name, "--as (the first lead of a new database)")
                event = Event(type=EventType.PERSON_ADDED, actor=SYSTEM_ACTOR, occurred_at=now, recorded_at=now,
                              payload={"name": creator.name, "role": Role.LEAD.value, "tz": creator.tz,
                                       "team": creator.team, "before": None})
                await self._project(conn, await self._append(conn, event), None)

    async def _bootstrap_needs(self, conn: AsyncConnection, creator: Person | None) -> tuple[bool, bool]:
        no_policy = (await conn.execute(select(func.count()).select_from(policies))).scalar() == 0
        no_people = creator is not None and (await conn.execute(select(func.count()).select_from(people))).scalar() == 0
        return no_policy, no_people

    def _check_writable(self) -> None:
        if self.target.read_only:
            raise InvalidInput(f"database {self.target.describe()} is read-only (no write permission): this "
                               "command writes; ask for write access or work on a copy")

    async def execute(self, command: c.Command, actor: str, *, at: datetime | None = None) -> Outcome:
        """Decide and record `command` as `actor`, occurring `at` (default: now). One transaction."""
        [outcome] = await self._write([(command, actor, at)])
        return outcome

    async def execute_many(self, items: list[tuple[c.Command, str, datetime | None]]) -> list[Outcome]:
        """Several commands in one all-or-nothing transaction (the demo seeder; later, imports)."""
        return await self._write(items)

    async def _write(self, items: list[tuple[c.Command, str, datetime | None]]) -> list[Outcome]:
        """One transaction, tried again with back-off while other writers get in its way."""
        self._check_writable()
        delays = backoff_delays()
        give_up = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                async with self._writer.begin() as conn:
                    reads = _Reads()
                    return [await self._execute(conn, command, actor, at, reads) for command, actor, at in items]
            except CasewatchError:
                raise
            except Exception as exc:
                if not isinstance(exc, _Race | IntegrityError) and not retry_now(exc):
                    if is_database_failure(exc):
                        raise translate(exc, self.target.describe(), writing=True) from None
                    raise
                await self._raise_if_conflict(items)
                if time.monotonic() >= give_up:
                    raise Unavailable(f"database {self.target.describe()}: too many concurrent writers for "
                                      f"{RETRY_FOR_S:.0f} s; nothing was written, try again") from None
            await asyncio.sleep(next(delays))

    async def _raise_if_conflict(self, items: list[tuple[c.Command, str, datetime | None]]) -> None:
        """After a collision: a command made against a version the caller saw must not be re-decided."""
        for command, _actor, _at in items:
            if isinstance(command, c.OnCase) and (expected := command.expect_version) is not None:
                case = await self._read_case(command.case_id)
                if case is None or case.version != expected:
                    raise self._conflict(case, expected)

    async def _execute(self, conn: AsyncConnection, command: c.Command, actor_name: str, at: datetime | None,
                       reads: _Reads) -> Outcome:
        if reads.roster is None:
            reads.roster = await self._load_roster(conn)
        actor = reads.roster.get(actor_name)
        if actor is None:
            raise NotFound(f"{actor_name!r} is not on the roster: ask a lead to run "
                           f"`casewatch people add {actor_name} --role agent --tz <zone>`")
        case = None
        if isinstance(command, c.OnCase):
            case = reads.cases.get(command.case_id) or await self._load_case(conn, command.case_id, lock=True)
            if case is None:
                raise NotFound(f"no case {command.case_id}")
            if command.expect_version is not None and case.version != command.expect_version:
                raise self._conflict(case, command.expect_version)
        recorded = self.clock()
        occurred = recorded if at is None else at
        if occurred > recorded:
            raise InvalidInput(f"--at {occurred.isoformat()} is in the future; only past times can be backfilled")
        if reads.policy is None:
            reads.policy = await self._load_policy(conn)
        if not reads.shift_read:
            reads.shift, reads.shift_read = await handoff_rows.current_shift(conn), True
        ctx = Context(actor=actor, roster=reads.roster, policy=reads.policy, occurred_at=occurred,
                      recorded_at=recorded, shift_lead=reads.shift.lead if reads.shift else None,
                      handoff=await handoff_rows.facts_for(conn, command, actor, reads.roster, reads.policy, occurred))
        new_id = await self._next_case_id(conn) if isinstance(command, c.NewCase) else None
        event = await self._append(conn, decide(command, case, ctx, new_case_id=new_id))
        new_case = await self._project(conn, event, case)
        if new_case is not None:
            reads.cases[new_case.id] = new_case
        else:  # the roster, the policy or the shift lead changed: read them again
            reads.roster, reads.policy, reads.shift_read = None, None, False
        return Outcome(event=event, case=new_case)

    def _conflict(self, case: Case | None, expected: int) -> Conflict:
        if case is None:
            return Conflict("the case no longer exists")
        when = case.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return Conflict(f"{case.id} was changed by {case.updated_by} at {when} (now version {case.version}, "
                        f"you had {expected}); nothing was written — reload and try again")

    async def _append(self, conn: AsyncConnection, event: Event) -> Event:
        """Insert the event; the id, and in team mode `actor` and `recorded_at`, are the server's."""
        result = await conn.execute(insert(events).values(**convert.event_values(event))
                                    .returning(events.c.id, events.c.actor, events.c.recorded_at))
        row = result.one()
        return event.model_copy(update={"id": row.id, "actor": row.actor, "recorded_at": row.recorded_at})

    async def _project(self, conn: AsyncConnection, event: Event, case: Case | None) -> Case | None:
        if event.case_id is not None:
            return await self._project_case(conn, event, case)
        await FLOOR_PROJECTIONS[event.type](conn, event)
        return None

    async def _project_case(self, conn: AsyncConnection, event: Event, case: Case | None) -> Case:
        if case is not None and event.occurred_at < case.last_occurred_at:
            # A backfilled event lands inside the history: refold the case in history order.
            new = replay_cases(await self._load_events(conn, case.id))[case.id]
        else:
            new = apply(case, event)
        values = convert.case_values(new, _stored_id(event))
        if case is None:
            await conn.execute(insert(cases).values(id=new.id, **values))
        else:
            result = await conn.execute(
                update(cases).where(cases.c.id == case.id, cases.c.version == case.version).values(**values))
            if result.rowcount != 1:
                raise _Race()
        return new

    async def _next_case_id(self, conn: AsyncConnection) -> str:
        result = await conn.execute(
            update(counters).where(counters.c.name == "case").values(value=counters.c.value + 1)
            .returning(counters.c.value))
        number = result.scalar()
        if number is None:
            number = FIRST_CASE_NUMBER
            await conn.execute(insert(counters).values(name="case", value=number))
        return f"CW-{number}"

    # ------------------------------------------------------------------ reads

    async def _load_case(self, conn: AsyncConnection, case_id: str, *, lock: bool = False) -> Case | None:
        """`lock`: hold the row until the transaction ends (PostgreSQL; a no-op on SQLite, whose
        writers already take turns), so concurrent writers to one case queue instead of colliding."""
        query = select(cases.c.state).where(cases.c.id == case_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).first()
        return convert.case_from_state(row.state) if row else None

    async def _read_case(self, case_id: str) -> Case | None:
        async with self._reader.connect() as conn:
            return await self._load_case(conn, case_id)

    async def _load_roster(self, conn: AsyncConnection) -> dict[str, Person]:
        rows = await conn.execute(select(people).order_by(people.c.name))
        return {row.name: convert.person_from_row(row) for row in rows}

    async def _load_policy(self, conn: AsyncConnection) -> Policy:
        row = (await conn.execute(select(policies).order_by(policies.c.version.desc()).limit(1))).first()
        if row is None:
            raise InvalidInput(f"{self.target.describe()} has no policy; run `casewatch db upgrade`")
        if self._policy_cache is None or self._policy_cache.version != row.version:
            self._policy_cache = parse_policy(row.toml, f"policy v{row.version}", version=row.version)
        return self._policy_cache


    @_reads
    async def get_case(self, case_id: str) -> Case:
        case = await self._read_case(case_id.strip().upper())
        if case is None:
            raise NotFound(f"no case {case_id.strip().upper()}")
        return case

    @_reads
    async def open_cases(self) -> list[Case]:
        """Every open case, read in partitions so the raw rows are never all in memory at once."""
        found: list[Case] = []
        async with self._reader.connect() as conn:
            result = await conn.stream(select(cases.c.state).where(cases.c.is_open.is_(True)))
            async for partition in result.partitions(500):
                found.extend(convert.case_from_state(row.state) for row in partition)
        return found

    @_reads
    async def has_cases(self) -> bool:
        async with self._reader.connect() as conn:
            return (await conn.execute(select(cases.c.id).limit(1))).first() is not None

    @_reads
    async def roster(self) -> dict[str, Person]:
        async with self._reader.connect() as conn:
            return await self._load_roster(conn)

    # ---------------------------------------------------------- shifts, handoffs

    @_reads
    async def current_shift(self) -> Shift | None:
        async with self._reader.connect() as conn:
            return await handoff_rows.current_shift(conn)

    @_reads
    async def handoffs(self) -> list[Handoff]:
        """Every handoff, newest first."""
        async with self._reader.connect() as conn:
            return await handoff_rows.load_handoffs(conn)

    @_reads
    async def handoff(self, handoff_id: int) -> Handoff:
        async with self._reader.connect() as conn:
            found = await handoff_rows.load_handoff(conn, handoff_id)
        if found is None:
            raise NotFound(f"no handoff {handoff_id} (see `casewatch handoff list`)")
        return found

    @_reads
    async def lead_view(self) -> LeadView:
        """Who leads now and the handoff waiting, read together (what the board's header shows)."""
        async with self._reader.connect() as conn:
            return LeadView.of(await handoff_rows.current_shift(conn), await handoff_rows.pending_handoff(conn))

    @_reads
    async def handoff_preview(self, actor: str, to: str | None, note: str = "",
                              case_notes: Mapping[str, str] | None = None) -> Packet:
        """The packet `actor` would hand to `to` right now (nothing is written). Without `to`, the
        incoming lead is left blank and shown in the actor's zone."""
        async with self._reader.connect() as conn:
            roster = await self._load_roster(conn)
            for name in (actor, to):
                if name is not None and name not in roster:
                    raise NotFound(f"no person named {name!r} on the roster (see `casewatch people list`)")
            me = roster[actor]
            incoming = roster[to] if to is not None else Person(name="", role=Role.LEAD, tz=me.tz)
            return await handoff_rows.preview(conn, await self._load_policy(conn), me, incoming, self.clock(),
                                              note, case_notes)

    @_reads
    async def handoff_changes(self, handoff: Handoff) -> PacketDiff:
        """What moved on the floor since `handoff`'s packet was made."""
        async with self._reader.connect() as conn:
            return await handoff_rows.changes_since(conn, await self._load_policy(conn), handoff, self.clock())

    @_reads
    async def policy(self) -> Policy:
        async with self._reader.connect() as conn:
            return await self._load_policy(conn)

    @_reads
    async def case_events(self, case_id: str) -> list[Event]:
        async with self._reader.connect() as conn:
            return await self._load_events(conn, case_id)

    async def case_histories(self) -> AsyncIterator[list[Event]]:
        """Each case's events, one case at a time, streamed from the log: never every event at once."""
        query = select(events).where(events.c.case_id.is_not(None)).order_by(events.c.case_id, events.c.id)
        async with self._reader.connect() as conn:
            history: list[Event] = []
            async for row in await conn.stream(query):
                event = convert.event_from_row(row)
                if history and event.case_id != history[0].case_id:
                    yield history
                    history = []
                history.append(event)
            if history:
                yield history

    async def floor_events(self) -> list[Event]:
        """The events outside any case (roster, policy, shifts, handoffs)."""
        query = select(events).where(events.c.case_id.is_(None)).order_by(events.c.id)
        async with self._reader.connect() as conn:
            return [convert.event_from_row(row) for row in await conn.execute(query)]

    async def _load_events(self, conn: AsyncConnection, case_id: str) -> list[Event]:
        query = select(events).where(events.c.case_id == case_id).order_by(events.c.id)
        return [convert.event_from_row(row) for row in await conn.execute(query)]

    @_reads
    async def all_events(self) -> list[Event]:
        query = select(events).order_by(events.c.id)
        async with self._reader.connect() as conn:
            return [convert.event_from_row(row) for row in await conn.execute(query)]

    @_reads
    async def high_water(self) -> int:
        async with self._reader.connect() as conn:
            return (await conn.execute(select(func.max(events.c.id)))).scalar() or 0

    @_reads
    async def roster_mark(self) -> int:
        """Grows with every roster change, in commit order: the sum of the people rows' versions."""
        async with self._reader.connect() as conn:
            return (await conn.execute(select(_roster_mark()))).scalar() or 0

    @_reads
    async def changes_since(self, mark: int) -> Changes:
        """What changed after event id `mark`; `high_water` stays `mark` when nothing did. Exact only
        where ids commit in order (SQLite's single writer); PostgreSQL boards use `marks` instead."""
        async with self._reader.connect() as conn:
            high = (await conn.execute(select(func.max(events.c.id)))).scalar() or 0
            if high <= mark:
                return Changes(high_water=mark)
            rows = await conn.execute(select(cases.c.state).where(cases.c.last_event_id > mark))
            return Changes(
                high_water=high,
                cases=[convert.case_from_state(row.state) for row in rows],
                policy_version=(await conn.execute(select(func.max(policies.c.version)))).scalar() or 0,
                roster_mark=(await conn.execute(select(_roster_mark()))).scalar() or 0,
                shift_mark=(await conn.execute(select(handoff_rows.shift_mark()))).scalar() or 0,
            )

    @_reads
    async def marks(self) -> Marks:
        """Every open case's version and the other marks, in one statement (one consistent read)."""
        def mark(kind: str, value) -> Select:
            return select(literal(kind, String).label("kind"), literal("", String).label("key"),
                          func.coalesce(value, 0).label("value"))

        query = union_all(
            select(literal("case", String), cases.c.id, cases.c.version).where(cases.c.is_open.is_(True)),
            mark("policy", select(func.max(policies.c.version)).scalar_subquery()),
            mark("roster", select(_roster_mark()).scalar_subquery()),
            mark("high", select(func.max(events.c.id)).scalar_subquery()),
            mark("shift", select(handoff_rows.shift_mark()).scalar_subquery()),
        )
        found: dict[str, dict[str, int]] = {"case": {}, "policy": {}, "roster": {}, "high": {}, "shift": {}}
        async with self._reader.connect() as conn:
            for kind, key, value in await conn.execute(query):
                found[kind][key] = int(value)
        return Marks(cases=found["case"], policy_version=found["policy"].get("", 0),
                     roster_mark=found["roster"].get("", 0), high_water=found["high"].get("", 0),
                     shift_mark=found["shift"].get("", 0))

    @_reads
    async def cases_by_id(self, ids: set[str]) -> list[Case]:
        """The named cases as stored now, open or not; ids with no row are left out."""
        if not ids:
            return []
        async with self._reader.connect() as conn:
            rows = await conn.execute(select(cases.c.state).where(cases.c.id.in_(sorted(ids))))
            return [convert.case_from_state(row.state) for row in rows]


def _roster_mark():
    return func.coalesce(func.sum(people.c.version), 0).cast(Integer)


async def _project_person(conn: AsyncConnection, event: Event) -> None:
    person = added_person(event.payload)
    values = {"role": person.role.value, "tz": person.tz, "team": person.team,
              "display_name": person.display_name, "last_event_id": event.id}
    changed = await conn.execute(
        update(people).where(people.c.name == person.name).values(version=people.c.version + 1, **values))
    if changed.rowcount == 0:
        await conn.execute(insert(people).values(name=person.name, version=1, **values))


async def _project_rename(conn: AsyncConnection, event: Event) -> None:
    """The person keeps role, zone and team; team-mode logins follow the name. Names recorded in
    past events, on cases and on shifts stay as they were written."""
    before, after = event.payload["before"], event.payload["after"]
    await conn.execute(update(people).where(people.c.name == before).values(
        name=after, version=people.c.version + 1, last_event_id=_stored_id(event)))
    await conn.execute(update(logins).where(logins.c.person == before).values(person=after))


async def _project_policy(conn: AsyncConnection, event: Event) -> None:
    current = (await conn.execute(select(func.max(policies.c.version)))).scalar() or 0
    await conn.execute(insert(policies).values(
        version=current + 1, toml=event.payload["toml"], applied_at=event.occurred_at,
        applied_by=event.actor, event_id=event.id))


FLOOR_PROJECTIONS: dict[EventType, Callable[[AsyncConnection, Event], Awaitable[None]]] = {
    EventType.PERSON_ADDED: _project_person,
    EventType.PERSON_RENAMED: _project_rename,
    EventType.POLICY_APPLIED: _project_policy,
    EventType.SHIFT_STARTED: handoff_rows.project_shift,
    EventType.HANDOFF_PREPARED: handoff_rows.project_prepared,
    EventType.HANDOFF_ACCEPTED: handoff_rows.project_accepted,
}
"""The table each event outside any case is written to (case events all go to `cases`)."""



def _stored_id(event: Event) -> int:
    """The log id of an event `_append` stored: projections only ever see stored events."""
    if event.id is None:
        raise ValueError(f"{event.type} event projected before it was stored")
    return event.id
