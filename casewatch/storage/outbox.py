"""Write-back's rows: deliveries queued in the transaction of their event, claimed by a sender,
and each send's outcome.

- Queued with the event: the store calls `queue` inside the batch that writes it, so an update the
  board shows is never lost and none is queued that was not recorded.
- An owner (`owner_assigned`) is queued like an update; only the case's latest owner is ever sent
  (the sender skips an older one), and setting an assignee is harmless to repeat: no marker.
- A pass ends: it takes the ids due as it starts (`due_now`) and offers each to `claim` once, so a
  row queued, or set back to queued by a member, while it runs waits for the next pass.
- Claimed with a lease: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two senders never take one row;
  on SQLite the writers take turns. The lease (`claimed_until`) keeps others off while one sends,
  and only a lease a sender could have taken does: one ending further ahead than now + `LEASE`
  (with `SKEW` for the senders' clocks), infinite or unreadable is no claim, and the row is free.
  A wait (`next_try_at`) longer than the longest back-off is likewise no wait: the row is due.
- Every send is counted before it starts (`attempts`, committed): a sender killed mid-send leaves
  an item whose outcome is unknown, and the next sender looks for its marker on the ticket first.
- Trusted by nobody: in team mode members can write these rows, so `trusted_body` checks a row
  against the checked fold of the log (its event counts, is of its kind, on the case linked to its
  ticket) and the body sent is rendered from that event, never read from the row.
- Missing rows are found from the log: `restore_missing` (`deliver --check`, and each pass of
  `sync --follow` for what was logged since it started) queues again every counted event of the
  window the sender's config writes back that has no row (a member deleted it, pointed it at
  another event, or moved it to a source this sender never sends).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Row, String, and_, func, insert, literal, not_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core import write_back as wb
from casewatch.core.models import Case, Event, EventType
from casewatch.core.tracker import LIVE
from casewatch.storage.schema import events, outbox
from casewatch.storage.upsert import upsert

if TYPE_CHECKING:
    from casewatch.storage.store import Store

LEASE = timedelta(minutes=5)  # how long a claim keeps other senders off (a killed sender's claim lapses)
SKEW = timedelta(minutes=1)  # how far senders' clocks may differ: a lease ending later than now + LEASE + SKEW is none
CLAIM_AT_ONCE = 50
WriteBackRules = Mapping[str, wb.WriteBack]  # source name -> its write_back table


async def queue(conn: AsyncConnection, written: Iterable[tuple[Event, Case | None]], rules: WriteBackRules,
                now: datetime) -> None:
    """Inside the event's transaction: a queued delivery for each written update (note, owner) of a
    linked case whose source writes that kind back."""
    rows = []
    for event, case in written:
        kind = wb.kind_of(event)
        link = case.source if case is not None else None
        if kind is None or link is None or link.kind not in LIVE or event.id is None:
            continue
        rule = rules.get(link.name)
        if rule is None or not rule.wants(kind):
            continue
        rows.append({"case_id": event.case_id, "event_id": event.id, "source": link.name, "ticket": link.id,
                     "kind": kind, "body": wb.body(event), "marker": wb.marker(event), "state": wb.QUEUED,
                     "attempts": 0, "next_try_at": now, "alerted": False})
    if rows:
        await conn.execute(insert(outbox), rows)


@dataclass(frozen=True)
class Claimed:
    """A row a sender holds (under `token`) until its lease ends."""

    id: int
    case_id: str
    event_id: int
    source: str
    ticket: str
    kind: str
    body: str
    marker: str
    attempts: int
    token: str


def _host() -> str:
    return socket.gethostname()[:30]


def _lapsed(claimed_by: str | None) -> bool:
    """A claim held by a process of this machine that is gone (a sender killed mid-pass): its
    lease need not run out before another sender takes the row."""
    host, _, rest = (claimed_by or "").rpartition("@")
    pid = rest.partition(":")[0]
    if host != _host() or not (pid.isascii() and pid.isdigit()) or len(pid) > 10:  # members may write it
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False
    return False


def _plausible(column, now: datetime, longest: timedelta, dialect: str):
    """SQL: `column` (a time members may write) ends between now and now + `longest` (+ `SKEW`), and
    is a time at all: PostgreSQL's `infinity` is later than any bound, and SQLite text that is no
    time (which `datetime()` reads as NULL) is none."""
    within = column.between(now, now + longest + SKEW)
    return and_(within, func.datetime(column).is_not(None)) if dialect == "sqlite" else within


def _due(now: datetime, sources: Iterable[str], dialect: str):
    """Queued or failed, and its wait over: `next_try_at` passed, or later than the longest
    back-off allows (a member's `infinity` waits for nothing)."""
    column = outbox.c.next_try_at
    waiting = and_(column > now, _plausible(column, now, wb.LONGEST_WAIT, dialect))
    return and_(outbox.c.state.in_((wb.QUEUED, wb.FAILED)), not_(waiting), outbox.c.source.in_(sorted(sources)))


def _held(now: datetime, dialect: str):
    """SQL: a lease a sender could hold now (see `_plausible`); any other value of `claimed_until`,
    NULL included, leaves the row free."""
    return and_(outbox.c.claimed_until.is_not(None),
                _plausible(outbox.c.claimed_until, now, LEASE, dialect))


def held_plausibly(claimed_until: datetime | None, claimed_by: str | None, now: datetime) -> bool:
    """The same in Python, for a row as read (an unreadable time reads as None): whether a claim
    on it still keeps the next sender off."""
    return claimed_by is not None and claimed_until is not None and now <= claimed_until <= now + LEASE + SKEW


def _dialect(store: Store) -> str:
    return store.target.url.get_backend_name()


async def due_now(store: Store, sources: Iterable[str]) -> list[int]:
    """The ids of the rows due as a pass starts, oldest first: the pass offers each to `claim` once."""
    query = select(outbox.c.id).where(_due(store.clock(), list(sources), _dialect(store))).order_by(outbox.c.id)
    return [row.id for row in await store.read_rows(query)]


async def claim(store: Store, sources: Iterable[str], limit: int = CLAIM_AT_ONCE,
                among: Sequence[int] | None = None) -> list[Claimed]:
    """Up to `limit` due rows of these sources (of the ids `among`, when given), leased to a new
    token, oldest first. A row claimed by a live sender stays its own until the lease ends."""
    token, now, names = f"{_host()}@{os.getpid()}:{uuid.uuid4().hex[:16]}", store.clock(), list(sources)
    found: list[Claimed] = []

    async def step(conn: AsyncConnection) -> None:
        dialect = conn.dialect.name
        chosen = _due(now, names, dialect)
        if among is not None:
            chosen = and_(chosen, outbox.c.id.in_(list(among)))
        held = _held(now, dialect)  # a lease a sender could hold: anything else (infinity, junk) is none
        ours = and_(held, outbox.c.claimed_by.startswith(f"{_host()}@", autoescape=True))
        rows: list[Row] = []
        for free, which, extra in ((True, not_(held), limit), (False, ours, None)):  # then killed senders' here
            query = select(outbox).where(chosen, which).order_by(outbox.c.id).limit(extra)
            if dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows += [row for row in await conn.execute(query)
                     if free or _lapsed(row.claimed_by)][:limit - len(rows)]
        found.clear()
        if not rows:
            return
        await conn.execute(update(outbox).where(outbox.c.id.in_([row.id for row in rows]))
                           .values(claimed_until=now + LEASE, claimed_by=token))
        found.extend(Claimed(row.id, row.case_id, row.event_id, row.source, row.ticket, row.kind, row.body,
                             row.marker, row.attempts, token) for row in rows)

    await store.write_rows(step)
    return found


async def start_send(store: Store, item: Claimed) -> int | None:
    """Count one more send of `item`, committed before it goes out; the attempts before it, or None
    when the lease was lost (another sender holds the row now)."""
    before: list[int] = []

    async def step(conn: AsyncConnection) -> None:
        row = (await conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.claimed_by == item.token)
                                  .values(attempts=outbox.c.attempts + 1, claimed_until=store.clock() + LEASE)
                                  .returning(outbox.c.attempts))).first()
        before[:] = [] if row is None else [row.attempts - 1]

    await store.write_rows(step)
    return before[0] if before else None


