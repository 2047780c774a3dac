"""Evidence item states: every case projection is folded again from the log.

Cases used to hold a ticked/unticked list under the first checklist's keys; they now hold one
record per item (state, text, who, when). The log keeps the old events; the projection reads them
through the old-key mapping, so refolding is all an existing database needs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from casewatch.core.projection import replay_cases
from casewatch.storage import convert
from casewatch.storage.schema import CaseRow, events

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).where(events.c.case_id.is_not(None)).order_by(events.c.id))
    for case in replay_cases(convert.event_from_row(row) for row in rows).values():
        bind.execute(sa.update(CaseRow).where(CaseRow.id == case.id).values(state=case.model_dump(mode="json")))


def downgrade() -> None:
    raise NotImplementedError("casewatch before evidence states cannot read these projections; restore a backup")
