"""Each case state keeps the latest change by anyone but its last author (`others_version`,
`others_at`), which unread marks read so that your own change does not hide someone else's.

The two are folded from the log for every case (a case only one person changed gets 0 and null).
A team database whose log holds quarantined events may differ in those cases' state until
`casewatch db rebuild`, which folds through the checked log.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.core.projection import replay_cases
from casewatch.storage import convert
from casewatch.storage.schema import CaseRow, events

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FIELDS = ("others_version", "others_at")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).where(events.c.case_id.is_not(None)).order_by(events.c.id))
    folded = replay_cases(convert.event_from_row(row) for row in rows)
    for case_id, state in bind.execute(sa.select(CaseRow.id, CaseRow.state)).all():
        case = folded.get(case_id)
        if case is not None:
            kept = case.model_dump(mode="json", include=set(FIELDS))
            bind.execute(sa.update(CaseRow).where(CaseRow.id == case_id).values(state=state | kept))


def downgrade() -> None:
    bind = op.get_bind()
    for case_id, state in bind.execute(sa.select(CaseRow.id, CaseRow.state)).all():
        kept = {key: value for key, value in state.items() if key not in FIELDS}
        bind.execute(sa.update(CaseRow).where(CaseRow.id == case_id).values(state=kept))
