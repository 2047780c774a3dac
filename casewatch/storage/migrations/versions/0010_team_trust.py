"""Team mode you can trust: the server vets every event a login appends (PostgreSQL only).

`casewatch_vet_event` (BEFORE INSERT on events, after `casewatch_stamp_event` has named the author)
refuses, with SQLSTATE 23514 or 42501 and a message saying why:
- a type casewatch does not know, or a payload that is not a JSON object with the keys its type needs
  (of the JSON type core reads them as), over 1 MB or nested over 32 deep;
- a `case_created` whose case id casewatch would not give, or naming a ticket link another case's
  creation names; a `ticket_seen` on a case without a link;
- an `occurred_at` more than a minute after now(), or before its case's creation;
- a second `case_created` for one case, a case event on a case that does not exist, a floor event
  with a case id or a case event without one;
- from a mapped login (a member): a floor event (roster, policy, shift, handoff, login grant,
  rename) whose author is not a lead by the roster as the log says it (counted only from events a
  lead or the system wrote, as in 0006); accepting a handoff for someone else; a roster name that
  is reserved or, for a rename, already taken.
Whatever the client sent as `id`, the id comes from the log's sequence, and it is the newest one
drawn when the row goes in (else a fresh one): nobody can squat the ids other writers will get, nor
have an event judged as of an id drawn earlier (a lead since demoted). Nobody but the owner may
execute casewatch's functions, each runs with `search_path = pg_catalog, pg_temp`, and
`casewatch_roles` reads `public.events` only, never a table its caller names.
Administrators (members of the role owning the table, mapped to nobody) still write what they
write: they could rewrite the table anyway.

`casewatch_project_logins` is replaced: a rename moves logins only onto a name nobody holds, so a
forged rename can no longer map a member's login to a lead (the vet refuses it first anyway).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import json

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SAFE = "SET search_path = pg_catalog, pg_temp"
_SYSTEM = "casewatch"
_REQUIRED: dict[str, tuple[str, ...]] = {
    "case_created": ("title", "customer", "severity", "route"),
    "title_changed": ("before", "after"),
    "ticket_seen": ("seen",),
    "owner_assigned": ("before", "after"),
    "comms_assigned": ("before", "after"),
    "authority_set": ("before", "after"),
    "participant_involved": ("name", "role"),
    "severity_changed": ("before", "after", "reason"),
    "route_changed": ("before", "after", "reason"),
    "customer_update_logged": ("known", "next_milestone"),
    "review_logged": ("notes",),
    "status_changed": ("before", "after"),
    "case_reopened": ("before", "after"),
    "note_added": ("text",),
    "evidence_set": ("key",),
    "case_returned": ("before", "after", "reason", "missing"),
    "case_closed": ("final_severity", "avoidable"),
    "person_added": ("name", "role"),
    "person_renamed": ("before", "after"),
    "policy_applied": ("toml",),
    "shift_started": ("lead",),
    "handoff_prepared": ("id", "to", "packet"),
    "handoff_accepted": ("id", "lead"),
    "login_granted": ("login", "person"),
}
"""The keys each event type's payload must have (core.events reads them unconditionally)."""
_TYPED: dict[str, dict[str, str]] = {
    "case_created": {"title": "string", "customer": "string", "severity": "string", "route": "string"},
    "title_changed": {"after": "string"},
    "ticket_seen": {"seen": "object"},
    "note_added": {"text": "string"},
    "person_added": {"name": "string", "role": "string"},
    "person_renamed": {"before": "string", "after": "string"},
    "policy_applied": {"toml": "string"},
    "shift_started": {"lead": "string"},
    "handoff_prepared": {"to": "string"},
    "handoff_accepted": {"lead": "string"},
    "login_granted": {"login": "string", "person": "string"},
}
"""The JSON type of the keys core reads as text or a mapping, per event type."""
_MAX_DEPTH = 32  # a payload nests a few levels (a handoff's packet the most); a reader's parser stops near 1000
_MAX_BYTES = 1_000_000
_CASE_ID = "^CW-[0-9]{1,10}$"  # core.quarantine.CASE_ID, with its number at most CASE_NUMBER_MAX
_CASE_NUMBER_MAX = 1_999_999_999
_FLOOR = ("person_added", "person_renamed", "policy_applied", "shift_started", "handoff_prepared",
          "handoff_accepted", "login_granted")