async def record_sent(store: Store, item: Claimed, comment_id: str | None, note: str | None = None) -> None:
    """Sent, with the tracker's comment id; `note`: what did not follow (the ticket's status)."""
    await _finish(store, item, state=wb.SENT, comment_id=comment_id, sent_at=store.clock(),
                  last_error=note[:300] if note else None)


async def record_failure(store: Store, item: Claimed, state: str, reason: str, next_try_at: datetime) -> None:
    """A failed or dead item, its reason one line (the client's, scrubbed of the token)."""
    await _finish(store, item, state=state, last_error=reason[:300], next_try_at=next_try_at)


async def record_skipped(store: Store, item: Claimed, reason: str) -> None:
    """Never sent, and nothing wrong: a later owner replaced it."""
    await _finish(store, item, state=wb.SKIPPED, last_error=reason[:300])


async def release(store: Store, item: Claimed) -> None:
    """Give the row back untouched (the pass stopped before sending it)."""
    await _finish(store, item)


async def _finish(store: Store, item: Claimed, **values: object) -> None:
    async def step(conn: AsyncConnection) -> None:
        await conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.claimed_by == item.token)
                           .values(claimed_until=None, claimed_by=None, **values))

    await store.write_rows(step)


async def retry_case(store: Store, case_id: str) -> int:
    """`deliver --retry CASE`: the case's failed and dead items due again now; how many."""
    changed: list[int] = []

    async def step(conn: AsyncConnection) -> None:
        result = await conn.execute(update(outbox).where(outbox.c.case_id == case_id,
                                                         outbox.c.state.in_((wb.FAILED, wb.DEAD)))
                                    .values(state=wb.FAILED, next_try_at=store.clock(), alerted=False))
        changed[:] = [result.rowcount]

    await store.write_rows(step)
    return changed[0]


