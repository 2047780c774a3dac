"""Checking the projections against the log (`casewatch db verify`) and repairing them (`db rebuild`).

The log is the truth, as the checked fold reads it (storage.checked_log: an event the rules would
have refused is quarantined, never applied). Every projection is built again from it in memory:
the events outside any case run through the very projection code the store writes with (into a scratch in-memory
SQLite database), each case is folded from its history (streamed one case at a time, with its
metric facts), the login map from its grants. Then the
stored rows are compared with those, row by row and column by column; a repair changes only the
rows that differ, in one transaction that holds the projections still (PostgreSQL: `LOCK TABLE`,
which also waits for writers already under way; SQLite: the write lock), so nothing written
meanwhile is overwritten with an older state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Table, Text, cast, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import StaticPool

from casewatch.core import metrics
from casewatch.core.listing import planned_under
from casewatch.core.models import Event, EventType
from casewatch.core.policy import default_policy
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import replay_floor
from casewatch.storage import checked_log, convert
from casewatch.storage.schema import Base, cases, counters, handoffs, logins, people, policies, shifts

CHECKED: tuple[Table, ...] = (cases, people, policies, shifts, handoffs, logins, counters)
"""Every projection table, in the order differences are reported."""

Rows = dict[tuple, dict[str, Any]]
Projections = Mapping[EventType, Callable[[AsyncConnection, Event], Awaitable[None]]]


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    what: str  # "missing", "not in the log" or "differs in …"
    repaired: bool = False

    def line(self) -> str:
        done = " (repaired)" if self.repaired else ""
        return f"{self.table} {self.key}: {self.what}{done}"


def _key(table: Table, row: dict[str, Any]) -> tuple:
    return tuple(row[column.name] for column in table.primary_key.columns)


def _rows(table: Table, found: Iterable[Any]) -> Rows:
    rows = [dict(row._mapping) for row in found]
    return {_key(table, row): row for row in rows}


async def expected(conn: AsyncConnection, floor: Projections) -> dict[str, Rows]:
    """Every projection as the log on `conn` says it should be; `floor` is the store's own projection
    code. The events outside any case are few and read at once; case events are streamed in case
    order and folded one case at a time, so the whole log is never in memory."""
    checked = await checked_log.floor(conn)
    floor_log = checked.accepted
    found = await _floor_rows(floor_log, floor)
    granted = {e.payload["login"]: e.id for e in floor_log if e.type is EventType.LOGIN_GRANTED}
    found[logins.name] = {(login,): {"login": login, "person": person, "last_event_id": granted[login]}
                          for login, person in replay_floor(floor_log).logins.items()}
    policies = _policies(floor_log)
    latest = policies.latest  # what the store plans listings under now
    found[cases.name] = {}

    async for history in checked_log.histories(conn, checked):  # each in history order
        case_id = history[0].case_id or ""
        facts, case = metrics.fold_facts(history, policies)
        values = convert.case_values(case, max(e.id or 0 for e in history), latest)
        found[cases.name][(case_id,)] = {"id": case_id, **values, "facts": facts.as_json()}
    numbers = [int(key[0].rsplit("-", 1)[-1]) for key in found[cases.name]]
    found[counters.name] = {("case",): {"name": "case", "value": max(numbers)}} if numbers else {}
    return found


async def _floor_rows(floor_log: list[Event], floor: Projections) -> dict[str, Rows]:
    """The floor's projections, written by the store's own code into a scratch in-memory database."""
    found: dict[str, Rows] = {}
    scratch = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    try:
        async with scratch.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            for event in floor_log:
                await floor[event.type](conn, event)
            for table in (people, policies, shifts, handoffs):
                found[table.name] = _rows(table, await conn.execute(select(table)))
    finally:
        await scratch.dispose()
    return found


def _policies(floor_log: list[Event]) -> PolicyHistory:
    """The policies in force over time, as the store folds a case's metric facts under them."""
    return PolicyHistory.from_log(floor_log) or PolicyHistory.only(default_policy())


async def _stored(conn: AsyncConnection) -> dict[str, Rows]:
    return {table.name: await _stored_rows(conn, table) for table in CHECKED}


async def _stored_rows(conn: AsyncConnection, table: Table) -> Rows:
    """A table's rows, each JSON column decoded value by value: a member may have written one that
    PostgreSQL takes and casewatch cannot decode (`1e400`), which then differs from the log's value
    instead of failing the whole read."""
    json_columns = [column.name for column in table.columns if isinstance(column.type, JSON)]
    query = select(*(cast(column, Text).label(column.name) if column.name in json_columns else column
                     for column in table.columns))
    rows = _rows(table, await conn.execute(query))
    for row in rows.values():
        for name in json_columns:
            text = row[name]
            row[name] = None if text is None else _decoded(text)
    return rows


@dataclass(frozen=True)
class Undecodable:
    """A stored JSON value that does not decode: equal to no value the log makes."""

    text: str


