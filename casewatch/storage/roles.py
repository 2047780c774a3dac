"""PostgreSQL roles of a team database: who owns the schema, what members may do, and the SQL
that grants it. The server enforces these rules, whatever a client does.

Each team database has its own two roles, `casewatch_owner_<database>` and
`casewatch_member_<database>`, and only they (and superusers) may connect to it: a member of one
team cannot read or write another team's database on the same server. Databases made before
that shared `casewatch_owner` / `casewatch_member` (LEGACY_*); `db upgrade` moves them over."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.storage.schema import Base, events, logins

LEGACY_OWNER, LEGACY_MEMBER = "casewatch_owner", "casewatch_member"  # shared by every database, before 0010
_MAX_NAME = 63  # PostgreSQL's identifier limit
READ_ONLY = ("alembic_version", logins.name)  # the login map is the server's (its trigger writes it)
FLOOR_MARK = "casewatch_floor_mark"  # the highest floor event id committed (migration 0020): the server's alone


def administers():
    """SQL: whether this session's login may act as the role owning the tables (an administrator,
    who could rewrite them anyway)."""
    owner = select(literal_column("relowner")).select_from(text("pg_class")).where(
        text(f"oid = '{events.name}'::regclass")).scalar_subquery()
    return func.pg_has_role(func.session_user(), owner, "MEMBER")


def _per_database(prefix: str, database: str) -> str:
    name = f"{prefix}_{database}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    return f"{name[:_MAX_NAME - 9]}_{digest}"


def owner_role(database: str) -> str:
    """The role owning the tables of `database` and running its migrations; nobody logs in as it."""
    return _per_database(LEGACY_OWNER, database)


def member_role(database: str) -> str:
    """The role of every person's login on `database`: read everything, append to the log."""
    return _per_database(LEGACY_MEMBER, database)


async def database_name(conn: AsyncConnection) -> str:
    return str((await conn.execute(text("SELECT current_database()"))).scalar())


