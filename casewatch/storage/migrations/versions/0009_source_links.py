"""Cases linked to tracker tickets: the source's name and the ticket's id beside each case row,
unique together, so one ticket names at most one case even when two imports run at once. Every
case state gains its (empty) link and last-seen tracker values, as a replay now folds them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_STATES = {
    "sqlite": "UPDATE cases SET state = json_set(state, '$.source', json('null'), '$.source_seen', json('{}'))",
    "postgresql": "UPDATE cases SET state = (state::jsonb || '{\"source\": null, \"source_seen\": {}}'::jsonb)::json",
}


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("source_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("source_id", sa.String(200), nullable=True))
    op.create_index("ux_cases_source", "cases", ["source_name", "source_id"], unique=True)
    op.execute(_STATES[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_index("ux_cases_source", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("source_id")
        batch.drop_column("source_name")
