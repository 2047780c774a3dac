"""Team mode, hardened: the server alone maps logins to people and stamps every event.

- `casewatch_stamp_event` is replaced by one that cannot be fooled by the caller's search path:
  it reads the `logins` table of the schema the `events` table is in (a member's temporary table
  named `logins` would otherwise come first) and calls only pg_catalog functions. An event that
  happens now (the client sent the same instant for both times) also gets the server's clock as
  `occurred_at`, so a client whose clock is off neither backfills by mistake nor writes the future.
- `casewatch_project_logins` (AFTER INSERT on events, SECURITY DEFINER) writes the `logins`
  projection: a `login_granted` event maps its login to its person, a `person_renamed` event moves
  the person's logins to the new name. Members may only read `logins`, so a mapping exists only
  where the log has its grant: by an administrator (team init), or by a lead as the log says (not
  the `people` projection, which members can write: a member who made themselves a lead there
  still may not map a login).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SAFE = "SET search_path = pg_catalog, pg_temp"  # pg_temp last: nobody's temporary objects shadow ours
_SYSTEM = "casewatch"  # the author of what an administrator writes (bootstrap, team init): store.SYSTEM_ACTOR

_POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION casewatch_stamp_event() RETURNS trigger LANGUAGE plpgsql {_SAFE} AS $$
    DECLARE
        mapped text;
    BEGIN
        EXECUTE format('SELECT person FROM %I.logins WHERE login = $1', TG_TABLE_SCHEMA)
            INTO mapped USING session_user::text;
        IF mapped IS NOT NULL THEN
            IF NEW.occurred_at = NEW.recorded_at THEN  -- it happens now (not backfilled): by the server's clock
                NEW.occurred_at := now();
            END IF;
            NEW.actor := mapped;
            NEW.recorded_at := now();
        ELSIF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION 'login % is not mapped to anyone on the casewatch roster', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE FUNCTION casewatch_project_logins() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    DECLARE
        roles jsonb := '{{}}';
        earlier record;
    BEGIN
        IF NEW.type = 'person_renamed' THEN
            EXECUTE format('UPDATE %I.logins SET person = $1 WHERE person = $2', TG_TABLE_SCHEMA)
                USING NEW.payload->>'after', NEW.payload->>'before';
            RETURN NULL;
        END IF;
        IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            -- Who is a lead, as the log says (never the people table, which members can write): the
            -- roster events in order, each counted only when a lead, or the system, wrote it.
            FOR earlier IN EXECUTE format(
                'SELECT actor, type, payload FROM %I.events WHERE type IN (''person_added'', ''person_renamed'') '
                'AND id < $1 ORDER BY id', TG_TABLE_SCHEMA) USING NEW.id
            LOOP
                CONTINUE WHEN earlier.actor <> '{_SYSTEM}' AND roles->>earlier.actor IS DISTINCT FROM 'lead';
                IF earlier.type = 'person_added' THEN
                    roles := roles || jsonb_build_object(earlier.payload->>'name', earlier.payload->>'role');
                ELSIF roles->(earlier.payload->>'before') IS NOT NULL THEN
                    roles := (roles - (earlier.payload->>'before'))
                             || jsonb_build_object(earlier.payload->>'after', roles->(earlier.payload->>'before'));
                END IF;
            END LOOP;
            IF roles->>NEW.actor IS DISTINCT FROM 'lead' THEN
                RAISE EXCEPTION 'only a lead may map a login to a person (% is not one)', NEW.actor
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        END IF;
        EXECUTE format('INSERT INTO %I.logins (login, person, last_event_id) VALUES ($1, $2, $3) '
                       'ON CONFLICT (login) DO UPDATE SET person = EXCLUDED.person, '
                       'last_event_id = EXCLUDED.last_event_id', TG_TABLE_SCHEMA)
            USING NEW.payload->>'login', NEW.payload->>'person', NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER casewatch_project_logins AFTER INSERT ON events
        FOR EACH ROW WHEN (NEW.type IN ('login_granted', 'person_renamed'))
        EXECUTE FUNCTION casewatch_project_logins()
    """,
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER casewatch_project_logins ON events",
    "DROP FUNCTION casewatch_project_logins",
    "ALTER FUNCTION casewatch_stamp_event() RESET search_path",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL_DOWN:
            op.execute(statement)
