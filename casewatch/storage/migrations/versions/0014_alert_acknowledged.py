"""The shift lead's acknowledgement of an alert is an event (`alert_acknowledged`): the server's vet
(0010) learns its required payload keys, or every write of it would be refused as an unknown type.

The vet function's body holds its table of required keys; this adds the new type's entry to it
(and the downgrade takes it out again), leaving the rest of the function as it is (PostgreSQL only).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ADDED_REQUIRED: dict[str, tuple[str, ...]] = {"alert_acknowledged": ("clock", "state", "lead")}
"""The keys each event type added since 0010 must have (0010's `_REQUIRED` holds the others)."""
_TABLE = "required jsonb := jsonb_build_object("
_ENTRIES = "".join(f"'{kind}', jsonb_build_array({', '.join(repr(k) for k in keys)}), "
                   for kind, keys in ADDED_REQUIRED.items())


def _rewrite(change: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    body = bind.exec_driver_sql("SELECT pg_get_functiondef('casewatch_vet_event'::regproc)").scalar_one()
    if _TABLE not in body:
        raise RuntimeError("casewatch_vet_event has no table of required keys: run 0010 first")
    with_entries = body.replace(_TABLE + _ENTRIES, _TABLE)
    if change == "add":
        with_entries = with_entries.replace(_TABLE, _TABLE + _ENTRIES, 1)
    op.execute(with_entries)


def upgrade() -> None:
    _rewrite("add")


def downgrade() -> None:
    _rewrite("remove")