async def sent_since(store: Store, since: datetime) -> list[Claimed]:
    """The updates and notes marked sent whose event the log recorded since `since` (the server's
    time, which members cannot write; `sent_at` they can), oldest first: what `deliver --check`
    looks for on the tickets. Held by no sender (`token` empty)."""
    query = (select(outbox).join(events, events.c.id == outbox.c.event_id)
             .where(outbox.c.state == wb.SENT, outbox.c.kind.in_((wb.UPDATE, wb.NOTE)), events.c.recorded_at >= since)
             .order_by(outbox.c.id))
    return [Claimed(row.id, row.case_id, row.event_id, row.source, row.ticket, row.kind, row.body, row.marker,
                    row.attempts, token="") for row in await store.read_rows(query)]


async def requeue(store: Store, item: Claimed, reason: str) -> bool:
    """A row marked sent whose delivery is not on its ticket: failed and due now, so the board flags
    and alerts it and the next pass sends it. False when it is no longer marked sent."""
    changed: list[int] = []

    async def step(conn: AsyncConnection) -> None:
        result = await conn.execute(update(outbox).where(outbox.c.id == item.id, outbox.c.state == wb.SENT)
                                    .values(state=wb.FAILED, next_try_at=store.clock(), comment_id=None, sent_at=None,
                                            last_error=reason[:300], alerted=False, claimed_until=None,
                                            claimed_by=None))
        changed[:] = [result.rowcount]

    await store.write_rows(step)
    return bool(changed[0])


async def refuse_forged(store: Store, item: Claimed, reason: str) -> None:
    """A row marked sent that does not match the log: not delivered, for good."""
    async def step(conn: AsyncConnection) -> None:
        await conn.execute(update(outbox).where(outbox.c.id == item.id)
                           .values(state=wb.DEAD, last_error=reason[:300], claimed_until=None, claimed_by=None))

    await store.write_rows(step)


MISSING = "missing from the outbox (deleted, or moved off its event, source, kind or state): queued again"


