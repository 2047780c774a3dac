"""Cases keep their metric facts beside their projection (what `casewatch metrics` counts), so the
metrics read one row per case instead of replaying the log. NULL until the case's next write or
`casewatch db rebuild`; the metrics replay such a case's history instead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))
    op.create_index("ix_cases_escalated_at", "cases", ["escalated_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_escalated_at", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("facts")
