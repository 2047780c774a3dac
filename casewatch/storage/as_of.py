"""The floor as a replay of the log up to an instant: what `--as-of` shows (cases, handoff previews,
the board replay). Only cases with events after the instant are folded again; the others stand as
their projection rows say, since a row is the fold of the case's whole log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.models import Case
from casewatch.core.projection import apply
from casewatch.storage import convert
from casewatch.storage.schema import cases, events


async def open_cases_at(conn: AsyncConnection, at: datetime) -> list[Case]:
    """The cases open at `at`, as a replay of the log up to `at` would give them, chosen and ordered
    in SQL and folded row by row (never the whole log at once)."""
    later = select(events.c.case_id).where(events.c.occurred_at > at, events.c.case_id.is_not(None)).distinct()
    found: list[Case] = []
    result = await conn.stream(select(convert.CASE_STATE).where(cases.c.is_open.is_(True), cases.c.id.not_in(later)))
    async for partition in result.partitions(500):
        found.extend(convert.case_from_state(row.state) for row in partition)
    result = await conn.stream(
        select(events).where(events.c.case_id.in_(later), events.c.occurred_at <= at)
        .order_by(events.c.case_id, events.c.occurred_at, events.c.id))  # history order per case
    case: Case | None = None
    async for partition in result.partitions(500):
        for row in partition:
            if case is not None and case.id != row.case_id:
                found.extend([case] if case.is_open else [])
                case = None
            case = apply(case, convert.event_from_trusted_row(row))
    found.extend([case] if case is not None and case.is_open else [])
    return found
