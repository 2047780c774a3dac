"""Events count in the order they commit, and their times are sane (issue 28, third attack run; PostgreSQL only).

A case event written in a transaction held open used to keep the id it drew at insert and be judged
(by every fold) as of the roster before that id, even when a demotion committed first: a lead since
demoted could still name owners and close cases. Now:
- `casewatch_turn_event` (BEFORE INSERT, after `casewatch_stamp_event`, before 0010's
  `casewatch_vet_event`, which then gives the row the newest id drawn): a floor event takes the
  floor lock exclusively and a case event its case's lock, so each draws its id after every
  earlier writer of the floor (of its case) is done. It refuses an `occurred_at` or `recorded_at`
  that is not finite or before 2000 (every reader's fold quarantines one anyway, but a BC or
  infinite time used to break them), and a member's floor event outside READ COMMITTED (its
  snapshot would judge it under a roster older than what has committed).
- `casewatch_commit_event` (a constraint trigger, DEFERRABLE INITIALLY DEFERRED: at commit) takes
  the floor lock shared and refuses a case event when a floor event with a higher id has committed
  meanwhile (SQLSTATE 40001: nothing of the transaction is written; casewatch's writers run it again
  and decide anew), and a member's event held uncommitted for more than 5 minutes (an unmarked
  backfill); a floor event moves `casewatch_floor_mark` (the highest floor id committed: a sequence,
  so that no transaction's snapshot hides it) to its id. Members have no privilege on the mark.
- `casewatch_stamp_event` stamps `recorded_at` (and the time of an event that happens now) with the
  clock at insert, not the transaction's start.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_SAFE = "SET search_path = pg_catalog, pg_temp"
FLOOR_LOCK = "casewatch floor"  # 0010's key: storage.store takes it too
FLOOR_MARK = "casewatch_floor_mark"
HELD_AT_MOST = "5 minutes"  # core.models.BACKFILL_THRESHOLD
_EARLIEST = "'2000-01-01 00:00:00+00'"  # core.rules.EARLIEST
_MEMBER = "EXISTS (SELECT FROM public.logins WHERE login = session_user::text)"

_POSTGRESQL = [
    f"CREATE SEQUENCE IF NOT EXISTS {FLOOR_MARK}",
    f"REVOKE ALL ON SEQUENCE {FLOOR_MARK} FROM PUBLIC",
    f"""
    CREATE OR REPLACE FUNCTION casewatch_stamp_event() RETURNS trigger LANGUAGE plpgsql {_SAFE} AS $$
    DECLARE
        mapped text;
        stamped timestamptz := clock_timestamp();  -- not now() (the transaction's start): no backdating
    BEGIN
        EXECUTE format('SELECT person FROM %I.logins WHERE login = $1', TG_TABLE_SCHEMA)
            INTO mapped USING session_user::text;
        IF mapped IS NOT NULL THEN
            IF NEW.occurred_at = NEW.recorded_at THEN  -- it happens now (not backfilled): by the server's clock
                NEW.occurred_at := stamped;
            END IF;
            NEW.actor := mapped;
            NEW.recorded_at := stamped;
        ELSIF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION 'login % is not mapped to anyone on the casewatch roster', session_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION casewatch_turn_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    BEGIN
        IF NOT (isfinite(NEW.occurred_at) AND NEW.occurred_at >= {_EARLIEST}) THEN
            RAISE EXCEPTION 'an event cannot have happened before 2000 or at no finite time (occurred_at %)',
                NEW.occurred_at USING ERRCODE = 'check_violation';
        END IF;
        IF NOT (isfinite(NEW.recorded_at) AND NEW.recorded_at >= {_EARLIEST}) THEN
            RAISE EXCEPTION 'an event cannot be recorded before 2000 or at no finite time (recorded_at %)',
                NEW.recorded_at USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.case_id IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('casewatch case ' || NEW.case_id));
            RETURN NEW;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('{FLOOR_LOCK}'));
        IF current_setting('transaction_isolation') <> 'read committed' AND {_MEMBER} THEN
            RAISE EXCEPTION 'a % event is judged by what has committed: write it in a READ COMMITTED transaction',
                NEW.type USING ERRCODE = 'invalid_transaction_state';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS casewatch_turn_event ON events",
    # by name after casewatch_stamp_event (the times it sets) and before casewatch_vet_event (the id)
    "CREATE TRIGGER casewatch_turn_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION casewatch_turn_event()",
    f"""
    CREATE OR REPLACE FUNCTION casewatch_commit_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {_SAFE} AS $$
    BEGIN
        -- every floor writer is done (or waits for this commit): the mark is final for this event
        PERFORM pg_advisory_xact_lock_shared(hashtext('{FLOOR_LOCK}'));
        IF clock_timestamp() - NEW.recorded_at > interval '{HELD_AT_MOST}' AND {_MEMBER} THEN
            RAISE EXCEPTION 'event % was held uncommitted for over {HELD_AT_MOST}: nothing was written; write it again',
                NEW.id USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.case_id IS NULL THEN
            PERFORM setval('public.{FLOOR_MARK}',
                           greatest(NEW.id, coalesce(pg_sequence_last_value('public.{FLOOR_MARK}'), 0)));
        ELSIF NEW.id < pg_sequence_last_value('public.{FLOOR_MARK}') THEN
            RAISE EXCEPTION 'the roster changed while this was written (floor event % committed after event % '
                'was drawn): nothing was written; run it again', pg_sequence_last_value('public.{FLOOR_MARK}'), NEW.id
                USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS casewatch_commit_event ON events",
    """
    CREATE CONSTRAINT TRIGGER casewatch_commit_event AFTER INSERT ON events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION casewatch_commit_event()
    """,
    "REVOKE EXECUTE ON FUNCTION casewatch_turn_event() FROM PUBLIC",
    "REVOKE EXECUTE ON FUNCTION casewatch_commit_event() FROM PUBLIC",
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER casewatch_commit_event ON events",
    "DROP FUNCTION casewatch_commit_event()",
    "DROP TRIGGER casewatch_turn_event ON events",
    "DROP FUNCTION casewatch_turn_event()",
    f"DROP SEQUENCE {FLOOR_MARK}",
    # casewatch_stamp_event keeps the clock at insert (it only stamps later times)
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL_DOWN:
            op.execute(statement)
