"""PostgreSQL roles of a team database: who owns the schema, what members may do, and the SQL
that grants it. The server enforces these rules, whatever a client does."""

from __future__ import annotations

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from casewatch.storage.schema import Base, events, logins

OWNER_ROLE = "casewatch_owner"  # owns the tables and runs the migrations; nobody logs in as it
MEMBER_ROLE = "casewatch_member"  # every person's login: read everything, append to the log
READ_ONLY = ("alembic_version", logins.name)  # the login map is the server's (its trigger writes it)


def administers():
    """SQL: whether this session's login may act as the role owning the tables (an administrator,
    who could rewrite them anyway)."""
    owner = select(literal_column("relowner")).select_from(text("pg_class")).where(
        text(f"oid = '{events.name}'::regclass")).scalar_subquery()
    return func.pg_has_role(func.session_user(), owner, "MEMBER")


def owned_by_owner_role():
    """SQL: whether the tables belong to the owner role (a team database)."""
    return text(f"SELECT EXISTS (SELECT FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                f"WHERE c.oid = to_regclass('{events.name}') AND r.rolname = '{OWNER_ROLE}')")


def quote_role(name: str) -> str:
    """A role name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def grant_statement(login: str) -> str:
    return f"GRANT {MEMBER_ROLE} TO {quote_role(login)};"


def projections() -> list[str]:
    """The tables written with each event, besides the log and the login map."""
    return sorted(name for name in Base.metadata.tables if name not in (events.name, logins.name))


async def create_roles(conn: AsyncConnection) -> None:
    """The two group roles, once per server (several team databases may share a server); the caller
    becomes a member of the owner so that it can act as it."""
    for role in (OWNER_ROLE, MEMBER_ROLE):
        await conn.execute(text(
            f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))
    await conn.execute(text(f"GRANT {OWNER_ROLE} TO CURRENT_USER"))
    await conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {OWNER_ROLE}"))
    await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {MEMBER_ROLE}"))


async def existing_tables(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
    return [row[0] for row in rows]


async def hand_to_owner(conn: AsyncConnection, tables: list[str]) -> None:
    """A casewatch database made before team init: its tables (and their triggers' functions) pass
    to the owner role."""
    for table in tables:
        await conn.execute(text(f"ALTER TABLE {quote_role(table)} OWNER TO {OWNER_ROLE}"))
    functions = await conn.execute(text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.proname LIKE 'casewatch\\_%'"))
    for (signature,) in functions.all():
        await conn.execute(text(f"ALTER FUNCTION {signature} OWNER TO {OWNER_ROLE}"))


async def grant_member_privileges(conn: AsyncConnection) -> None:
    """Run as the owner: members read everything, append to the log (never change or remove an
    event), read the login map, and keep the projections."""
    await conn.execute(text(f"REVOKE ALL ON {events.name} FROM PUBLIC"))
    await conn.execute(text(f"GRANT SELECT, INSERT ON {events.name} TO {MEMBER_ROLE}"))
    await conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {MEMBER_ROLE}"))  # the log's ids
    for table in READ_ONLY:
        await conn.execute(text(f"GRANT SELECT ON {table} TO {MEMBER_ROLE}"))
    for table in projections():
        await conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {MEMBER_ROLE}"))


async def grant_membership(conn: AsyncConnection, login: str) -> bool:
    """Make `login` a member, if this connection's role may grant it (PostgreSQL says); False when
    it may not, and nothing changed."""
    member = await conn.execute(text("SELECT pg_has_role(:login, :role, 'MEMBER')"),
                                {"login": login, "role": MEMBER_ROLE})
    if member.scalar():
        return True
    allowed = await conn.execute(text(
        "SELECT rolsuper OR rolcreaterole OR pg_has_role(current_user, :role, 'USAGE WITH ADMIN OPTION') "
        "FROM pg_roles WHERE rolname = current_user"), {"role": MEMBER_ROLE})
    if not allowed.scalar():
        return False
    await conn.execute(text(grant_statement(login).rstrip(";")))
    return True
