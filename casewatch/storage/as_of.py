"""The floor as a replay of the log up to an instant: what `--as-of` shows (cases, handoff previews,
the board replay). Only cases with events after the instant are folded again; the others stand as
their projection rows say, since a row is the fold of the case's whole log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.listing import CaseListing, list_case
from casewatch.core.models import Case
from casewatch.core.policy import Policy
from casewatch.core.projection import replay_cases
from casewatch.storage import checked_log, convert
from casewatch.storage.case_rows import STATES, read_cases
from casewatch.storage.listings import LISTED, read_listings
from casewatch.storage.schema import cases, events


async def open_cases_at(conn: AsyncConnection, at: datetime) -> list[Case]:
    """The cases open at `at`, as a replay of the log up to `at` would give them, chosen and ordered
    in SQL and folded row by row (never the whole log at once)."""
    later = _changed_after(at)
    found = await read_cases(conn, STATES.where(cases.c.is_open.is_(True), cases.c.id.not_in(later)))
    found.extend([case async for case in _replayed_open(conn, later, at)])
    return found


async def open_listings_at(conn: AsyncConnection, at: datetime, policy: Policy) -> list[CaseListing]:
    """`open_cases_at` as listings planned under `policy` (the one in force at `at`): the cases
    unchanged since are read as stored listings."""
    later = _changed_after(at)
    found = await read_listings(conn, LISTED.where(cases.c.is_open.is_(True), cases.c.id.not_in(later)), policy)
    found.extend([list_case(case, policy) async for case in _replayed_open(conn, later, at)])
    return found


def _changed_after(at: datetime) -> Select:
    """The ids of the cases with events after `at`, for IN and NOT IN (so no NULL), found through
    the index on `occurred_at` (with DISTINCT, SQLite walks the whole log by case instead)."""
    return select(events.c.case_id).where(events.c.occurred_at > at, events.c.case_id.is_not(None))


async def _replayed_open(conn: AsyncConnection, chosen: Select, at: datetime) -> AsyncIterator[Case]:
    """The `chosen` cases that were open at `at`, each folded from its counted events up to `at`."""
    query = (convert.LOGGED.where(events.c.case_id.in_(chosen), events.c.occurred_at <= at)
             .order_by(events.c.case_id, events.c.id))
    async for history in checked_log.histories(conn, await checked_log.floor(conn), query):
        case = replay_cases(history).get(history[0].case_id or "")
        if case is not None and case.is_open:
            yield case
