"""Schema migrations through Alembic, run automatically when a database is opened."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casewatch.core.errors import InvalidInput
from casewatch.storage.roles import (
    LEGACY_OWNER,
    database_name,
    grant_member_privileges,
    move_from_shared_roles,
    owner_role,
    quote_role,
    table_owner,
)

if TYPE_CHECKING:
    from alembic.config import Config

BOOTSTRAP_LOCK = 0x63617365  # a PostgreSQL advisory lock key: "case"
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(location: Path = MIGRATIONS) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(location))
    return config


@cache
def revision_chain(location: Path = MIGRATIONS) -> dict[str, str | None]:
    """Each revision and the one it follows, read from the version files' own assignments without
    running them. Alembic's script directory imports Alembic and every migration: about 0.2 s that
    every command and every board would pay only to learn that the schema is current. Alembic still
    runs every migration; a test checks that both read the same chain."""
    chain: dict[str, str | None] = {}
    for path in sorted((location / "versions").glob("*.py")):
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                        values[target.id] = ast.literal_eval(node.value)
        if "revision" in values:
            chain[values["revision"]] = values.get("down_revision")
    return chain


@cache
def head_revision(location: Path = MIGRATIONS) -> str:
    """The newest migration: the one revision no other follows."""
    chain = revision_chain(location)
    heads = set(chain) - set(chain.values())
    if len(heads) != 1:
        raise RuntimeError(f"{len(heads)} newest migrations in {location}: casewatch is installed incompletely")
    return heads.pop()


def known_revisions(location: Path = MIGRATIONS) -> set[str]:
    return set(revision_chain(location))


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(connection: Connection, describe: str) -> bool:
    current, head = current_revision(connection), head_revision()
    if current == head:
        return False
    if current is not None and current not in known_revisions():
        raise InvalidInput(
            f"{describe} has schema {current}, newer than this casewatch knows (up to {head}); upgrade casewatch"
        )
    if current is None and inspect(connection).get_table_names():
        raise InvalidInput(f"{describe} is a database, but not a casewatch one (it has other tables)")
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return True


async def take_turns(conn: AsyncConnection) -> None:
    """Writers that set a database up take turns: on PostgreSQL through an advisory lock held until the
    transaction ends (on SQLite, `BEGIN IMMEDIATE` already serialises them). Re-check under it."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOTSTRAP_LOCK})


async def ensure_schema(reader: AsyncEngine, writer: AsyncEngine, describe: str) -> bool:
    """Bring the schema to the head revision; True when a migration ran. Refuses a newer database.
    Only reads unless there is something to migrate."""
    async with reader.connect() as conn:
        if await conn.run_sync(current_revision) == head_revision():
            return False
    async with writer.begin() as conn:  # re-checked in turn: two openers never both migrate
        await take_turns(conn)
        owner = await conn.scalar(table_owner()) if conn.dialect.name == "postgresql" else None
        if owner == LEGACY_OWNER:  # a team database from before per-database roles
            owner = await move_from_shared_roles(conn)
        if owner is None or owner != owner_role(await database_name(conn)):
            return await conn.run_sync(upgrade_to_head, describe)
        # A team database: its owner role migrates (an administrator acts as it), and members get
        # what they need on whatever the migration created.
        await conn.execute(text(f"SET LOCAL ROLE {quote_role(owner)}"))
        migrated = await conn.run_sync(upgrade_to_head, describe)
        await grant_member_privileges(conn)
        return migrated
