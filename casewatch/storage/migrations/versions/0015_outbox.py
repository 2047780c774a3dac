"""Write-back: `outbox` holds each delivery of an event to its ticket, queued in the event's own
transaction and sent by `casewatch deliver` or `sync --follow`. A team database's members may
write it (a member's board queues, a member's sender claims); the sender trusts none of it and
checks each row against the checked fold of the log before sending.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.storage.roles import LEGACY_MEMBER, member_role, quote_role
from casewatch.storage.schema import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _grant_to_members() -> None:
    bind = op.get_bind()
    database = bind.execute(sa.text("SELECT current_database()")).scalar()
    for role in (member_role(str(database)), LEGACY_MEMBER):
        if bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first():
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO {quote_role(role)}")
            op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quote_role(role)}")
            return


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("outbox"):  # (run again in place, as tests of older schemas do)
        return
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("ticket", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("marker", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("comment_id", sa.String(64), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("alerted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"])
    op.create_index("ix_outbox_due", "outbox", ["state", "next_try_at"])
    if op.get_bind().dialect.name == "postgresql":
        _grant_to_members()


def downgrade() -> None:
    op.drop_table("outbox")
