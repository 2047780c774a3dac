"""Case listings as stored beside the case rows (see core.listing): read, with the cases whose
listing is missing or planned under another policy listed from their states; and planned again
when the policy changes."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.core.listing import CaseListing, list_case, listing_from_json, listing_json, planned_under
from casewatch.core.policy import Policy
from casewatch.storage import convert
from casewatch.storage.case_rows import CASE_ROW, STORED_UNREADABLE, cases_of
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
            listed = _stored(text, version, policy)
            if listed is not None:
                found.append(listed)
            else:
                unplanned.append(case_id)
    for start in range(0, len(unplanned), _CHUNK):
        chosen = select(*CASE_ROW).where(cases.c.id.in_(unplanned[start:start + _CHUNK]))
        found.extend(list_case(case, policy) for case in await cases_of(conn, (await conn.execute(chosen)).all()))
    return found


async def plan_open_listings(conn: AsyncConnection, policy: Policy) -> int:
    """Plan the listing of every open case whose listing is not current under `policy` (a policy
    was applied, or the schema just gained listings), in the caller's transaction; returns how
    many. A case written meanwhile keeps the listing its writer made (the update is version-checked)."""
    rows = await conn.execute(LISTED.where(cases.c.is_open.is_(True)))
    unplanned = [case_id for case_id, version, text in rows if _stored(text, version, policy) is None]
    for start in range(0, len(unplanned), _CHUNK):
        chosen = select(*CASE_ROW).where(cases.c.id.in_(unplanned[start:start + _CHUNK]))
        states = await cases_of(conn, (await conn.execute(chosen)).all())
        await conn.execute(_PLAN, [{"row_id": case.id, "row_version": case.version,
                                    "listing": listing_json(list_case(case, policy))} for case in states])
    return len(unplanned)


def _stored(text: str | None, version: int, policy: Policy) -> CaseListing | None:
    """A stored listing, if it was planned from this version of the case under `policy` and reads
    (members may write it: one that does not is planned again from the case)."""
    try:
        stored = convert.stored_listing(text)
        return listing_from_json(stored) if stored is not None and planned_under(stored, policy.version,
                                                                                  version) else None
    except STORED_UNREADABLE:
        return None
