"""Team mode: the login map, and on PostgreSQL the server's side of the change feed and identity.

- `logins`: which roster person each PostgreSQL login acts as.
- `casewatch_stamp_event` (BEFORE INSERT on events): for a login mapped to a roster person the
  server sets `actor` to that person and `recorded_at` to now(); a login that is neither mapped nor
  an administrator (a member of the role owning the table) may not append at all. Administrators
  could rewrite the table anyway, so their own values stand (team init's bootstrap, tests).
- `casewatch_notify_*` (AFTER triggers): every change to a case row sends NOTIFY with its id, version
  and whether it is open; roster and policy changes send the table's name. NOTIFY is delivered on
  commit, so a listener hears each committed change once, and nothing rolled back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_POSTGRESQL = [
    """
    CREATE FUNCTION casewatch_stamp_event() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        mapped text;
    BEGIN
        SELECT person INTO mapped FROM logins WHERE login = session_user;
        IF mapped IS NOT NULL THEN
            NEW.actor := mapped;
            NEW.recorded_at := now();
        ELSIF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION 'login % is not mapped to anyone on the casewatch roster', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER casewatch_stamp_event BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION casewatch_stamp_event()
    """,
    """
    CREATE FUNCTION casewatch_notify_case() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('casewatch', json_build_object('case', OLD.id, 'version', 0, 'open', false)::text);
        ELSE
            PERFORM pg_notify('casewatch',
                              json_build_object('case', NEW.id, 'version', NEW.version, 'open', NEW.is_open)::text);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER casewatch_notify_case AFTER INSERT OR UPDATE OR DELETE ON cases
        FOR EACH ROW EXECUTE FUNCTION casewatch_notify_case()
    """,
    """
    CREATE FUNCTION casewatch_notify_table() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('casewatch', json_build_object('table', TG_TABLE_NAME)::text);
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER casewatch_notify_people AFTER INSERT OR UPDATE OR DELETE ON people
        FOR EACH STATEMENT EXECUTE FUNCTION casewatch_notify_table()
    """,
    """
    CREATE TRIGGER casewatch_notify_policies AFTER INSERT OR UPDATE OR DELETE ON policies
        FOR EACH STATEMENT EXECUTE FUNCTION casewatch_notify_table()
    """,
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER casewatch_notify_policies ON policies",
    "DROP TRIGGER casewatch_notify_people ON people",
    "DROP FUNCTION casewatch_notify_table",
    "DROP TRIGGER casewatch_notify_case ON cases",
    "DROP FUNCTION casewatch_notify_case",
    "DROP TRIGGER casewatch_stamp_event ON events",
    "DROP FUNCTION casewatch_stamp_event",
]


def upgrade() -> None:
    op.create_table(
        "logins",
        sa.Column("login", sa.String(63), primary_key=True),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL_DOWN:
            op.execute(statement)
    op.drop_table("logins")
