"""A login grant needs a lead as the log says, not as the `people` projection says.

Members may write the projections, so a member who made themselves a lead in `people` could map
their login to someone else and act as them. `casewatch_project_logins` (0006) now works out who is
a lead from the log: the roster events in order, each counted only when a lead, or the system
(what an administrator writes: bootstrap, team init), wrote it; the server stamped their authors.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_SAFE = "SET search_path = pg_catalog, pg_temp"  # pg_temp last: nobody's temporary objects shadow ours
_SYSTEM = "casewatch"  # the author of what an administrator writes (bootstrap, team init): store.SYSTEM_ACTOR

_UP = f"""
    CREATE OR REPLACE FUNCTION casewatch_project_logins() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
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
    """

_DOWN = f"""
    CREATE OR REPLACE FUNCTION casewatch_project_logins() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    DECLARE
        granter_role text;
    BEGIN
        IF NEW.type = 'person_renamed' THEN
            EXECUTE format('UPDATE %I.logins SET person = $1 WHERE person = $2', TG_TABLE_SCHEMA)
                USING NEW.payload->>'after', NEW.payload->>'before';
            RETURN NULL;
        END IF;
        IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            EXECUTE format('SELECT role FROM %I.people WHERE name = $1', TG_TABLE_SCHEMA)
                INTO granter_role USING NEW.actor;
            IF granter_role IS DISTINCT FROM 'lead' THEN
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
    """


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DOWN)
