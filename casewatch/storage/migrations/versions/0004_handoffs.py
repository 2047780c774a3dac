"""Shift handoff: `shifts` (who leads, in which zone, since when) and `handoffs` (a prepared packet and
what became of it).

Existing `shift_started` events become shifts, in the zone each lead has on the roster; `settings`,
which only held the current shift lead, goes (the latest shift says it). On PostgreSQL both new
tables notify the change feed, as the roster and policies do.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from casewatch.storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NOTIFY = ["shifts", "handoffs"]


def upgrade() -> None:
    shifts = op.create_table(
        "shifts",
        sa.Column("event_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("lead", sa.String(200), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("prepared_at", UTCDateTime(), nullable=False),
        sa.Column("prepared_by", sa.String(200), nullable=False),
        sa.Column("to_lead", sa.String(200), nullable=False),
        sa.Column("packet", sa.JSON(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )
    events = sa.table("events", sa.column("id", sa.BigInteger()), sa.column("type", sa.String()),
                      sa.column("occurred_at", UTCDateTime()), sa.column("payload", sa.JSON()))
    people = sa.table("people", sa.column("name", sa.String()), sa.column("tz", sa.String()))
    bind = op.get_bind()
    zones: dict[str, str] = {row.name: row.tz for row in bind.execute(sa.select(people.c.name, people.c.tz))}
    started = bind.execute(sa.select(events.c.id, events.c.occurred_at, events.c.payload)
                           .where(events.c.type == "shift_started").order_by(events.c.id)).all()
    rows = [{"event_id": row.id, "lead": row.payload["lead"], "started_at": row.occurred_at, "handoff_id": None,
             "tz": row.payload.get("tz") or zones.get(row.payload["lead"]) or "UTC"} for row in started]
    if rows:
        op.bulk_insert(shifts, rows)
    op.drop_table("settings")
    if bind.dialect.name == "postgresql":
        for table in _NOTIFY:
            op.execute(f"CREATE TRIGGER casewatch_notify_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION casewatch_notify_table()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _NOTIFY:
            op.execute(f"DROP TRIGGER casewatch_notify_{table} ON {table}")
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO settings (key, value, last_event_id) SELECT 'shift_lead', lead, event_id FROM shifts "
               "ORDER BY started_at DESC, event_id DESC LIMIT 1")
    op.drop_table("handoffs")
    op.drop_table("shifts")
