"""A case event's payload holds at most 256 KiB (issue 28, fourth look): a member could append
case events of 1 MB each (0010's limit for every event), as many as they liked.

No event casewatch writes about a case comes near it: the largest, an evidence value (64 KiB of
UTF-8) or a customer update (three fields of 16 KiB), stay under 130 KiB even with every character
escaped in JSON (core.quarantine.CASE_PAYLOAD_MAX_BYTES, which the client and the fold hold too).
Floor events (a policy's TOML file, a handoff's whole packet) keep 0010's 1 MB: only leads write them.

`casewatch_cap_event` (BEFORE INSERT on events; by name the first of the table's triggers)
refuses, with SQLSTATE 23514, a case event whose payload text is longer than that. PostgreSQL only:
on SQLite the fold quarantines one (storage.convert reads it unparsed).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_MAX_BYTES = 256 * 1024  # core.quarantine.CASE_PAYLOAD_MAX_BYTES
_POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION casewatch_cap_event() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        IF octet_length(NEW.payload::text) > {_MAX_BYTES} THEN
            RAISE EXCEPTION 'the payload of a % event is too large (% bytes; a case event holds at most %)',
                left(NEW.type, 60), octet_length(NEW.payload::text), {_MAX_BYTES} USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "REVOKE EXECUTE ON FUNCTION casewatch_cap_event() FROM PUBLIC",
    "DROP TRIGGER IF EXISTS casewatch_cap_event ON events",
    """
    CREATE TRIGGER casewatch_cap_event BEFORE INSERT ON events
        FOR EACH ROW WHEN (NEW.case_id IS NOT NULL) EXECUTE FUNCTION casewatch_cap_event()
    """,
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER casewatch_cap_event ON events")
        op.execute("DROP FUNCTION casewatch_cap_event()")
