"""Case listings as stored beside the case rows (see core.listing): read, with the cases whose
listing is missing or planned under another policy listed from their states; and planned again
when the policy changes."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.listing import CaseListing, list_case, listing_from_json, listing_json, planned_under
from casewatch.core.policy import Policy
from casewatch.storage import convert
from casewatch.storage.case_rows import STORED_UNREADABLE, cases_named
from casewatch.storage.schema import cases

LISTED = select(cases.c.id, cases.c.version, convert.CASE_LISTING)
"""The columns `read_listings` reads, in its order: add the WHERE clause."""

_PLAN = (update(cases).where(cases.c.id == bindparam("row_id"), cases.c.version == bindparam("row_version"))
         .values(listing=bindparam("listing")))
_CHUNK = 500


async def read_listings(conn: AsyncConnection, query: Select, policy: Policy) -> list[CaseListing]:
    """The listings of the cases `query` (on `LISTED`) chooses, as planned under `policy`: the
    stored one where it is current, else one made from the case's state."""
    found: list[CaseListing] = []
    unplanned: list[str] = []
    result = await conn.stream(query)
    async for partition in result.partitions(_CHUNK):
        for case_id, version, text in partition:  # (by position: a tenth of the cost of by name)
            listing = _listing(case_id, version, text, policy)
            if listing is not None:
                found.append(listing)
            else:
                unplanned.append(case_id)
    return found + [list_case(case, policy) for case in await cases_named(conn, unplanned)]


async def plan_open_listings(conn: AsyncConnection, policy: Policy) -> int:
    """Plan the listing of every open case whose listing is not current under `policy` (a policy
    was applied, or the schema just gained listings), in the caller's transaction; returns how
    many. A case written meanwhile keeps the listing its writer made (the update is version-checked)."""
    rows = await conn.execute(LISTED.where(cases.c.is_open.is_(True)))
    unplanned = [case_id for case_id, version, text in rows if _listing(case_id, version, text, policy) is None]
    states = await cases_named(conn, unplanned)
    if states:  # (a tampered row's case, folded from the log, is planned only if its row is at that version)
        await conn.execute(_PLAN, [{"row_id": case.id, "row_version": case.version,
                                    "listing": listing_json(list_case(case, policy))} for case in states])
    return len(unplanned)


def _listing(case_id: str, version: int, text: str | None, policy: Policy) -> CaseListing | None:
    """The stored listing, if it was planned from this version of the case under `policy` and is
    one (a row members can write: one of the wrong shape is no listing, and the case is listed
    from its state)."""
    stored = convert.stored_listing(text)
    if stored is None or not planned_under(stored, policy.version, version):
        return None
    try:
        listing = listing_from_json(stored)
    except STORED_UNREADABLE:
        return None
    return listing if listing.id == case_id else None

