"""The store: runs commands through the core rules and writes event + projection in one transaction.

Concurrency: a write transaction locks the case row it changes (PostgreSQL `FOR UPDATE`; SQLite
writers take turns through `BEGIN IMMEDIATE`), and a projection row is only updated
`WHERE version = <version read>`. When a caller said which version it saw (`expect_version`) a
mismatch is a `Conflict`; otherwise the command is simply decided again against the fresh state (the
caller never saw the older one), after a short randomised back-off. On PostgreSQL a write first
takes the floor lock (shared; exclusive for a floor command: `_take_floor_turn`), so no roster change
commits between what it decides from and its commit.

Team mode (PostgreSQL, after `casewatch team init`): the acting person is whoever the server maps
this connection's login to (`team`); a command naming anyone else is refused, and the server stamps
each event's author and times, which the store reads back (RETURNING) and folds the projections with.

Who may do what is decided from the roster and policy as the checked fold of the log gives them
(storage.checked_log), never from the `people` or `policies` tables, which members can write; and
each case a command changes is the checked fold of its events (its `cases` row is only locked, then
overwritten), as is the case an import finds linked to a ticket.

Every database failure, reads included, leaves here as one line (see storage.failures).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.bulk_load import bulk_allocation
from casewatch.core import commands as c
from casewatch.core import metrics
from casewatch.core.errors import CasewatchError, Conflict, InvalidInput, NotFound, Unavailable
from casewatch.core.events import added_person
from casewatch.core.handoff import Handoff, LeadView, Packet, PacketDiff, Shift, shift_at
from casewatch.core.listing import CaseListing
from casewatch.core.models import Case, Event, EventType, Person, Role, Status, link_key
from casewatch.core.policy import DEFAULT_POLICY_TOML, Policy, parse_policy
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import apply, in_history_order
from casewatch.core.quarantine import CASE_ID, CASE_NUMBER_MAX, SYSTEM_ACTOR, CheckedFloor, Quarantined
from casewatch.core.rules import Context, decide
from casewatch.core.text import check_handle
from casewatch.core.views import conflict_message
from casewatch.storage import as_of, checked_log, convert, outbox, sqlite_log
from casewatch.storage import handoffs as handoff_rows
from casewatch.storage.case_checks import CaseChecks
from casewatch.storage.case_rows import CHUNK, STATES, STORED_UNREADABLE, cases_named, read_cases, stored_case
from casewatch.storage.engine import borrow_engines, give_back
from casewatch.storage.failures import failure, lock_timeout, reason, retry_now
from casewatch.storage.listings import LISTED, plan_open_listings, read_listings
from casewatch.storage.lock_holders import lock_holders
from casewatch.storage.migrate import ensure_schema, take_turns
from casewatch.storage.policies import load_policy_history
from casewatch.storage.roles import administers, database_name, grant_membership, member_role, quote_role
from casewatch.storage.schema import cases, counters, events, logins, people, policies
from casewatch.storage.target import Target
from casewatch.storage.upsert import upsert
from casewatch.storage.verify import Difference
from casewatch.storage.verify import rebuild as rebuild_projections
from casewatch.storage.verify import verify as verify_projections

FIRST_CASE_NUMBER = 1001
RETRY_FOR_S = 60.0  # how long a write keeps trying again under contention before giving up (exit 4)
INTEGRITY_RETRIES = 3  # a unique index or the server's vet refusing a write: a race, or never going to work
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.005, 0.25
Clock = Callable[[], datetime]
P = ParamSpec("P")
FollowUp = Callable[[str], c.Command]  # given the id of the case last created in the batch, its command
BatchItem = tuple[c.Command | FollowUp, str, datetime | None]  # (command, actor, occurred at or None: now)
Planner = Callable[[dict[str, Case]], list[BatchItem]]  # the linked cases found, by ticket id -> the batch
Step = Callable[[AsyncConnection], Awaitable[None]]  # statements run inside a transaction
T = TypeVar("T")

# Built once: the write path runs these for every batch. On PostgreSQL a batch's events go in one
# multi-row INSERT whose ids, and what a team database's trigger decided (author, times), come back
# in row order (SQLAlchemy's ordered form). SQLite appends them at the driver (storage.sqlite_log).
_STAMPED = (events.c.id, events.c.actor, events.c.occurred_at, events.c.recorded_at)
_INSERT_EVENTS = insert(events).returning(*_STAMPED, sort_by_parameter_order=True)
_ROSTER_EVENTS = (EventType.PERSON_ADDED, EventType.PERSON_RENAMED)  # of what a batch reads: the roster only
_UPDATE_CASE = update(cases).where(cases.c.id == bindparam("row_id"), cases.c.version == bindparam("row_version"))


def _reads(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A read whose database failures leave as one line (the first argument is the Store)."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except CasewatchError:
            raise
        except Exception as exc:
            store = args[0]
            assert isinstance(store, Store)
            raise await store.failed(exc, writing=False) from None

    return guarded


def _streams(method: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    """`_reads` for a read that yields as it goes (what the caller does between items is its own)."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        store = args[0]
        assert isinstance(store, Store)
        try:
            async for item in method(*args, **kwargs):
                yield item
        except CasewatchError:
            raise
        except Exception as exc:
            raise await store.failed(exc, writing=False) from None

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
class _Batch:
    """One write transaction. It reads the roster, policy and shift lead once (its own writes keep
    them current), folds case events in memory and writes them together: all new events in one
    multi-row INSERT, then each touched case's projection once, at its final state."""

    roster: dict[str, Person] | None = None
    policy: Policy | None = None
    policies: PolicyHistory | None = None  # with `policy`: the metric facts judge each span under the policy then
    shift: Shift | None = None
    shift_read: bool = False
    cases: dict[str, Case] = field(default_factory=dict)  # every touched case, as it stands now
    row_versions: dict[str, int | None] = field(default_factory=dict)  # each touched case's row version (None: no row)
    events: list[Event] = field(default_factory=list)  # in decision order; ids from `written` on
    after: list[Case | None] = field(default_factory=list)  # the case after each event
    written: int = 0
    unwritten_cases: dict[str, int] = field(default_factory=dict)  # case id -> index of its last event
    base: dict[str, Case | None] = field(default_factory=dict)  # each case before its first unwritten event
    facts: dict[str, metrics.CaseFacts] = field(default_factory=dict)  # each touched case's metric facts, as now
    base_facts: dict[str, metrics.CaseFacts | None] = field(default_factory=dict)  # beside `base`
    case_ids: list[str] = field(default_factory=list)  # reserved, handed out in order
    new_cases: int = 1  # how many ids to reserve when the reservation runs out
    last_number: int = 0  # the last case number it reserved


