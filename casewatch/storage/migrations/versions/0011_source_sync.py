"""Tracker syncs: `source_states` keeps each source's cursor (saved with the page it follows) and
how its last pass went, for the board's status line (which reads it every 15 seconds: no change
feed trigger, so a sync's pages wake no board beyond their cases). A team database's members may
write it (the sync runs as a member).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.storage.roles import LEGACY_MEMBER, member_role, quote_role
from casewatch.storage.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _grant_to_members() -> None:
    """This database's member role (0010's), else the shared one of an older team database, may
    keep the table, as they keep every projection."""
    bind = op.get_bind()
    database = bind.execute(sa.text("SELECT current_database()")).scalar()
    for role in (member_role(str(database)), LEGACY_MEMBER):
        if bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first():
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON source_states TO {quote_role(role)}")
            return


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
        _grant_to_members()


def downgrade() -> None:
    op.drop_table("source_states")