def _decoded(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return Undecodable(text)


def compare(stored: dict[str, Rows], wanted: dict[str, Rows]) -> list[Difference]:
    """What differs, per table and key. A case counter (the last number drawn) a little ahead of
    the highest case is no difference (a batch may reserve more than it uses); one behind it, or
    far ahead (a member's write: `case new` never reads it), is."""
    found: list[Difference] = []
    for table in CHECKED:
        have, want = stored[table.name], wanted[table.name]
        for key in sorted(set(have) | set(want), key=str):
            name = "/".join(str(part) for part in key)
            if key not in have:
                found.append(Difference(table.name, name, "missing"))
            elif key not in want:
                if table is not counters:
                    found.append(Difference(table.name, name, "not in the log"))
                elif _counter_off(have[key]["value"], NO_CASE):
                    found.append(Difference(table.name, name, f"at {have[key]['value']}, far ahead of any case"))
            elif table is counters:
                if _counter_off(have[key]["value"], want[key]["value"]):
                    side = "behind" if have[key]["value"] < want[key]["value"] else "far ahead of"
                    found.append(Difference(table.name, name, f"at {have[key]['value']}, {side} case "
                                                              f"{want[key]['value']}"))
            elif columns := _differing(table, have[key], want[key]):
                found.append(Difference(table.name, name, "differs in " + ", ".join(columns)))
    return found


COUNTER_SLACK = 1000  # how far the case counter may run ahead of the highest case
NO_CASE = 1000  # the counter before the first case (CW-1001)


def _counter_off(have: int, want: int) -> bool:
    return have < want or have > want + COUNTER_SLACK


def _differing(table: Table, have: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """The columns in which a stored row differs from the log's. A case's listing counts only when
    it is current (planned from this version of the case under the policy in force): one that
    is not is never read, and the next write or policy plans it again."""
    columns = [column for column in want if have.get(column) != want[column]]
    if table is cases and "listing" in columns and not _current_listing(have, want):
        columns.remove("listing")
    return columns


def _current_listing(have: dict[str, Any], want: dict[str, Any]) -> bool:
    """Whether the stored listing is read: current, or no JSON object at all (what no plan leaves)."""
    stored = have.get("listing")
    return stored is not None and (not isinstance(stored, dict)
                                   or planned_under(stored, want["listing"]["policy"], have["version"]))


async def verify(conn: AsyncConnection, floor: Projections) -> list[Difference]:
    """The differences between the stored projections and the log, read in one snapshot."""
    return compare(await _stored(conn), await expected(conn, floor))


async def rebuild(conn: AsyncConnection, floor: Projections) -> list[Difference]:
    """Repair every projection row that differs from the log, in the caller's write transaction;
    returns what differed, each marked repaired unless this login may not write that table (then
    an administrator runs the rebuild)."""
    tables = [table for table in CHECKED if await _may_write(conn, table)]
    if conn.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        await conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    stored, wanted = await _stored(conn), await expected(conn, floor)
    differences = compare(stored, wanted)
    writable = {table.name for table in tables}
    for table in CHECKED:
        if table.name not in writable:
            continue
        have, want = stored[table.name], wanted[table.name]
        columns = list(table.primary_key.columns)
        for key in set(have) - set(want):
            if table is not counters or _counter_off(have[key]["value"], NO_CASE):
                await conn.execute(delete(table).where(*(c == v for c, v in zip(columns, key, strict=True))))
        if table is cases:
            await _unlink_moved(conn, have, want)
        for key, row in want.items():
            if key not in have:
                await conn.execute(insert(table).values(**row))
            elif (_counter_off(have[key]["value"], row["value"]) if table is counters
                  else _differing(table, have[key], row)):
                await conn.execute(update(table).where(*(c == v for c, v in zip(columns, key, strict=True)))
                                   .values(**row))
    return [Difference(d.table, d.key, d.what, repaired=d.table in writable) for d in differences]


async def _unlink_moved(conn: AsyncConnection, have: Rows, want: Rows) -> None:
    """Cases whose ticket link differs from the log's lose it first: a link moved to another case
    (a member's write) would otherwise stand in the way of the unique index as the rows are put back."""
    link = ("source_name", "source_id")
    moved = [key[0] for key, row in have.items()
             if key in want and tuple(row.get(c) for c in link) != tuple(want[key].get(c) for c in link)]
    if moved:
        await conn.execute(update(cases).where(cases.c.id.in_(moved)).values(source_name=None, source_id=None))


async def _may_write(conn: AsyncConnection, table: Table) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    query = text("SELECT has_table_privilege(CAST(:table AS text), 'INSERT') AND "
                 "has_table_privilege(CAST(:table AS text), 'UPDATE') AND "
                 "has_table_privilege(CAST(:table AS text), 'DELETE')")
    return bool((await conn.execute(query, {"table": table.name})).scalar())