@dataclass(frozen=True)
class _Linked:
    """An import batch planned inside its transaction, from the cases linked to its tickets."""

    source: str
    ticket_ids: list[str]
    plan: Planner
    then: Step | None = None  # more of the same transaction, after the batch (a sync saves its cursor)


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


@dataclass(frozen=True)
class TeamLogin:
    """Team mode: the database login this store is connected as and the roster person it acts as;
    None for an administrator's login mapped to nobody (it may read and maintain, not act)."""

    login: str
    person: str | None

    def refuse(self, claimed: str) -> InvalidInput:
        if self.person is None:
            return InvalidInput(f"login {self.login} administers this team database but is mapped to nobody on "
                                "the roster: it may read and run `casewatch db …`; to act, connect with your own "
                                "login")
        return InvalidInput(f"you are connected as {self.login}, who is {self.person} on the roster: you cannot "
                            f"act as {claimed!r} (drop --as and CASEWATCH_USER, or connect with that person's login)")


class Store:
    def __init__(self, target: Target, clock: Clock):
        self.target = target
        self.clock = clock
        self._reader, self._writer = borrow_engines(target)
        self._closed = False
        self._policy_cache: Policy | None = None
        self._floor_cache: tuple[tuple, CheckedFloor] | None = None  # (the floor's mark, its checked fold)
        self._history_cache: tuple[CheckedFloor, PolicyHistory] | None = None  # (the floor, its policies)
        self._checks = CaseChecks()  # the cases this store wrote to, checked up to their last event
        self.migrated = False  # whether opening it ran a schema migration
        self.team: TeamLogin | None = None  # set on a team database: who the server says we are
        self.write_back: outbox.WriteBackRules = {}  # which sources' tickets get what (the config's)

    @classmethod
    async def open(cls, target: Target, *, clock: Clock = system_clock, creator: Person | None = None) -> Store:
        """Open (creating and migrating as needed). On a new database `creator` becomes its first lead."""
        store = cls(target, clock)
        try:
            store.migrated = await ensure_schema(store._reader, store._writer, target.describe())
            store.team = await store._identify()
            await store._bootstrap(creator)
            if store.migrated:  # the schema may just have gained listings: plan the open cases'
                async with store._writer.begin() as conn:
                    await plan_open_listings(conn, await store._load_policy(conn))
        except CasewatchError:
            await store.close()
            raise
        except Exception as exc:
            await store.close()
            raise failure(exc, target.describe(), writing=False, path=target.path) or exc from None
        return store

    async def failed(self, exc: BaseException, *, writing: bool) -> BaseException:
        """`exc` as its one line (storage.failures); a lock timeout names who holds the lock."""
        held_by = await lock_holders(self._reader) if lock_timeout(exc) and not self.target.is_sqlite else None
        return failure(exc, self.target.describe(), writing=writing, path=self.target.path, held_by=held_by) or exc

    async def close(self) -> None:
        if not self._closed:  # (closed once: the engines go back to the process's lending)
            self._closed = True
            await give_back((self._reader, self._writer))

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ----------------------------------------------------------------- writes

    async def _identify(self) -> TeamLogin | None:
        """On a team database (PostgreSQL with logins mapped by `team init`), the roster person the
        server maps our login to; a login mapped to nobody may not use it at all, unless it
        administers the database. Elsewhere None: identity is what the caller says (SQLite, and
        PostgreSQL databases that never ran `team init`)."""
        if self.target.is_sqlite:
            return None
        mapped = select(logins.c.person).where(logins.c.login == func.session_user()).scalar_subquery()
        query = select(func.session_user(), mapped, select(logins.c.login).limit(1).exists(), administers())
        async with self._reader.connect() as conn:
            login, person, team, admin = (await conn.execute(query)).one()
        if not team:
            return None
        if person is None and not admin:
            raise InvalidInput(f"login {login} is not mapped to anyone on the roster of team database "
                               f"{self.target.describe()}: a lead runs `casewatch team grant NAME --login {login}`")
        return TeamLogin(login=login, person=person)

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
                await self._project(conn, await self._append(conn, event))
            if needs_lead and creator is not None:
                check_handle(creator.name, "--as (the first lead of a new database)")
                event = Event(type=EventType.PERSON_ADDED, actor=SYSTEM_ACTOR, occurred_at=now, recorded_at=now,
                              payload={"name": creator.name, "role": Role.LEAD.value, "tz": creator.tz,
                                       "team": creator.team, "before": None})
                await self._project(conn, await self._append(conn, event))

    async def _bootstrap_needs(self, conn: AsyncConnection, creator: Person | None) -> tuple[bool, bool]:
        no_policy = (await conn.execute(select(func.count()).select_from(policies))).scalar() == 0
        no_people = creator is not None and (await conn.execute(select(func.count()).select_from(people))).scalar() == 0
        return no_policy, no_people

    async def first_login(self, lead: Person, login: str) -> None:
        """Team init: `lead`, a lead on the roster, connects as `login` (written by the system, as the
        roster's first lead is). Run by the administrator who set the database up."""
        async with self._writer.begin() as conn:
            await take_turns(conn)
            found = (await self._load_roster(conn)).get(lead.name)
            if found is None or found.role is not Role.LEAD:
                what = "is not on the roster" if found is None else f"is on the roster as {found.role.value}"
                raise InvalidInput(f"{lead.name} {what}: the first lead of a team database must be a lead")
            now = self.clock()
            event = Event(type=EventType.LOGIN_GRANTED, actor=SYSTEM_ACTOR, occurred_at=now, recorded_at=now,
                          payload={"login": login, "person": lead.name, "before": None})
            await self._project(conn, await self._append(conn, event))

    async def member_role(self) -> str:
        """The role every login of this team database is in (`casewatch_member_<database>`)."""
        async with self._reader.connect() as conn:
            return member_role(await database_name(conn))

    async def grant_member(self, login: str) -> bool:
        """After a grant: put the login in the members' role when our own login may (the server
        decides); False when it may not, and nothing changed."""
        try:
            async with self._writer.begin() as conn:
                return await grant_membership(conn, login, member_role(await database_name(conn)))
        except Exception as exc:
            raise await self.failed(exc, writing=True) from None

    def _check_writable(self) -> None:
        if self.target.read_only:
            why = "its directory cannot be written" if self.target.immutable else "no write permission"
            raise InvalidInput(f"database {self.target.describe()} is read-only ({why}): this "
                               "command writes; ask for write access or work on a copy")

    async def execute(self, command: c.Command, actor: str, *, at: datetime | None = None) -> Outcome:
        """Decide and record `command` as `actor`, occurring `at` (default: now). One transaction."""
        [outcome] = await self._write([(command, actor, at)])
        return outcome

    async def execute_many(self, items: list[BatchItem]) -> list[Outcome]:
        """Several commands in one all-or-nothing transaction, written as one batch (the demo
        seeder, imports). A command may also be a function of the id of the case most recently
        created in this batch: how an import gives a new case its history."""
        with bulk_allocation(freeze=False):
            return await self._write(items)

    async def execute_each(self, commands: Sequence[c.OnCase], actor: str) -> list[Outcome | CasewatchError]:
        """Commands on several cases (a bulk action) in one transaction, each its own event. A
        command its case refuses (not allowed, resolved, changed since the caller saw it: a
        conflict) is answered with its error, in its place, and the others are written."""
        refused: dict[int, CasewatchError] = {}
        with bulk_allocation(freeze=False):
            written = iter(await self._write([(command, actor, None) for command in commands], refused))
        return [refused[i] if i in refused else next(written) for i in range(len(commands))]

    async def execute_linked(self, source: str, ticket_ids: Sequence[str], plan: Planner,
                             then: Step | None = None) -> list[Outcome]:
        """An import's batch, in one all-or-nothing transaction: the cases linked to these tickets
        of `source` are read inside it (locked on PostgreSQL), and `plan` decides the commands from
        them. When another import linked one of the tickets meanwhile, the unique index on
        (source, ticket id) refuses the second case, and the batch is read and planned again: a
        ticket never makes two cases. `then` runs last in the same transaction."""
        with bulk_allocation(freeze=False):
            return await self._write(_Linked(source, list(ticket_ids), plan, then))

    async def write_rows(self, step: Step) -> None:
        """Rows beside the log (a sync's state, never an event) written in a transaction of their own."""
        self._check_writable()
        try:
            async with self._writer.begin() as conn:
                await step(conn)
        except CasewatchError:
            raise
        except Exception as exc:
            raise await self.failed(exc, writing=True) from None

    @_reads
    async def read_rows(self, query: Select | CompoundSelect) -> list:
        async with self._reader.connect() as conn:
            return list(await conn.execute(query))

    @_reads
    async def linked_cases(self, source: str, ticket_ids: Sequence[str]) -> dict[str, Case]:
        """The cases linked to these tickets of `source`, by ticket id (what a dry run compares with)."""
        async with self._reader.connect() as conn:
            return await self._read_linked(conn, source, list(ticket_ids), lock=False)

    async def _write(self, items: list[BatchItem] | _Linked,
                     refused: dict[int, CasewatchError] | None = None) -> list[Outcome]:
        """One transaction, tried again with back-off while other writers get in its way. With
        `refused`, an item its case refuses is kept there by position and the rest are written."""
        self._check_writable()
        delays = backoff_delays()
        give_up = time.monotonic() + RETRY_FOR_S
        refusals = 0
        while True:
            try:
                async with self._writer.begin() as conn:
                    await _take_floor_turn(conn, items)
                    loaded: dict[str, tuple[Case, metrics.CaseFacts, int | None]] = {}
                    planned = items if isinstance(items, list) else items.plan(
                        await self._read_linked(conn, items.source, items.ticket_ids, loaded=loaded))
                    if refused is not None:
                        refused.clear()  # each try decides every item again
                    outcomes = await self._execute_batch(conn, planned, refused, loaded)
                    if not isinstance(items, list) and items.then is not None:
                        await items.then(conn)
                    return outcomes
            except CasewatchError:
                raise
            except Exception as exc:
                if not isinstance(exc, _Race | IntegrityError) and not retry_now(exc):
                    raise await self.failed(exc, writing=True) from None
                refusals += isinstance(exc, IntegrityError)
                if refusals > INTEGRITY_RETRIES:  # not a race another try wins: what the database said
                    raise Conflict(f"database {self.target.describe()} refused the write ({reason(exc)}); "
                                   "nothing was written") from None
                if refused is None:  # (item by item, a conflict is that item's answer on the next try)
                    await self._raise_if_conflict(items if isinstance(items, list) else [])
                if time.monotonic() >= give_up:
                    raise Unavailable(f"database {self.target.describe()}: too many concurrent writers for "
                                      f"{RETRY_FOR_S:.0f} s; nothing was written, try again") from None
            await asyncio.sleep(next(delays))

    async def _raise_if_conflict(self, items: list[BatchItem]) -> None:
        """After a collision: a command made against a version the caller saw must not be re-decided."""
        for command, _actor, _at in items:
            if isinstance(command, c.OnCase) and command.depends_on_state and command.expect_version is not None:
                async with self._reader.connect() as conn:
                    loaded = await self._cases_from_log(conn, [command.case_id])
                    case = loaded[command.case_id][0] if loaded else None
                    if case is None or _stale(command, case):
                        raise await self._conflict(conn, case, command.expect_version)

    async def _execute_batch(self, conn: AsyncConnection, items: list[BatchItem],
                             refused: dict[int, CasewatchError] | None = None,
                             loaded: Mapping[str, tuple[Case, metrics.CaseFacts, int | None]] | None = None
                             ) -> list[Outcome]:
        """`loaded`: cases already folded from the log in this transaction (`_cases_from_log`)."""
        batch = _Batch(new_cases=max(1, sum(isinstance(item[0], c.OPENS_CASE) for item in items)))
        for case_id, (case, facts, row_version) in (loaded or {}).items():
            batch.cases[case_id], batch.facts[case_id], batch.row_versions[case_id] = case, facts, row_version
        indices, created = [], None
        for position, (command, actor, at) in enumerate(items):
            if callable(command):
                if created is None:
                    raise InvalidInput("a batch's follow-up command comes before any new case")
                command = command(created)
            try:
                index = await self._execute(conn, command, actor, at, batch)
            except CasewatchError as exc:
                if refused is None:
                    raise
                refused[position] = exc  # decided before anything of it entered the batch
                continue
            if batch.events[index].type is EventType.CASE_CREATED:
                created = batch.events[index].case_id
            indices.append(index)
        await self._flush(conn, batch)
        if self.write_back:  # deliveries to the tickets, in the events' own transaction
            await outbox.queue(conn, ((event, batch.cases.get(event.case_id or "")) for event in batch.events),
                               self.write_back, self.clock())
        return [Outcome(event=batch.events[i], case=batch.after[i]) for i in indices]

    async def _execute(self, conn: AsyncConnection, command: c.Command, actor_name: str, at: datetime | None,
                       batch: _Batch) -> int:
        """Decide `command` into `batch`; returns the index of its event there."""
        if self.team is not None and actor_name != self.team.person:
            raise self.team.refuse(actor_name)
        if batch.roster is None:
            batch.roster = await self._load_roster(conn)
        actor = batch.roster.get(actor_name)
        if actor is None:
            raise NotFound(f"{actor_name!r} is not on the roster: ask a lead to run "
                           f"`casewatch people add {actor_name} --role agent --tz <zone>`")
        if batch.policy is None or batch.policies is None:
            batch.policy = await self._load_policy(conn)
            batch.policies = await self._policy_history(conn)
        case = None
        if isinstance(command, c.OnCase):
            case = batch.cases.get(command.case_id)
            if case is None:  # decided from the log's checked fold, never from the member-writable row
                loaded = await self._cases_from_log(conn, [command.case_id], batch.policies, lock=True)
                if not loaded:
                    raise NotFound(f"no case {command.case_id}")
                case, batch.facts[case.id], batch.row_versions[case.id] = loaded[command.case_id]
            if _stale(command, case):
                raise await self._conflict(conn, case, command.expect_version)
        recorded = self.clock()
        occurred = recorded if at is None else at
        if occurred > recorded:
            raise InvalidInput(f"--at {occurred.isoformat()} is in the future; only past times can be backfilled")
        if not isinstance(command, c.OnCase | c.NewCase | c.ImportTicket):
            await self._flush(conn, batch)  # a floor command (a handoff) may read the cases written so far
        if not batch.shift_read:
            batch.shift, batch.shift_read = await self._shift(conn), True
        mapped = await self._grantable(conn, command.login) if isinstance(command, c.GrantLogin) else {}
        handoff = await handoff_rows.facts_for(conn, command, actor, batch.roster, batch.policy, occurred,
                                               where=self.target.describe())
        ctx = Context(actor=actor, roster=batch.roster, policy=batch.policy, occurred_at=occurred,
                      recorded_at=recorded, shift_lead=batch.shift.lead if batch.shift else None, handoff=handoff,
                      logins=mapped)
        new_id = await self._next_case_id(conn, batch) if isinstance(command, c.OPENS_CASE) else None
        event = decide(command, case, ctx, new_case_id=new_id)
        if event.case_id is None:
            return await self._record_now(conn, batch, event)
        if case is not None and event.occurred_at < case.last_occurred_at:
            # A backfilled event lands inside the history: refold the case in history order.
            index = await self._record_now(conn, batch, event)
            history = in_history_order(await self._load_events(conn, case.id))
            batch.facts[case.id], new = metrics.fold_facts(history, batch.policies)
            batch.after[index] = new
        else:
            facts = None if case is None else batch.facts[case.id]
            batch.base_facts.setdefault(event.case_id, facts)
            batch.facts[event.case_id] = metrics.next_facts(facts, case, event, batch.policies)
            index, new = len(batch.events), apply(case, event)
            batch.base.setdefault(event.case_id, case)
            batch.events.append(event)
            batch.after.append(new)
        batch.row_versions.setdefault(event.case_id, None)  # (a new case: no row yet)
        batch.cases[event.case_id] = new
        batch.unwritten_cases[event.case_id] = index
        return index

    async def _grantable(self, conn: AsyncConnection, login: str) -> dict[str, str]:
        """A login may be mapped on a team database, to a login role the server has; returns the
        logins mapped so far."""
        if self.target.is_sqlite:
            raise InvalidInput("team mode needs PostgreSQL: an SQLite database keeps self-asserted identity (--as)")
        if self.team is None:
            raise InvalidInput(f"{self.target.describe()} is not a team database: an administrator runs "
                               "`casewatch team init` first")
        known = select(text("rolcanlogin")).select_from(text("pg_roles")).where(text("rolname = :login"))
        can_login = (await conn.execute(known, {"login": login})).scalar()
        if can_login is None:
            raise NotFound(f"the server has no login {login!r}: an administrator creates it first "
                           f"(CREATE ROLE {quote_role(login)} LOGIN PASSWORD '…')")
        if not can_login:
            raise InvalidInput(f"{login!r} is a role that cannot log in; map a login role")
        return {row.login: row.person for row in await conn.execute(select(logins))}

    async def _record_now(self, conn: AsyncConnection, batch: _Batch, event: Event) -> int:
        """Write what the batch holds, then `event` and its projection: for events whose effects
        later commands must read from the database (roster, policy, shift lead, case history)."""
        await self._flush(conn, batch)
        event = await self._append(conn, event)
        if event.case_id is None:  # a case's projection is written with the batch's
            await self._project(conn, event)
        batch.events.append(event)
        batch.after.append(None)
        batch.written = len(batch.events)
        if event.type in _ROSTER_EVENTS:  # the roster changed, and only the roster: read it again
            batch.roster = None
        elif event.case_id is None:  # the roster, the policy or the shift lead changed: read them again
            batch.roster, batch.policy, batch.policies, batch.shift_read = None, None, None, False
        return len(batch.events) - 1

    async def _flush(self, conn: AsyncConnection, batch: _Batch) -> None:
        """The batch's unwritten events in one INSERT (ids come back in order), then the final
        state of every case they touched: new rows in one INSERT, changed rows one version-checked
        UPDATE each (another writer may have moved them on)."""
        start = batch.written
        todo = batch.events[start:]
        if todo:
            stamped = False
            for index, decided in enumerate(await self._insert_events(conn, todo), start=start):
                event = batch.events[index]
                if len(decided) > 1:  # (SQLite decides only ids)
                    stamped |= any(value != getattr(event, name) for name, value in decided.items() if name != "id")
                batch.events[index] = convert.stored_event(event, decided)
            batch.written = len(batch.events)
            if stamped:  # the server named the author or the time (team mode): fold the batch's cases again
                states, facts = dict(batch.base), dict(batch.base_facts)
                policies = batch.policies or await self._policy_history(conn)
                for index in range(start, batch.written):
                    event = batch.events[index]
                    if event.case_id in states:
                        before = states[event.case_id]
                        facts[event.case_id] = metrics.next_facts(facts[event.case_id], before, event, policies)
                        states[event.case_id] = batch.after[index] = apply(before, event)
                batch.cases.update({case_id: case for case_id, case in states.items() if case is not None})
                batch.facts.update({case_id: found for case_id, found in facts.items() if found is not None})
        batch.base.clear()
        batch.base_facts.clear()
        if not batch.unwritten_cases:
            return
        policy = batch.policy or await self._load_policy(conn)  # (after a policy event: the new one)
        rows = {case_id: {"id": case_id, **convert.case_values(batch.cases[case_id], _stored_id(batch.events[index]),
                                                              policy), "facts": batch.facts[case_id].as_json()}
                for case_id, index in batch.unwritten_cases.items()}
        await self._unlink_strays(conn, list(rows.values()))
        new_rows = [values for case_id, values in rows.items() if batch.row_versions[case_id] is None]
        for case_id, values in rows.items():
            row_version = batch.row_versions[case_id]
            if row_version is not None and (await conn.execute(_UPDATE_CASE, {
                    "row_id": case_id, "row_version": row_version, **values})).rowcount != 1:
                raise _Race()
            batch.row_versions[case_id] = batch.cases[case_id].version
        if new_rows:
            # the log says each case is new: a row already under its id is a member's write, replaced
            put = upsert(conn, cases)
            await conn.execute(put.on_conflict_do_update(index_elements=[cases.c.id], set_={
                column.name: put.excluded[column.name] for column in cases.columns if column.name != "id"}), new_rows)
        batch.unwritten_cases.clear()

    async def _conflict(self, conn: AsyncConnection, case: Case | None, expected: int | None) -> Conflict:
        """The case moved on from the version the caller decided from: say what changed and who changed it."""
        if case is None or expected is None:
            return Conflict("the case no longer exists")
        newer = (await self._load_events(conn, case.id))[expected:]  # the version counts the case's events
        return Conflict(conflict_message(case, expected, newer))

    async def _append(self, conn: AsyncConnection, event: Event) -> Event:
        """Insert the event; the id, and in team mode its author and times, are the server's."""
        [stored] = await self._insert_events(conn, [event])
        return convert.stored_event(event, stored)

    async def _insert_events(self, conn: AsyncConnection, new: list[Event]) -> list[dict]:
        """Append rows to the log; in row order, what the database decided for each: its id and, on
        PostgreSQL (team mode), the server-stamped `actor`, `recorded_at` and (unless backfilled) `occurred_at`.
        A case event larger than the server takes is refused here, in one line."""
        for event in new:
            if (refused := convert.oversized(event)) is not None:
                raise refused
        if self.target.is_sqlite:
            return [{"id": row_id} for row_id in await sqlite_log.append_events(conn, new)]
        stored = (await conn.execute(_INSERT_EVENTS, [convert.event_values(event) for event in new])).all()
        return [{"id": row.id, "actor": row.actor, "occurred_at": row.occurred_at, "recorded_at": row.recorded_at}
                for row in stored]

    async def _project(self, conn: AsyncConnection, event: Event) -> None:
        """The projection of an event that is not about one case."""
        await FLOOR_PROJECTIONS[event.type](conn, event)

    async def _next_case_id(self, conn: AsyncConnection, batch: _Batch) -> str:
        """Case numbers are reserved a batch at a time, after the highest case id the log holds (the
        server refuses any beyond it): a member's counter row or a forged case id cannot stop them.
        The counter row is locked meanwhile, so case creators take turns instead of colliding, and
        keeps the last number drawn (what `db verify` compares)."""
        if not batch.case_ids:
            wanted = batch.new_cases
            locked = await conn.execute(update(counters).where(counters.c.name == "case")
                                        .values(value=counters.c.value).returning(counters.c.value))
            if locked.scalar() is None:
                await conn.execute(insert(counters).values(name="case", value=FIRST_CASE_NUMBER - 1))
            last = max(await _highest_case_number(conn), batch.last_number) + wanted
            if last > CASE_NUMBER_MAX:
                raise Unavailable(f"database {self.target.describe()} has no case number left (the highest is "
                                  f"CW-{last - wanted}); nothing was written: see `casewatch db audit`")
            await conn.execute(update(counters).where(counters.c.name == "case").values(value=last))
            batch.case_ids = [f"CW-{number}" for number in range(last - wanted + 1, last + 1)]
            batch.new_cases, batch.last_number = 1, last
        return batch.case_ids.pop(0)

    async def _unlink_strays(self, conn: AsyncConnection, rows: list[dict]) -> None:
        """Before writing these case rows: another row claiming one of their ticket links that the
        log does not link to it is a member's write, unlinked rather than a reason to refuse the
        write. (A link the log gives another case stays: the unique index refuses the new row, and
        the batch is planned again.)"""
        linked = [(row["source_name"], row["source_id"]) for row in rows if row.get("source_id") is not None]
        if not linked:
            return
        holders = (await self._floor(conn)).links
        claimed = await conn.execute(select(cases.c.id, cases.c.source_name, cases.c.source_id).where(
            tuple_(cases.c.source_name, cases.c.source_id).in_(linked)))
        stray = [row.id for row in claimed if holders.get(link_key(row.source_name, row.source_id)) != row.id]
        if stray:
            await conn.execute(update(cases).where(cases.c.id.in_(stray)).values(source_name=None, source_id=None))

    async def _cases_from_log(self, conn: AsyncConnection, case_ids: Sequence[str],
                              policies: PolicyHistory | None = None, *, lock: bool = False
                              ) -> dict[str, tuple[Case, metrics.CaseFacts, int | None]]:
        """The cases as the checked fold of the log makes them, their metric facts and the version
        their projection row holds (None: no row). `lock`: hold the rows until the transaction ends
        (PostgreSQL; SQLite's writers take turns), so writers to one case queue instead of colliding.
        The rows are only locked, never read as authority: a member may have written anything there."""
        if not case_ids:
            return {}
        rows = select(cases.c.id, cases.c.version).where(cases.c.id.in_(case_ids))
        versions = {row.id: row.version for row in await conn.execute(rows.with_for_update() if lock else rows)}
        policies = policies or await self._policy_history(conn)
        folded = await self._checks.fold(conn, case_ids, await self._floor(conn), policies)
        return {case_id: (case, facts, versions.get(case_id)) for case_id, (case, facts) in folded.items()}

    async def _read_linked(self, conn: AsyncConnection, source: str, ticket_ids: list[str], *, lock: bool = True,
                           loaded: dict[str, tuple[Case, metrics.CaseFacts, int | None]] | None = None
                           ) -> dict[str, Case]:
        """The cases linked to these tickets of `source`, by ticket id, as the log links them and the
        checked fold makes them (`cases.source_id` and `cases.state` are member-writable);
        `loaded` collects what was folded, for the batch."""
        linked = checked_log.linked_case_ids(await self._floor(conn), source, ticket_ids)
        folded = await self._cases_from_log(conn, sorted(set(linked.values())), lock=lock)
        if loaded is not None:
            loaded.update(folded)
        return {ticket_id: folded[case_id][0] for ticket_id, case_id in linked.items() if case_id in folded}

    # ------------------------------------------------------------------ reads

    async def _read_case(self, case_id: str) -> Case | None:
        async with self._reader.connect() as conn:
            found = await read_cases(conn, STATES.where(cases.c.id == case_id))
            return found[0] if found else None

    async def _floor(self, conn: AsyncConnection) -> CheckedFloor:
        """The checked fold of the events outside any case: the authority on who is on the roster
        with what role and which policy is in force (the `people` and `policies` tables are caches
        a member's raw SQL could change). Folded again only when a floor event came or went."""
        mark = tuple((await conn.execute(checked_log.FLOOR_MARK)).one())
        if self._floor_cache is None or self._floor_cache[0] != mark:
            self._floor_cache = (mark, await checked_log.floor(conn))
        return self._floor_cache[1]

    async def _shift(self, conn: AsyncConnection, at: datetime | None = None) -> Shift | None:
        checked = await self._floor(conn)
        return shift_at(checked.accepted, checked.roster, at)

    async def _load_roster(self, conn: AsyncConnection) -> dict[str, Person]:
        roster = (await self._floor(conn)).roster
        return {name: roster[name] for name in sorted(roster)}

    async def _load_policy(self, conn: AsyncConnection) -> Policy:
        applied = [e for e in (await self._floor(conn)).accepted if e.type is EventType.POLICY_APPLIED]
        if not applied:
            raise InvalidInput(f"{self.target.describe()} has no policy; run `casewatch db upgrade`")
        version = len(applied)
        if self._policy_cache is None or self._policy_cache.version != version:
            self._policy_cache = parse_policy(applied[-1].payload["toml"], f"policy v{version}", version=version)
        return self._policy_cache

    async def _policy_history(self, conn: AsyncConnection) -> PolicyHistory:
        """Read again only with a new checked floor: each write needs it, parsing every policy's TOML
        cost more than the write, and the kept metric facts go on only under the same history."""
        checked = await self._floor(conn)
        if self._history_cache is None or self._history_cache[0] is not checked:
            self._history_cache = (checked, await load_policy_history(conn, self.target.describe(), checked))
        return self._history_cache[1]


    @_reads
    async def verify(self) -> list[Difference]:
        """How the projections differ from a replay of the log (one consistent snapshot)."""
        async with self._reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ")
            return await verify_projections(conn, FLOOR_PROJECTIONS)

    async def rebuild(self) -> list[Difference]:
        """Repair the projection rows that differ from a replay of the log; returns what differed."""
        self._check_writable()
        try:
            async with self._writer.begin() as conn:
                await take_turns(conn)
                return await rebuild_projections(conn, FLOOR_PROJECTIONS)
        except Exception as exc:
            raise await self.failed(exc, writing=True) from None

    @_reads
    async def get_case(self, case_id: str) -> Case:
        case = await self._read_case(case_id.strip().upper())
        if case is None:
            raise NotFound(f"no case {case_id.strip().upper()}")
        return case

    @_reads
    async def case_id_named(self, typed: str) -> str:
        """The id of the case `typed` names: a case id, else the ticket linked to one, as people say
        it (`ZD-48213`, `SUP-42`) or by its bare id there, as the board's `:` and filter take them.
        NotFound when nothing matches; InvalidInput, naming them, when several cases do."""
        wanted = typed.strip()
        shown = wanted.upper()
        created = select(events.c.id).where(events.c.case_id == shown, events.c.type == EventType.CASE_CREATED.value)
        async with self._reader.connect() as conn:  # the log, not `cases.source_id`: members can move that
            exists = (await conn.execute(created.limit(1))).first() is not None
            links = (await self._floor(conn)).links
        prefix, _, number = wanted.rpartition("-")
        # its id there, or a source's name before a numeric ticket id (core.models.SourceLink.key)
        keyed = link_key(prefix, number) if prefix and number.isdigit() else None
        bare = link_key("", wanted)[1]
        if exists:
            return shown
        found = sorted({case_id for key, case_id in links.items() if key[1] == bare or key == keyed})
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound(f"no case {shown} (nor a case linked to a ticket of that key)")
        raise InvalidInput(f"{wanted!r} names the tickets of several cases: {', '.join(found)}; give the case id")

    @_reads
    async def open_cases(self) -> list[Case]:
        """Every open case, read in partitions so the raw rows are never all in memory at once."""
        async with self._reader.connect() as conn:
            return await read_cases(conn, STATES.where(cases.c.is_open.is_(True)))

    @_reads
    async def listed_cases(self, status: Status | None = None, *, every: bool = False,
                           newest: int | None = None) -> list[Case]:
        """The cases in `status`, or with `every` all of them, resolved ones included; else the open
        ones. `newest`: only that many, the most recently changed first."""
        query = STATES.where(_listed(status, every))
        if newest is not None:
            query = query.order_by(cases.c.updated_at.desc(), cases.c.id).limit(newest)
        async with self._reader.connect() as conn:
            return await read_cases(conn, query)

    @_reads
    async def listings(self, status: Status | None = None, *, every: bool = False) -> list[CaseListing]:
        """The cases `listed_cases` gives, as listings planned under the policy in force."""
        async with self._reader.connect() as conn:
            return await read_listings(conn, LISTED.where(_listed(status, every)), await self._load_policy(conn))

    @_reads
    async def has_cases(self) -> bool:
        async with self._reader.connect() as conn:
            return (await conn.execute(select(cases.c.id).limit(1))).first() is not None

    @_reads
    async def open_cases_as_of(self, at: datetime) -> tuple[list[Case], Policy]:
        """The cases open at `at` and the policy then in force, as a replay of the log up to `at`."""
        async with self._reader.connect() as conn:
            found = await as_of.open_cases_at(conn, at)
            return found, (await self._policy_history(conn)).at(at)

    @_reads
    async def open_listings_as_of(self, at: datetime) -> list[CaseListing]:
        """`open_cases_as_of` as listings planned under the policy then in force."""
        async with self._reader.connect() as conn:
            policy = (await self._policy_history(conn)).at(at)
            return await as_of.open_listings_at(conn, at, policy)

    @_reads
    async def roster(self) -> dict[str, Person]:
        async with self._reader.connect() as conn:
            return await self._load_roster(conn)

    # ---------------------------------------------------------- shifts, handoffs

    @_reads
    async def current_shift(self, as_of: datetime | None = None) -> Shift | None:
        """The shift being led now, or the one being led at `as_of`."""
        async with self._reader.connect() as conn:
            return await self._shift(conn, as_of)

    @_reads
    async def handoffs(self) -> list[Handoff]:
        """Every handoff, newest first."""
        async with self._reader.connect() as conn:
            return handoff_rows.load_handoffs(await self._floor(conn))

    @_reads
    async def handoff(self, handoff_id: int, as_of: datetime | None = None) -> Handoff:
        """A handoff as it stands, or as it stood at `as_of`."""
        async with self._reader.connect() as conn:
            found = handoff_rows.load_handoff(await self._floor(conn), handoff_id, as_of)
        if found is None:
            later = " by then" if as_of is not None else ""
            raise NotFound(f"no handoff {handoff_id}{later} (see `casewatch handoff list`)")
        return found

    @_reads
    async def lead_view(self) -> LeadView:
        """Who leads now and the handoff waiting, read together (what the board's header shows)."""
        async with self._reader.connect() as conn:
            return LeadView.of(await self._shift(conn), handoff_rows.pending_handoff(await self._floor(conn)))

    @_reads
    async def handoff_preview(self, actor: str, to: str | None, note: str = "",
                              case_notes: Mapping[str, str] | None = None, as_of: datetime | None = None) -> Packet:
        """The packet `actor` would hand to `to` right now, or would have at `as_of` (nothing is
        written). Without `to`, the incoming lead is left blank and shown in the actor's zone."""
        async with self._reader.connect() as conn:
            roster = await self._load_roster(conn)
            for name in (actor, to):
                if name is not None and name not in roster:
                    raise NotFound(f"no person named {name!r} on the roster (see `casewatch people list`)")
            me = roster[actor]
            incoming = roster[to] if to is not None else Person(name="", role=Role.LEAD, tz=me.tz)
            policy = await self._policy_at(conn, as_of)
            return await handoff_rows.preview(conn, policy, me, incoming, as_of or self.clock(), note, case_notes,
                                              replay=as_of is not None, where=self.target.describe())

    @_reads
    async def handoff_changes(self, handoff: Handoff, as_of: datetime | None = None) -> PacketDiff:
        """What moved on the floor since `handoff`'s packet was made (up to `as_of`)."""
        async with self._reader.connect() as conn:
            return await handoff_rows.changes_since(conn, handoff, as_of or self.clock(), replay=as_of is not None,
                                                    where=self.target.describe())

    async def _policy_at(self, conn: AsyncConnection, at: datetime | None) -> Policy:
        if at is None:
            return await self._load_policy(conn)
        return (await self._policy_history(conn)).at(at)

    @_reads
    async def policy(self) -> Policy:
        async with self._reader.connect() as conn:
            return await self._load_policy(conn)

    @_reads
    async def policy_history(self) -> PolicyHistory:
        """Which policy was in force when (breaches are judged under it; see core.breaches)."""
        async with self._reader.connect() as conn:
            return await self._policy_history(conn)

    @_reads
    async def case_events(self, case_id: str) -> list[Event]:
        async with self._reader.connect() as conn:
            return await self._load_events(conn, case_id)

    @_reads
    async def metrics(self, windows: Sequence[tuple[datetime | None, datetime | None]],
                      as_of: datetime) -> list[metrics.Report]:
        """The metrics of each [since, until) window as of `as_of`, each breach judged under the policy
        in force when it happened (as `case show` lists them).
        A case nothing happened to after `as_of` is counted from the facts kept beside its row
        (a closed one as they are; an open one's customer-update clock read at `as_of`); the
        others, and rows without facts, by replaying their histories, one case at a time."""
        floor = await self.floor_events()
        policies = PolicyHistory.from_log(floor)
        if policies is None:
            raise InvalidInput(f"{self.target.describe()} has no policy; run `casewatch db upgrade`")
        leads = metrics.ShiftLeads(floor)
        reports = [metrics.Report(since=since, until=until, as_of=as_of, leads=leads) for since, until in windows]

        def count(facts: metrics.CaseFacts) -> None:
            for report in reports:
                report.add(facts)

        starts, ends = [since for since, _ in windows], [until for _, until in windows]
        lowest = None if None in starts else min(s for s in starts if s is not None)
        highest = min(as_of, max(e for e in ends if e is not None)) if None not in ends else as_of
        chosen = cases.c.escalated_at <= highest
        if lowest is not None:
            chosen &= cases.c.escalated_at >= lowest
        later = select(events.c.case_id).where(events.c.occurred_at > as_of, events.c.case_id.is_not(None))
        kept = chosen & cases.c.facts.is_not(None) & cases.c.id.not_in(later)
        tampered: list[str] = []  # rows that are no fold of their case: replayed like the rest
        async with self._reader.connect() as conn:
            async for partition in (await conn.stream(
                    select(cases.c.id, _FACTS).where(kept & cases.c.is_open.is_(False)))).partitions(5000):
                for case_id, text in partition:
                    found = _stored_facts(case_id, text)
                    if found is None:
                        tampered.append(case_id)
                    else:
                        count(found)
            async for partition in (await conn.stream(select(cases.c.id, cases.c.version, _FACTS, convert.CASE_STATE)
                                                      .where(kept & cases.c.is_open.is_(True)))).partitions(500):
                for case_id, version, text, state in partition:
                    found = _stored_facts(case_id, text)
                    case = None if found is None else stored_case(case_id, version, state)
                    if found is None or case is None:
                        tampered.append(case_id)
                    else:
                        count(metrics.facts_as_of(found, case, policies, as_of))
        replayed = select(cases.c.id).where(chosen & ~(cases.c.facts.is_not(None) & cases.c.id.not_in(later)))
        batches: list[Select | list[str]] = [replayed]
        batches += [tampered[start:start + CHUNK] for start in range(0, len(tampered), CHUNK)]
        for chosen_ids in batches:
            async for history in self.case_histories(chosen_ids):
                facts = metrics.case_facts(history, policies, as_of)
                if facts is not None:
                    count(facts)
        return reports

    @_streams
    async def case_histories(self, chosen: Select | list[str] | None = None) -> AsyncIterator[list[Event]]:
        """Each case's events that count (history order), one case at a time, streamed from the
        log: never every event at once. `chosen`, a query or list of case ids, keeps only those cases."""
        query = convert.LOGGED.where(events.c.case_id.is_not(None)).order_by(events.c.case_id, events.c.id)
        if chosen is not None:
            query = query.where(events.c.case_id.in_(chosen))
        async with self._reader.connect() as conn:
            async for history in checked_log.histories(conn, await self._floor(conn), query):
                yield history

    @_reads
    async def floor_events(self) -> list[Event]:
        """The events outside any case (roster, policy, shifts, handoffs) that count."""
        async with self._reader.connect() as conn:
            return list((await self._floor(conn)).accepted)

    @_reads
    async def audit(self) -> list[Quarantined]:
        """Every event of the log the checked fold quarantined, in log order (`casewatch db audit`)."""
        async with self._reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ")
            return await checked_log.audit(conn)

    @_reads
    async def audit_since(self, mark: checked_log.AuditMark | None) -> checked_log.AuditMark:
        """The quarantined counts, checking only what the log gained after `mark` (the board's count)."""
        async with self._reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="REPEATABLE READ")
            return await checked_log.audit_since(conn, mark)

    async def _load_events(self, conn: AsyncConnection, case_id: str) -> list[Event]:
        """The case's events that count, in log order (the quarantined ones are left out)."""
        return (await checked_log.case_events(conn, case_id, await self._floor(conn)))[0]

    @_reads
    async def all_events(self) -> list[Event]:
        """The raw log, every event as recorded (export); readers that fold go through checked_log."""
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
            return Changes(
                high_water=high,
                cases=await read_cases(conn, STATES.where(cases.c.last_event_id > mark)),
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
        """The named cases as stored now, open or not; ids with no row are left out. Read a bounded
        number at a time: a board may be told of tens of thousands (a member's NOTIFY)."""
        if not ids:
            return []
        async with self._reader.connect() as conn:
            return await cases_named(conn, sorted(ids))


_FACTS = cast(cases.c.facts, Text).label("facts")  # decoded row by row: see `_stored_facts`


def _stored_facts(case_id: str, text: str | None) -> metrics.CaseFacts | None:
    """The metric facts kept on a case's row; None when they are no facts of that case (a member's write)."""
    try:
        return metrics.CaseFacts.from_json(convert.decoded(text), case_id)
    except STORED_UNREADABLE:
        return None


_FLOOR_TURN = {mode: text(f"SELECT pg_advisory_xact_lock{mode}(hashtext('casewatch floor'))")
               for mode in ("", "_shared")}


async def _take_floor_turn(conn: AsyncConnection, items: list[BatchItem] | _Linked) -> None:
    """On PostgreSQL, before the roster is read: the floor lock the server's trigger takes (migration
    0020), shared (exclusive for a floor command), so that no roster change commits between what
    this transaction decides from and its commit (the server would refuse the commit: 40001)."""
    if conn.dialect.name != "postgresql":
        return
    floor = isinstance(items, list) and any(
        not callable(command) and not isinstance(command, (c.OnCase, *c.OPENS_CASE)) for command, _, _ in items)
    await conn.execute(_FLOOR_TURN["" if floor else "_shared"])


def _listed(status: Status | None, every: bool) -> ColumnElement[bool]:
    """The cases in `status`; with none, every case (`every`) or the open ones."""
    if status is not None:
        return cases.c.status == status.value
    return true() if every else cases.c.is_open.is_(True)


def _stale(command: c.OnCase, case: Case) -> bool:
    """The caller decided `command` from an older version, and it depends on what changed since."""
    return command.depends_on_state and command.expect_version is not None and case.version != command.expect_version


def _roster_mark():
    return func.coalesce(func.sum(people.c.version), 0).cast(Integer)


async def _highest_case_number(conn: AsyncConnection) -> int:
    """The highest number of a case id the log created that the checked fold accepts (by an index:
    longest id first), else the number before the first case."""
    query = (select(events.c.case_id).where(events.c.type == EventType.CASE_CREATED.value)
             .order_by(func.length(events.c.case_id).desc(), events.c.case_id.desc()))
    async for partition in (await conn.stream(query)).partitions(50):
        for (case_id,) in partition:
            if case_id is not None and CASE_ID.fullmatch(case_id) and int(case_id[3:]) <= CASE_NUMBER_MAX:
                return int(case_id[3:])
    return FIRST_CASE_NUMBER - 1


async def _project_person(conn: AsyncConnection, event: Event) -> None:
    person = added_person(event.payload)
    values = {"role": person.role.value, "tz": person.tz, "team": person.team,
              "display_name": person.display_name, "last_event_id": event.id}
    changed = await conn.execute(
        update(people).where(people.c.name == person.name).values(version=people.c.version + 1, **values))
    if changed.rowcount == 0:
        await conn.execute(insert(people).values(name=person.name, version=1, **values))


async def _project_rename(conn: AsyncConnection, event: Event) -> None:
    """The person keeps role, zone and team. Names recorded in past events, on cases and on shifts
    stay as they were written. (Team-mode logins follow the name: the server's trigger moves them.)"""
    before, after = event.payload["before"], event.payload["after"]
    await conn.execute(update(people).where(people.c.name == before).values(
        name=after, version=people.c.version + 1, last_event_id=_stored_id(event)))


async def _projected_by_the_server(conn: AsyncConnection, event: Event) -> None:
    """`logins` is written by PostgreSQL's own trigger (migration 0006): members may only read it."""


async def _project_policy(conn: AsyncConnection, event: Event) -> None:
    """The policies row, and the open cases' listings planned under the new policy."""
    version = ((await conn.execute(select(func.max(policies.c.version)))).scalar() or 0) + 1
    await conn.execute(insert(policies).values(
        version=version, toml=event.payload["toml"], applied_at=event.occurred_at,
        applied_by=event.actor, event_id=event.id))
    await plan_open_listings(conn, parse_policy(event.payload["toml"], f"policy v{version}", version=version))


FLOOR_PROJECTIONS: dict[EventType, Callable[[AsyncConnection, Event], Awaitable[None]]] = {
    EventType.PERSON_ADDED: _project_person,
    EventType.PERSON_RENAMED: _project_rename,
    EventType.POLICY_APPLIED: _project_policy,
    EventType.LOGIN_GRANTED: _projected_by_the_server,
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
