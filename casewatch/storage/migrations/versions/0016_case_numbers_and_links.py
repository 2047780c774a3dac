"""Case numbers nobody can squat, and ticket links only imports make (issue 28, second attack run).

`case new` draws the next case number from the log (the highest case id created, plus one), not
from the `counters` row a member can write, and the server refuses a `case_created` beyond that
next number: a forged `CW-1999999999` no longer leaves `case new` nowhere to go.

`casewatch_vet_new_case` (BEFORE INSERT on events, after 0010's `casewatch_vet_event` has drawn the
id) refuses, with SQLSTATE 23514 or 42501:
- a case id with a leading zero, or a number beyond the next one;
- a ticket link that is not a JSON object of text name, kind and id, or whose URL is not http(s);
- from a mapped login (a member): a linked `case_created` whose author is not a lead by the roster
  as the log says it (importing is a lead's; core.permissions Action.IMPORT);
- a ticket link another case's creation names, compared as core.models.link_key does (`ZD`/`zd`,
  `00123`/`123` are one ticket).

Both backends get the indexes the next number and a reader's link check read.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_SAFE = "SET search_path = pg_catalog, pg_temp"
_VALID_ID = "'^CW-[1-9][0-9]{0,9}$'"
_IN_RANGE = "(length({id}) < 13 OR {id} <= 'CW-1999999999')"  # core.quarantine.CASE_NUMBER_MAX
_WEB_ADDRESS = "'^https?://[!-~]+$'"  # core.models.WEB_ADDRESS


def _link(source: str) -> tuple[str, str]:
    """core.models.link_key of a ticket link (a jsonb expression) as SQL: its name and id."""
    name, ticket = f"({source}->>'name')", f"({source}->>'id')"
    return (f"lower({name})", f"CASE WHEN {ticket} ~ '^[0-9]+$' THEN coalesce(nullif(ltrim({ticket}, '0'), ''), '0') "
                              f"ELSE lower({ticket}) END")


_STORED_LINK = _link("(payload::jsonb->'source')")


_BOTH = [
    # the highest case number (store._next_case_id and the trigger below)
    "CREATE INDEX IF NOT EXISTS ix_events_created_number ON events (length(case_id), case_id) "
    "WHERE type = 'case_created'",
    # whether a case creation came or went (the store's cached links: checked_log.FLOOR_MARK)
    "CREATE INDEX IF NOT EXISTS ix_events_created_id ON events (id) WHERE type = 'case_created'",
]
_POSTGRESQL = [
    f"CREATE INDEX IF NOT EXISTS ix_events_created_link ON events (({_STORED_LINK[0]}), ({_STORED_LINK[1]})) "
    "WHERE type = 'case_created'",
    f"""
    CREATE OR REPLACE FUNCTION casewatch_vet_new_case() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    DECLARE
        payload jsonb := NEW.payload::jsonb;
        source jsonb := NEW.payload::jsonb->'source';
        highest bigint;
        key text[];
    BEGIN
        IF NEW.case_id !~ {_VALID_ID} THEN
            RAISE EXCEPTION '% is not a case id casewatch gives', left(NEW.case_id, 40)
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT substr(e.case_id, 4)::bigint INTO highest FROM public.events e
            WHERE e.type = 'case_created' AND e.case_id ~ {_VALID_ID} AND {_IN_RANGE.format(id='e.case_id')}
            ORDER BY length(e.case_id) DESC, e.case_id DESC LIMIT 1;
        highest := greatest(coalesce(highest, 1000), 1000);
        IF substr(NEW.case_id, 4)::bigint > highest + 1 THEN
            RAISE EXCEPTION '% is beyond the next case number (CW-%)', NEW.case_id, highest + 1
                USING ERRCODE = 'check_violation';
        END IF;
        IF source IS NULL OR jsonb_typeof(source) = 'null' THEN
            RETURN NEW;
        END IF;
        IF jsonb_typeof(source) IS DISTINCT FROM 'object'
           OR jsonb_typeof(source->'name') IS DISTINCT FROM 'string' OR btrim(source->>'name') = ''
           OR jsonb_typeof(source->'kind') IS DISTINCT FROM 'string' OR btrim(source->>'kind') = ''
           OR jsonb_typeof(source->'id') IS DISTINCT FROM 'string' OR btrim(source->>'id') = '' THEN
            RAISE EXCEPTION 'a ticket link needs a text name, kind and id' USING ERRCODE = 'check_violation';
        END IF;
        IF jsonb_typeof(source->'url') NOT IN ('null', 'string')
           OR (jsonb_typeof(source->'url') = 'string' AND source->>'url' !~ {_WEB_ADDRESS}) THEN
            RAISE EXCEPTION 'a ticket link''s URL must be an http(s) address' USING ERRCODE = 'check_violation';
        END IF;
        IF EXISTS (SELECT FROM public.logins WHERE login = session_user::text)
           AND public.casewatch_roles(NEW.id)->>NEW.actor IS DISTINCT FROM 'lead' THEN
            RAISE EXCEPTION 'only a lead may create a case linked to a tracker ticket (% is not one): imports do',
                NEW.actor USING ERRCODE = 'insufficient_privilege';
        END IF;
        key := ARRAY[{', '.join(_link('source'))}];
        PERFORM pg_advisory_xact_lock(hashtext('casewatch ticket ' || key[1] || ' ' || key[2]));
        IF EXISTS (SELECT FROM public.events e WHERE e.type = 'case_created'
                   AND {_STORED_LINK[0].replace('payload', 'e.payload')} = key[1]
                   AND {_STORED_LINK[1].replace('payload', 'e.payload')} = key[2]) THEN
            RAISE EXCEPTION 'ticket % of % is linked to another case already',
                left(source->>'id', 60), left(source->>'name', 60) USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "REVOKE EXECUTE ON FUNCTION casewatch_vet_new_case() FROM PUBLIC",
    "DROP TRIGGER IF EXISTS casewatch_vet_new_case ON events",
    # named to fire after casewatch_vet_event (same timing: by name), which draws NEW.id
    """
    CREATE TRIGGER casewatch_vet_new_case BEFORE INSERT ON events
        FOR EACH ROW WHEN (NEW.type = 'case_created') EXECUTE FUNCTION casewatch_vet_new_case()
    """,
]


def upgrade() -> None:
    for statement in _BOTH:
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER casewatch_vet_new_case ON events")
        op.execute("DROP FUNCTION casewatch_vet_new_case()")
        op.execute("DROP INDEX ix_events_created_link")
    op.execute("DROP INDEX ix_events_created_number")
    op.execute("DROP INDEX ix_events_created_id")
