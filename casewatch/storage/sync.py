"""A tracker sync's writes: each page's cases and the cursor after it in one transaction (a sync
killed anywhere resumes exactly where its last page committed), and the source's state beside the
log (last success, or the failure and since when) for the board's status line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.models import Case, EventType, Person
from casewatch.core.sync import Page, SourceState, SyncReport, plan_synced
from casewatch.core.ticket_import import TicketPlan
from casewatch.core.tracker import Refusal, Source
from casewatch.storage.schema import cases, source_states
from casewatch.storage.store import BatchItem, Step, Store


async def source_states_now(store: Store) -> dict[str, SourceState]:
    rows = await store.read_rows(select(source_states))
    return {row.name: SourceState(row.name, row.cursor, row.last_success, row.failure, row.failing_since)
            for row in rows}


async def linked_open_ids(store: Store, name: str) -> list[str]:
    """The ticket ids of the source's open linked cases."""
    rows = await store.read_rows(select(cases.c.source_id).where(cases.c.source_name == name, cases.c.is_open)
                                 .order_by(cases.c.source_id))
    return [row.source_id for row in rows]


def _save(name: str, values: Mapping[str, object]) -> Step:
    async def step(conn: AsyncConnection) -> None:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(source_states)
        await conn.execute(insert.values(name=name, **values).on_conflict_do_update(
            index_elements=[source_states.c.name], set_=dict(values)))
    return step


async def save_success(store: Store, name: str, at: datetime) -> None:
    await store.write_rows(_save(name, {"last_success": at, "failure": None, "failing_since": None}))


async def save_failure(store: Store, name: str, reason: str, at: datetime, since: datetime | None) -> None:
    """The failure (a short reason, never a secret) and when the failing started (kept across passes)."""
    await store.write_rows(_save(name, {"failure": reason[:300], "failing_since": since or at}))


async def plan_page(store: Store, source: Source, page: Page, roster: dict[str, Person], report: SyncReport) -> None:
    """A dry run's page: counted, nothing written."""
    tickets = page.latest()
    found = await store.linked_cases(source.name, [s.ticket.id for s in tickets])
    now = store.clock()
    for synced in tickets:
        plan = plan_synced(synced, found.get(synced.ticket.id), source, roster, now)
        if plan is not None:
            report.count(plan)


async def write_page(store: Store, source: Source, page: Page, actor: str, roster: dict[str, Person],
                     report: SyncReport) -> None:
    """The page's cases and its cursor, all or nothing, as `actor` (each event marked `via` the source)."""
    decided: list[TicketPlan | Refusal] = []
    tickets = page.latest()

    def plan(found: dict[str, Case]) -> list[BatchItem]:
        """Run inside the transaction, again on each retry: only the last attempt's plans count."""
        decided.clear()
        items: list[BatchItem] = []
        now = store.clock()
        for synced in tickets:
            outcome = plan_synced(synced, found.get(synced.ticket.id), source, roster, now)
            if outcome is None:
                continue
            decided.append(outcome)
            if not isinstance(outcome, Refusal):
                items.extend((command, actor, at) for command, at in outcome.commands)
        return items

    outcomes = await store.execute_linked(source.name, [s.ticket.id for s in tickets], plan,
                                          then=_save(source.name, {"cursor": page.cursor}))
    for outcome in decided:
        report.count(outcome)
    report.created_ids.extend(o.event.case_id for o in outcomes
                              if o.event.type is EventType.CASE_CREATED and o.event.case_id)
