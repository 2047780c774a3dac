"""A board hears when a delivery moves on (sent, failed, refused, retried): the outbox notifies as
the roster and the policy do (PostgreSQL's `casewatch_notify_table`, 0002), so a case screen says
`not delivered` as soon as the sender recorded it, not at the board's next read of the outbox.
SQLite boards poll the outbox's mark with the events (storage.feed).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS casewatch_notify_outbox ON outbox")  # (run again in place)
        op.execute("CREATE TRIGGER casewatch_notify_outbox AFTER INSERT OR UPDATE OR DELETE ON outbox "
                   "FOR EACH STATEMENT EXECUTE FUNCTION casewatch_notify_table()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER casewatch_notify_outbox ON outbox")
