"""Tracker syncs: `source_states` keeps each source's cursor (saved with the page it follows) and
how its last pass went, for the board's status line (which reads it every 15 seconds: no change
feed trigger, so a sync's pages wake no board beyond their cases). A team database's members may
write it (the sync runs as a member).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.storage.schema import UTCDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

_GRANT = """DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casewatch_member') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON source_states TO casewatch_member;
  END IF;
END $$"""


def upgrade() -> None:
    op.create_table(
        "source_states",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("last_success", UTCDateTime(), nullable=True),
        sa.Column("failure", sa.String(300), nullable=True),
        sa.Column("failing_since", UTCDateTime(), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_GRANT)


def downgrade() -> None:
    op.drop_table("source_states")