async def restore_missing(store: Store, rules: WriteBackRules, since: datetime) -> list[Claimed]:
    """`deliver --check`, from the log: every event recorded since `since` that counts in the checked
    fold and that `rules` (the sender's config) write back (its kind wanted by the source its case's
    logged link names) must have its row. One without (a member deleted it or pointed it at another
    event), or whose row names another source or kind, or sits in a state no sender moves on from
    (`skipped` for an update, a made-up one), is queued again:
    failed and due now, so the board flags it and the pass sends it; the sender's marker search
    makes that safe for one already on its ticket. The rows queued again (token empty)."""
    logged = events.alias("logged")
    chosen = (select(logged.c.case_id).where(logged.c.recorded_at >= since, logged.c.case_id.is_not(None),
                                             logged.c.type.in_([kind.value for kind in wb.KINDS]))
              .distinct().correlate(None))
    wanted: dict[int, dict] = {}
    async for history in store.case_histories(chosen):
        created = next((e for e in history if e.type is EventType.CASE_CREATED), None)
        link = created.payload.get("source") if created is not None else None
        name = link.get("name") if isinstance(link, dict) else None
        rule = rules.get(name) if isinstance(name, str) else None
        if rule is None or not isinstance(link, dict) or link.get("id") is None:
            continue
        for event in history:
            kind = wb.kind_of(event)
            if kind is None or event.id is None or event.recorded_at < since or not rule.wants(kind):
                continue
            wanted[event.id] = {"case_id": event.case_id, "event_id": event.id, "source": name,
                                "ticket": str(link["id"]), "kind": kind, "body": wb.body(event),
                                "marker": wb.marker(event)}
    if not wanted:
        return []
    present: dict[int, tuple[str, str, str]] = {}  # event id -> the row's source, kind and state
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        query = (select(outbox.c.event_id, outbox.c.source, outbox.c.kind, outbox.c.state)
                 .where(outbox.c.event_id.in_(ids[start:start + 500])))
        present |= {row.event_id: (row.source, row.kind, row.state) for row in await store.read_rows(query)}

    def kept(row: dict) -> bool:
        """Its row is there, for this source and kind, in a state a sender or the check moves on from."""
        found = present.get(row["event_id"])
        states = (wb.QUEUED, wb.SENT, wb.FAILED, wb.DEAD) + ((wb.SKIPPED,) if row["kind"] == wb.OWNER else ())
        return found is not None and found[:2] == (row["source"], row["kind"]) and found[2] in states

    lost = [wanted[event_id] for event_id in ids if not kept(wanted[event_id])]
    if not lost:
        return []
    now, restored = store.clock(), list[dict]()
    again = {"state": wb.FAILED, "attempts": 0, "next_try_at": now, "alerted": False, "last_error": MISSING,
             "claimed_until": None, "claimed_by": None, "comment_id": None, "sent_at": None}

    async def step(conn: AsyncConnection) -> None:
        restored.clear()
        put = upsert(conn, outbox)
        for row in lost:
            if row["event_id"] in present:  # moved to another source or kind, or hidden in a state: its own again
                source, kind, state = present[row["event_id"]]
                result = await conn.execute(update(outbox).where(outbox.c.event_id == row["event_id"],
                                                                 outbox.c.source == source, outbox.c.kind == kind,
                                                                 outbox.c.state == state)
                                            .values(**row, **again))
            else:
                result = await conn.execute(put.values(**row, **again).on_conflict_do_nothing())
            if result.rowcount:
                restored.append(row)

    await store.write_rows(step)
    return [Claimed(0, row["case_id"], row["event_id"], row["source"], row["ticket"], row["kind"], row["body"],
                    row["marker"], 0, token="") for row in restored]


@dataclass(frozen=True)
class Trusted:
    """What the log says of an item: the body to send, whether the case then waited on the
    customer (the ticket's status may follow); for an owner, whom it names and the later owner
    event that replaced it, if any (then it is never sent)."""

    body: str
    waiting: bool
    owner: str | None = None
    superseded_by: int | None = None


