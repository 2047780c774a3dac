"""PostgreSQL databases for the tests, made once per test process and emptied between tests.

A `CREATE DATABASE … TEMPLATE` and its `DROP` cost the server 150–400 ms of CPU each: the template's
catalogs are copied block by block into the WAL. Hundreds of PostgreSQL tests made that a fifth of
the machine during a run. A database a test is done with is instead emptied as a new one would be
(every table's rows deleted, the template's rows put back, every sequence set back), a few
milliseconds, and handed to the next test of the same process.

It is reused only while it is still the template's database: what could outlive the rows (a table,
column, trigger, function, grant, row-level policy, setting or extension a test added, changed or
dropped) is compared, as one fingerprint of the catalogs, with the template's. Any difference, or
any failure while emptying it, and the database is dropped instead and the next test gets a new
copy. Connections a test left open are ended first, as `DROP DATABASE … WITH (FORCE)` ends them.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

FINGERPRINT = """
WITH own AS (SELECT oid FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
               AND nspname NOT LIKE 'pg_temp%')
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT concat_ws(':', 'namespace', nspname, nspacl::text, nspowner::regrole::text) FROM pg_namespace
    UNION ALL
    SELECT concat_ws(':', 'relation', c.oid::regclass::text, c.relkind, c.relacl::text, c.relrowsecurity,
                     c.relforcerowsecurity, c.relowner::regrole::text)
      FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM own)
    UNION ALL
    SELECT concat_ws(':', 'column', a.attrelid::regclass::text, a.attname, a.atttypid::regtype::text,
                     a.attnotnull, a.attisdropped, a.attacl::text, pg_get_expr(d.adbin, d.adrelid))
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace IN (SELECT oid FROM own) AND a.attnum > 0
    UNION ALL
    SELECT concat_ws(':', 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace IN (SELECT oid FROM own)
    UNION ALL
    SELECT concat_ws(':', 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid))
      FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM own))
    UNION ALL
    SELECT concat_ws(':', 'trigger', tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid))
      FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT concat_ws(':', 'policy', polrelid::regclass::text, polname, polcmd, polpermissive, polroles::text,
                     pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
      FROM pg_policy
    UNION ALL
    SELECT concat_ws(':', 'function', p.oid::regprocedure::text, md5(p.prosrc), p.proacl::text, p.prosecdef,
                     p.proconfig::text, p.proowner::regrole::text)
      FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM own)
    UNION ALL
    SELECT concat_ws(':', 'rule', ev_class::regclass::text, rulename, md5(pg_get_ruledef(oid)))
      FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM own))
    UNION ALL
    SELECT concat_ws(':', 'default acl', defaclrole::regrole::text, defaclnamespace, defaclobjtype, defaclacl::text)
      FROM pg_default_acl
    UNION ALL
    SELECT concat_ws(':', 'event trigger', evtname, evtevent, evtenabled) FROM pg_event_trigger
    UNION ALL
    SELECT concat_ws(':', 'extension', extname, extversion) FROM pg_extension
    UNION ALL
    SELECT concat_ws(':', 'database', datacl::text, datallowconn, datconnlimit)
      FROM pg_database WHERE datname = current_database()
    UNION ALL
    SELECT concat_ws(':', 'setting', setrole, setconfig::text) FROM pg_db_role_setting
     WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS catalog(item)
"""

TABLES = """
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1
"""
SEQUENCES = """
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
"""


def new_database_name() -> str:
    return f"cw_test_{uuid.uuid4().hex[:12]}"


def without_commit_flush(name: str) -> str:
    """A test database's commits do not wait for the WAL to reach the disk (`synchronous_commit =
    off` for every session in it): what commits, its order, its visibility and NOTIFY are as before;
    only a crash of the server itself could lose the last commits, and no test crashes the server.
    The storage and team tests, machine CPU (this machine's runs vary by a fifth): 152-172 CPU-s
    and 78-88 s in three runs, against 165-196 CPU-s and 86-101 s in two without it."""
    return f'ALTER DATABASE "{name}" SET synchronous_commit = off'


@dataclass(frozen=True)
class Snapshot:
    """What a database held when it was as a test should find it: its catalogs' fingerprint, its rows
    and where each sequence stood."""

    fingerprint: str
    rows: dict[str, str]  # table -> its rows as JSON (only tables that have any)
    tables: list[str]
    sequences: dict[str, tuple[int, bool]]  # sequence -> (last_value, is_called)


async def snapshot(connection) -> Snapshot:
    tables = [row[0] for row in await connection.fetch(TABLES)]
    rows = {}
    for table in tables:
        found = await connection.fetchval(f"SELECT json_agg(t)::text FROM {table} AS t")
        if found is not None:
            rows[table] = found
    sequences = {}
    for [sequence] in await connection.fetch(SEQUENCES):
        stood = await connection.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
        sequences[sequence] = (stood["last_value"], stood["is_called"])
    return Snapshot(await connection.fetchval(FINGERPRINT), rows, tables, sequences)


async def put_back(connection, state: Snapshot) -> bool:
    """The database as `state` had it, or False (nothing changed) when its catalogs are no longer
    the same. Connections a test left open are ended first."""
    await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    if await connection.fetchval(FINGERPRINT) != state.fingerprint:
        return False
    await connection.execute("SET lock_timeout = '2s'")
    async with connection.transaction():
        # The log's own triggers refuse deletes (it is append-only); a replica session skips them.
        await connection.execute("SET LOCAL session_replication_role = replica")
        for table in state.tables:
            await connection.execute(f"DELETE FROM {table}")
        for table, rows in state.rows.items():
            await connection.execute(f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)",
                                     rows)
        for sequence, (last_value, is_called) in state.sequences.items():
            await connection.execute("SELECT setval($1::regclass, $2, $3)", sequence, last_value, is_called)
    return True


class PgPool:
    """The databases of one test process, each a copy of `template`; `connect(database)` opens an
    asyncpg connection as the administrator, `admin(sql)` runs one statement in the admin database."""

    def __init__(self, template: Callable[[], str], connect, admin: Callable[[str], None]):
        self._template_name = template
        self._connect = connect
        self._admin = admin
        self._template: Snapshot | None = None
        self._free: list[str] = []
        self._all: set[str] = set()
        atexit.register(self.drop_all)

    def take(self) -> str:
        """A database as the template made it: a kept one, or a new copy."""
        if self._free:
            return self._free.pop()
        name = new_database_name()
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._template_name()}"')
        self._admin(without_commit_flush(name))  # before the snapshot: a setting is in its fingerprint
        self._all.add(name)
        if self._template is None:
            self._template = asyncio.run(self._snapshot(name))
        return name

    def give_back(self, name: str) -> None:
        """Emptied and kept for the next test, or dropped when it is no longer the template's."""
        try:
            kept = asyncio.run(self._put_back(name))
        except Exception:  # any doubt: a new copy is cheaper than a test reading another's leftovers
            kept = False
        if kept:
            self._free.append(name)
        else:
            self._drop(name)

    def drop_all(self) -> None:
        for name in sorted(self._all):
            self._drop(name)

    def _drop(self, name: str) -> None:
        self._all.discard(name)
        with contextlib.suppress(Exception):  # the server is gone (the run is ending): nothing to tidy
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _snapshot(self, name: str) -> Snapshot:
        connection = await self._connect(name)
        try:
            return await snapshot(connection)
        finally:
            await connection.close()

    async def _put_back(self, name: str) -> bool:
        assert self._template is not None
        connection = await self._connect(name)
        try:
            return await put_back(connection, self._template)
        finally:
            await connection.close()
