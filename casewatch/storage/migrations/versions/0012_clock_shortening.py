"""A severity raise no longer backdates a clock: a shorter window runs from the raise (see
core.clocks). Cases now keep their severity steps: every case is folded again from the log; one that changed
severity gets its metric facts folded again. Listings (which now also name partly filled evidence)
are planned again as the database opens.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.core.metrics import fold_facts
from casewatch.core.policy import default_policy
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import in_history_order
from casewatch.storage import convert
from casewatch.storage.schema import CaseRow, events

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    floor = [convert.event_from_row(row) for row in bind.execute(sa.select(events).where(events.c.case_id.is_(None)))]
    policies = PolicyHistory.from_log(floor) or PolicyHistory.only(default_policy())
    histories: dict[str, list] = {}
    for row in bind.execute(sa.select(events).where(events.c.case_id.is_not(None)).order_by(events.c.id)):
        histories.setdefault(row.case_id, []).append(convert.event_from_row(row))
    for case_id, history in histories.items():
        facts, case = fold_facts(in_history_order(history), policies)
        values: dict[str, object] = {"state": case.model_dump(mode="json"), "listing": None}  # planned anew
        if case.severity_steps:  # its clocks may read otherwise now: its facts folded again
            values["facts"] = facts.as_json()
        bind.execute(sa.update(CaseRow).where(CaseRow.id == case_id).values(**values))


def downgrade() -> None:
    pass  # older versions read the steps as an unknown field and ignore them
