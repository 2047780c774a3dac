"""A newly applied policy no longer backdates a clock: a window it shortens runs from the moment it
took force, as a severity raise's does (see core.clocks). On a database that applied more than one
policy, the metric facts of every case are folded again from the log (the update-miss fact may
change).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from casewatch.core.metrics import fold_facts
from casewatch.core.models import EventType
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import in_history_order
from casewatch.storage import convert
from casewatch.storage.schema import CaseRow, events

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    applied = sa.select(events).where(events.c.case_id.is_(None), events.c.type == EventType.POLICY_APPLIED.value)
    floor = [convert.event_from_row(row) for row in bind.execute(applied)]
    if len(floor) < 2:
        return  # one policy throughout: no clock ran under two
    policies = PolicyHistory.from_log(floor)
    assert policies is not None  # two applied policies make a history
    histories: dict[str, list] = {}
    for row in bind.execute(sa.select(events).where(events.c.case_id.is_not(None)).order_by(events.c.id)):
        histories.setdefault(row.case_id, []).append(convert.event_from_row(row))
    for case_id, history in histories.items():
        facts, _ = fold_facts(in_history_order(history), policies)
        bind.execute(sa.update(CaseRow).where(CaseRow.id == case_id).values(facts=facts.as_json()))


def downgrade() -> None:
    pass  # the facts stay as this rule folded them