def table_owner():
    """SQL: the name of the role owning the log (None: no log yet)."""
    return text(f"SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                f"WHERE c.oid = to_regclass('{events.name}')")


def quote_role(name: str) -> str:
    """A role name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def grant_statement(login: str, member: str) -> str:
    return f"GRANT {quote_role(member)} TO {quote_role(login)};"


def projections() -> list[str]:
    """The tables written with each event, besides the log and the login map."""
    return sorted(name for name in Base.metadata.tables if name not in (events.name, logins.name))


async def create_roles(conn: AsyncConnection) -> tuple[str, str]:
    """This database's two group roles (owner, member); the caller becomes a member of the owner so
    that it can act as it. Nobody else may connect to the database: CONNECT is revoked from PUBLIC
    and granted to the two roles. Nobody may make temporary objects in it either (see `close_temp`)."""
    database = await database_name(conn)
    owner, member = owner_role(database), member_role(database)
    for role in (owner, member):
        await conn.execute(text(
            f"DO $$ BEGIN CREATE ROLE {quote_role(role)} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))
    await conn.execute(text(f"GRANT {quote_role(owner)} TO CURRENT_USER"))
    await conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {quote_role(owner)}"))
    await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quote_role(member)}"))
    await conn.execute(text(f"REVOKE CONNECT ON DATABASE {quote_role(database)} FROM PUBLIC"))
    await conn.execute(text(f"GRANT CONNECT ON DATABASE {quote_role(database)} TO {quote_role(owner)}, "
                            f"{quote_role(member)}"))
    await close_temp(conn)
    return owner, member


async def close_temp(conn: AsyncConnection) -> None:
    """Revoke TEMP on this database from PUBLIC (run by an administrator). A member's temporary
    table, view or function could shadow ours inside a function the owner runs; casewatch makes no
    temporary objects. A login an administrator granted TEMP to by name keeps it."""
    await conn.execute(text(f"REVOKE TEMP ON DATABASE {quote_role(await database_name(conn))} FROM PUBLIC"))


async def existing_tables(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
    return [row[0] for row in rows]


async def hand_to_owner(conn: AsyncConnection, tables: list[str], owner: str) -> None:
    """A casewatch database made before team init (or before per-database roles): its tables (and
    their triggers' functions, and the floor mark) pass to the owner role."""
    for table in tables:
        await conn.execute(text(f"ALTER TABLE {quote_role(table)} OWNER TO {quote_role(owner)}"))
    if (await conn.execute(text(f"SELECT to_regclass('{FLOOR_MARK}')"))).scalar() is not None:  # (no table's)
        await conn.execute(text(f"ALTER SEQUENCE {FLOOR_MARK} OWNER TO {quote_role(owner)}"))
    functions = await conn.execute(text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.proname LIKE 'casewatch\\_%'"))
    for (signature,) in functions.all():
        await conn.execute(text(f"ALTER FUNCTION {signature} OWNER TO {quote_role(owner)}"))


async def move_from_shared_roles(conn: AsyncConnection) -> str:
    """A team database made with the shared roles gets its own (run by an administrator, as
    `db upgrade` does): the tables pass to its owner, every login mapped on it joins its member
    role, and the shared member role loses its privileges here. Returns the new owner."""
    owner, member = await create_roles(conn)
    await hand_to_owner(conn, await existing_tables(conn), owner)
    for table in await existing_tables(conn):
        await conn.execute(text(f"REVOKE ALL ON {quote_role(table)} FROM {LEGACY_MEMBER}"))
    await conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {LEGACY_MEMBER}"))
    for (login,) in (await conn.execute(select(logins.c.login))).all():
        exists = (await conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :login"), {"login": login})).first()
        if exists:
            await conn.execute(text(f"GRANT {quote_role(member)} TO {quote_role(login)}"))
    return owner


async def grant_member_privileges(conn: AsyncConnection) -> None:
    """Run as the owner: members read everything, append to the log (never change or remove an
    event), read the login map, and keep the projections (never the floor mark). Nobody but the
    owner may call casewatch's functions."""
    member = quote_role(member_role(await database_name(conn)))
    await conn.execute(text(f"REVOKE ALL ON {events.name} FROM PUBLIC"))
    await conn.execute(text(f"GRANT SELECT, INSERT ON {events.name} TO {member}"))
    await conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {member}"))  # the log's ids
    # but not the floor mark (migration 0020): a member's nextval would refuse every case event in flight
    await conn.execute(text(f"DO $$ BEGIN IF to_regclass('{FLOOR_MARK}') IS NOT NULL THEN "
                            f"REVOKE ALL ON SEQUENCE {FLOOR_MARK} FROM {member}; END IF; END $$"))
    for table in READ_ONLY:
        await conn.execute(text(f"GRANT SELECT ON {table} TO {member}"))
    for table in projections():
        await conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {member}"))
    functions = await conn.execute(text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.proname LIKE 'casewatch\\_%'"))
    for (signature,) in functions.all():  # run by the owner's triggers only, which need no EXECUTE
        await conn.execute(text(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC"))


async def grant_membership(conn: AsyncConnection, login: str, member: str) -> bool:
    """Make `login` a member, if this connection's role may grant it (PostgreSQL says); False when
    it may not, and nothing changed."""
    already = await conn.execute(text("SELECT pg_has_role(:login, :role, 'MEMBER')"),
                                 {"login": login, "role": member})
    if already.scalar():
        return True
    allowed = await conn.execute(text(
        "SELECT rolsuper OR rolcreaterole OR pg_has_role(current_user, :role, 'USAGE WITH ADMIN OPTION') "
        "FROM pg_roles WHERE rolname = current_user"), {"role": member})
    if not allowed.scalar():
        return False
    await conn.execute(text(grant_statement(login, member).rstrip(";")))
    return True
