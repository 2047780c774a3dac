"""Schema migrations through Alembic, run automatically when a database is opened."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from casewatch.core.errors import InvalidInput

HEAD = "0001"
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config():
    from alembic.config import Config  # imported lazily: only needed when the schema changes

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection, describe: str) -> bool:
    current = current_revision(connection)
    if current == HEAD:
        return False
    if current is not None and current not in known_revisions():
        raise InvalidInput(
            f"{describe} has schema {current}, newer than this casewatch knows (up to {HEAD}); upgrade casewatch"
        )
    if current is None and inspect(connection).get_table_names():
        raise InvalidInput(f"{describe} is a database, but not a casewatch one (it has other tables)")
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return True


async def ensure_schema(reader: AsyncEngine, writer: AsyncEngine, describe: str) -> bool:
    """Bring the schema to HEAD; True when a migration ran. Refuses databases newer than the code."""
    async with reader.connect() as conn:
        if await conn.run_sync(current_revision) == HEAD:
            return False
    async with writer.begin() as conn:  # re-checked under the write lock: two openers never both migrate
        return await conn.run_sync(_upgrade, describe)
