"""Alembic environment: migrations always run on a connection handed in by casewatch.storage.migrate."""

from alembic import context

from casewatch.storage.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
