"""Cases keep their listing beside their projection (what `casewatch cases` prints, with the
clocks planned), so listing thousands of cases reads a few hundred bytes each instead of whole
states. NULL until the case's next write, the next policy applied or `casewatch db upgrade`
plans it; a case without a current listing is listed from its state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("listing", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("listing")