async def trusted_body(store: Store, item: Claimed) -> Trusted | None:
    """The body to send for `item`, rendered from its event as the checked fold accepts it; None
    when the row does not match the log (forged, or its event quarantined)."""
    events = await store.case_events(item.case_id)
    event = next((e for e in events if e.id == item.event_id), None)
    created = next((e for e in events if e.type is EventType.CASE_CREATED), None)
    link = created.payload.get("source") if created is not None else None
    if event is None or not isinstance(link, dict) or wb.kind_of(event) != item.kind:
        return None
    if (link.get("name"), str(link.get("id"))) != (item.source, item.ticket):
        return None
    text = wb.body(event)
    if (text, wb.marker(event)) != (item.body, item.marker):
        return None
    if item.kind == wb.OWNER:
        later = wb.later_owner(events, event.id or 0)
        return Trusted(text, False, wb.owner_of(event), later.id if later is not None else None)
    return Trusted(text, wb.waiting_at(events, event.id or 0))


def _delivery(row, now: datetime | None = None) -> wb.Delivery:
    stuck = now is not None and row.state in (wb.QUEUED, wb.FAILED) and (
        (row.claimed_by is not None and not held_plausibly(row.claimed_until, row.claimed_by, now))
        or row.next_try_at is None or row.next_try_at > now + wb.LONGEST_WAIT + SKEW)
    return wb.Delivery(event_id=row.event_id, source=row.source, ticket=row.ticket, kind=row.kind, state=row.state,
                       attempts=row.attempts, last_error=row.last_error, comment_id=row.comment_id,
                       sent_at=row.sent_at, alerted=row.alerted, due=stuck)


async def deliveries(store: Store, case_id: str) -> dict[int, wb.Delivery]:
    """The case's deliveries by event id (the case screen and `case show`). One held by a claim or
    a wait no sender makes (an infinite lease, say) reads as due: the next pass takes it."""
    rows = await store.read_rows(select(outbox).where(outbox.c.case_id == case_id))
    now = store.clock()
    return {row.event_id: _delivery(row, now) for row in rows}


async def undelivered(store: Store, case_ids: Iterable[str] | None = None) -> dict[str, list[wb.Delivery]]:
    """The failed and dead deliveries, by case (the board's flag)."""
    query = select(outbox).where(outbox.c.state.in_((wb.FAILED, wb.DEAD)))
    if case_ids is not None:
        query = query.where(outbox.c.case_id.in_(sorted(case_ids)))
    found: dict[str, list[wb.Delivery]] = {}
    for row in await store.read_rows(query.order_by(outbox.c.id)):
        found.setdefault(row.case_id, []).append(_delivery(row))
    return found


_HIGH = select(literal("", String).label("state"),  # max() as a subquery: SQLite reads it off the index
               func.coalesce(select(func.max(events.c.id)).scalar_subquery(), 0), literal(0))
_MOVING = (select(outbox.c.state, func.count(), func.coalesce(func.sum(outbox.c.attempts), 0))
           .where(outbox.c.state.in_((wb.QUEUED, wb.FAILED, wb.DEAD))).group_by(outbox.c.state))


async def poll_marks(store: Store) -> tuple[int, tuple]:
    """What a SQLite board polls every second, in one read: the log's highest event id, and the
    deliveries not yet sent counted by state with their attempts (it changes whenever one is
    queued, tried, sent, fails, is refused or retried, which writes no event; see storage.feed)."""
    high, *moving = await store.read_rows(union_all(_HIGH, _MOVING).order_by("state"))
    return int(high[1]), tuple(tuple(row) for row in moving)


async def mark_alerted(store: Store, event_ids: Iterable[int]) -> None:
    """These failed deliveries (by event id) have been alerted: no other board alerts them again."""
    ids = sorted(event_ids)

    async def step(conn: AsyncConnection) -> None:
        await conn.execute(update(outbox).where(outbox.c.event_id.in_(ids)).values(alerted=True))

    if ids:
        await store.write_rows(step)