def _required_json() -> str:
    pairs = ", ".join(f"'{kind}', jsonb_build_array({', '.join(repr(k) for k in keys)})"
                      for kind, keys in _REQUIRED.items())
    return f"jsonb_build_object({pairs})"


def _typed_json() -> str:
    kinds = ", ".join(f"'{kind}', '{json.dumps(keys)}'::jsonb" for kind, keys in _TYPED.items())
    return f"jsonb_build_object({kinds})"


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_POSTGRESQL = [
    "DROP FUNCTION IF EXISTS casewatch_roles(text, bigint)",  # (took a schema its caller chose: never again)
    f"""
    CREATE OR REPLACE FUNCTION casewatch_roles(before_id bigint) RETURNS jsonb
        LANGUAGE plpgsql STABLE {_SAFE} AS $$
    -- Who holds which role, as the log says (never the people table): the roster events before
    -- `before_id` in order, each counted only when a lead, or the system, wrote it. It runs with its
    -- caller's rights (only the owner's triggers call it: nobody else may execute it) on the one log.
    DECLARE
        roles jsonb := '{{}}';
        earlier record;
    BEGIN
        FOR earlier IN
            SELECT actor, type, payload::jsonb AS payload FROM public.events
            WHERE type IN ('person_added', 'person_renamed') AND id < before_id ORDER BY id
        LOOP
            CONTINUE WHEN earlier.actor <> '{_SYSTEM}' AND roles->>earlier.actor IS DISTINCT FROM 'lead';
            IF earlier.type = 'person_added' THEN
                roles := roles || jsonb_build_object(earlier.payload->>'name', earlier.payload->>'role');
            ELSIF roles->(earlier.payload->>'before') IS NOT NULL AND roles->(earlier.payload->>'after') IS NULL THEN
                roles := (roles - (earlier.payload->>'before'))
                         || jsonb_build_object(earlier.payload->>'after', roles->(earlier.payload->>'before'));
            END IF;
        END LOOP;
        RETURN roles;
    END $$
    """,
    "REVOKE EXECUTE ON FUNCTION casewatch_roles(bigint) FROM PUBLIC",
    f"""
    CREATE OR REPLACE FUNCTION casewatch_vet_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    DECLARE
        required jsonb := {_required_json()};
        typed jsonb := {_typed_json()};
        link text[];
        payload jsonb;
        key text;
        created timestamptz;
        roles jsonb;
        member boolean;
        sequence text;
        drawn bigint;
    BEGIN
        sequence := pg_get_serial_sequence(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id');
        BEGIN
            drawn := currval(sequence);  -- the id the column's default just drew for this row
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            drawn := NULL;  -- none drawn in this session: the client sent its own
        END;
        -- Kept only when it is the newest id anyone drew: then every event committed before this
        -- insert has a lower id, and the checks below (and every fold) judge it as of now. An id
        -- drawn earlier (say by a lead since demoted) or sent by the client gets a fresh one.
        IF NEW.id IS DISTINCT FROM drawn
           OR drawn IS DISTINCT FROM (SELECT pg_sequence_last_value(sequence::regclass)) THEN
            NEW.id := nextval(sequence);
        END IF;
        IF NOT required ? NEW.type THEN
            RAISE EXCEPTION 'unknown event type %', left(NEW.type, 60) USING ERRCODE = 'check_violation';
        END IF;
        payload := NEW.payload::jsonb;
        IF jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'the payload of a % event must be a JSON object', NEW.type
                USING ERRCODE = 'check_violation';
        END IF;
        IF octet_length(NEW.payload::text) > {_MAX_BYTES} THEN
            RAISE EXCEPTION 'the payload of a % event is too large', NEW.type USING ERRCODE = 'check_violation';
        END IF;
        IF jsonb_path_exists(payload, 'strict $.**{{{_MAX_DEPTH}}}') THEN
            RAISE EXCEPTION 'the payload of a % event nests too deep', NEW.type USING ERRCODE = 'check_violation';
        END IF;
        FOR key IN SELECT jsonb_array_elements_text(required->NEW.type) LOOP
            IF NOT payload ? key THEN
                RAISE EXCEPTION 'a % event needs % in its payload', NEW.type, key USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
        FOR key IN SELECT jsonb_object_keys(coalesce(typed->NEW.type, '{{}}')) LOOP
            IF jsonb_typeof(payload->key) IS DISTINCT FROM typed->NEW.type->>key THEN
                RAISE EXCEPTION 'in a % event, % must be a JSON %', NEW.type, key, typed->NEW.type->>key
                    USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
        IF NEW.occurred_at > now() + interval '1 minute' THEN
            RAISE EXCEPTION 'an event cannot happen in the future (occurred_at %)', NEW.occurred_at
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.type IN ({_list(_FLOOR)}) THEN
            IF NEW.case_id IS NOT NULL THEN
                RAISE EXCEPTION 'a % event belongs to no case', NEW.type USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.case_id IS NULL THEN
            RAISE EXCEPTION 'a % event needs a case', NEW.type USING ERRCODE = 'check_violation';
        ELSE
            IF NEW.type = 'case_created' THEN
                IF NEW.case_id !~ '{_CASE_ID}' OR substr(NEW.case_id, 4)::bigint > {_CASE_NUMBER_MAX} THEN
                    RAISE EXCEPTION '% is not a case id casewatch gives', left(NEW.case_id, 40)
                        USING ERRCODE = 'check_violation';
                END IF;
                PERFORM pg_advisory_xact_lock(hashtext('casewatch case ' || NEW.case_id));
                IF jsonb_typeof(payload->'source') = 'object' THEN
                    PERFORM pg_advisory_xact_lock(hashtext('casewatch link ' || (payload->'source')::text));
                    link := ARRAY[payload->'source'->>'name', payload->'source'->>'id'];
                    IF EXISTS (SELECT FROM public.events e WHERE e.type = 'case_created'
                               AND (e.payload::jsonb->'source'->>'name') = link[1]
                               AND (e.payload::jsonb->'source'->>'id') = link[2]) THEN
                        RAISE EXCEPTION 'ticket % of % is linked to another case already',
                            left(payload->'source'->>'id', 60), left(payload->'source'->>'name', 60)
                            USING ERRCODE = 'check_violation';
                    END IF;
                END IF;
            END IF;
            EXECUTE format('SELECT occurred_at FROM %I.events WHERE case_id = $1 AND type = ''case_created'' '
                           'ORDER BY id LIMIT 1', TG_TABLE_SCHEMA) INTO created USING NEW.case_id;
            IF NEW.type = 'case_created' AND created IS NOT NULL THEN
                RAISE EXCEPTION 'case % exists already', NEW.case_id USING ERRCODE = 'check_violation';
            ELSIF NEW.type <> 'case_created' AND created IS NULL THEN
                RAISE EXCEPTION 'no case %', NEW.case_id USING ERRCODE = 'check_violation';
            ELSIF NEW.type = 'ticket_seen' AND NOT EXISTS (
                    SELECT FROM public.events e WHERE e.case_id = NEW.case_id AND e.type = 'case_created'
                    AND jsonb_typeof(e.payload::jsonb->'source') = 'object') THEN
                RAISE EXCEPTION 'case % is not linked to a tracker ticket', NEW.case_id
                    USING ERRCODE = 'check_violation';
            ELSIF NEW.occurred_at < created THEN
                RAISE EXCEPTION 'nothing happens to case % before its creation (%)', NEW.case_id, created
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        -- A floor event. Floor events are judged one at a time, in the order they commit: a roster
        -- change still uncommitted (a lead being demoted) is waited for, then seen by the check below
        -- (each statement here reads what has committed by then), so no grant slips in beside it.
        PERFORM pg_advisory_xact_lock(hashtext('casewatch floor'));
        -- The events an administrator writes (team init, repairs) stand as written.
        EXECUTE format('SELECT EXISTS (SELECT FROM %I.logins WHERE login = $1)', TG_TABLE_SCHEMA)
            INTO member USING session_user::text;
        IF NOT member THEN
            RETURN NEW;
        END IF;
        roles := public.casewatch_roles(NEW.id);
        IF NEW.type = 'handoff_accepted' THEN
            IF payload->>'lead' IS DISTINCT FROM NEW.actor OR roles->>NEW.actor IS DISTINCT FROM 'lead' THEN
                RAISE EXCEPTION '% may not accept a handoff (only the lead it is addressed to does)', NEW.actor
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END IF;
        IF roles->>NEW.actor IS DISTINCT FROM 'lead' THEN
            RAISE EXCEPTION 'only a lead may record % (% is not one)', NEW.type, NEW.actor
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.type IN ('person_added', 'person_renamed') AND EXISTS (
               SELECT FROM (SELECT lower(CASE NEW.type WHEN 'person_added' THEN payload->>'name'
                                                       ELSE payload->>'after' END) AS name) named
               WHERE name IN ('casewatch', 'postgres', 'root', 'admin', 'system')
                  OR name LIKE 'casewatch\\_%' OR name LIKE 'pg\\_%') THEN
            RAISE EXCEPTION 'that name is reserved' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.type = 'person_renamed'
           AND (roles->(payload->>'before') IS NULL OR roles->(payload->>'after') IS NOT NULL) THEN
            RAISE EXCEPTION 'a rename needs a person on the roster and a name nobody holds'
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.type = 'shift_started' AND payload->>'lead' IS DISTINCT FROM NEW.actor THEN
            RAISE EXCEPTION 'a lead starts a shift for themselves' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    # what a case_created naming a ticket link looks up: whether another case holds it
    """
    CREATE INDEX IF NOT EXISTS ix_events_created_source ON events
        ((payload::jsonb->'source'->>'name'), (payload::jsonb->'source'->>'id')) WHERE type = 'case_created'
    """,
    "DROP TRIGGER IF EXISTS casewatch_vet_event ON events",  # (a database stamped older than it is)
    """
    CREATE TRIGGER casewatch_vet_event BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION casewatch_vet_event()
    """,
    f"""
    CREATE OR REPLACE FUNCTION casewatch_project_logins() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    DECLARE
        roles jsonb;  -- stays NULL for an administrator
    BEGIN
        IF NEW.type = 'person_renamed' THEN
            -- onto a name nobody holds only (the vet refused the rest from members already)
            EXECUTE format('UPDATE %I.logins SET person = $1 WHERE person = $2 AND NOT EXISTS '
                           '(SELECT FROM %I.logins WHERE person = $1)', TG_TABLE_SCHEMA, TG_TABLE_SCHEMA)
                USING NEW.payload->>'after', NEW.payload->>'before';
            RETURN NULL;
        END IF;
        IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            roles := public.casewatch_roles(NEW.id);
        END IF;
        IF roles->>NEW.actor IS DISTINCT FROM 'lead' AND roles IS NOT NULL THEN
            RAISE EXCEPTION 'only a lead may map a login to a person (% is not one)', NEW.actor
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('INSERT INTO %I.logins (login, person, last_event_id) VALUES ($1, $2, $3) '
                       'ON CONFLICT (login) DO UPDATE SET person = EXCLUDED.person, '
                       'last_event_id = EXCLUDED.last_event_id', TG_TABLE_SCHEMA)
            USING NEW.payload->>'login', NEW.payload->>'person', NEW.id;
        RETURN NULL;
    END $$
    """,
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER casewatch_vet_event ON events",
    "DROP FUNCTION casewatch_vet_event",
    "DROP INDEX ix_events_created_source",
]
_EXECUTED_BY_TRIGGERS_ONLY = ("casewatch_stamp_event()", "casewatch_notify_case()", "casewatch_notify_table()",
                              "casewatch_project_logins()", "casewatch_vet_event()")
"""Nobody calls these but the server's triggers (which need no EXECUTE privilege to fire them)."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)
        for function in _EXECUTED_BY_TRIGGERS_ONLY:
            op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL_DOWN:
            op.execute(statement)
        # casewatch_project_logins keeps its 0010 body (it only refuses more); casewatch_roles with it
