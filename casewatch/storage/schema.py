"""Tables: the append-only `events` log and the projections written with it.

The migrations in `migrations/versions` create these; this module is the query-side description
and must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, MetaData, String, Table, Text, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from casewatch.core.models import READABLE

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


def sqlite_datetime(value: datetime) -> str:
    """An aware time as SQLite stores it: the UTC text "2026-11-27 14:00:00.000000". A time
    already in UTC (whatever its tzinfo) is written without a copy."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("refusing to store a naive datetime")
    if offset:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:_NAIVE_LENGTH]  # without the "+00:00"


_NAIVE_LENGTH = len("2026-11-27 14:00:00.000000")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        if value.tzinfo is not UTC:  # most times already are: spare the write path a copy of each
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """On SQLite, the text SQLAlchemy's DATETIME stores ("2026-11-27 14:00:00.000000"), made in one
        call rather than its formatting of seven fields: the write path binds two times per event."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            return None if value is None else sqlite_datetime(value)

        return process

    def result_processor(self, dialect, coltype):
        """On SQLite, that text read back in one call (the stock path is SQLAlchemy's parser, then
        `process_result_value`): replays read two times per event."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            return None if value is None else parse(value).replace(tzinfo=UTC)

        return process

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Plausible(FunctionElement):
    """A stored time read as NULL when Python could not hold it in every zone (PostgreSQL's
    `infinity`, year 294276): asyncpg would fail the whole query on it. SQLite's text passes as it is."""

    inherit_cache = True

    def __init__(self, column, type_: TypeDecorator) -> None:
        super().__init__(column)
        self.type = type_


@compiles(_Plausible)
def _plausible_sqlite(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Plausible, "postgresql")
def _plausible_postgresql(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    low, high = (f"'{bound.isoformat()}'::timestamptz" for bound in READABLE)
    return f"CASE WHEN {column} BETWEEN {low} AND {high} THEN {column} END"


class MemberTime(UTCDateTime):
    """A time in a table members may write (team mode): one no datetime can hold reads as None, so
    a reader never fails on it, `db verify` names its row and `db rebuild` writes it again."""

    cache_ok = True

    def column_expression(self, colexpr):
        return _Plausible(colexpr, self)

    def result_processor(self, dialect, coltype):
        inner = super().result_processor(dialect, coltype)

        def process(value):
            try:
                found = inner(value) if inner is not None else self.process_result_value(value, dialect)
            except (ValueError, TypeError, OverflowError):  # SQLite text that is no time we wrote
                return None
            return found if found is None or READABLE[0] <= found <= READABLE[1] else None

        return process


class LoggedTime(UTCDateTime):
    """A time in the log, read back whatever a writer stored: a time outside `READABLE` (a BC or
    infinite PostgreSQL timestamp, SQLite text that is no time) comes back as the nearer bound,
    which the checked fold quarantines, instead of failing the whole read (members never remove
    an event)."""

    cache_ok = True

    def column_expression(self, column):
        return _Readable(column)


class _ReadTime(UTCDateTime):
    """What a `LoggedTime` column is selected as: on SQLite, its text clamped as it is parsed."""

    cache_ok = True

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse, (low, high) = datetime.fromisoformat, READABLE

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                at = parse(value).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                return low
            return at if low <= at <= high else min(max(at, low), high)

        return process


class _Readable(FunctionElement):
    """SQL: a logged time clamped into `READABLE` on PostgreSQL (asyncpg cannot decode a BC year);
    SQLite's text is clamped as it is parsed (`_ReadTime`)."""

    inherit_cache = True
    name = "readable"
    type = _ReadTime()


@compiles(_Readable, "postgresql")
def _readable_postgresql(element: _Readable, compiler, **kw) -> str:
    low, high = (f"TIMESTAMPTZ '{bound.isoformat()}'" for bound in READABLE)
    return f"greatest(least({compiler.process(element.clauses, **kw)}, {high}), {low})"


@compiles(_Readable)
def _readable(element: _Readable, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


class Base(DeclarativeBase):
    metadata = MetaData()
    __table__: ClassVar[Table]  # each row class maps one plain table: inserts and updates take it


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(LoggedTime())
    recorded_at: Mapped[datetime] = mapped_column(LoggedTime())
    payload: Mapped[dict] = mapped_column(JSON())

    __table_args__ = (
        Index("ix_events_case_id", "case_id", "id"),
        Index("ix_events_occurred_at", "occurred_at"),
    )


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(Boolean())
    escalated_at: Mapped[datetime] = mapped_column(MemberTime())
    version: Mapped[int] = mapped_column(Integer())
    updated_at: Mapped[datetime] = mapped_column(MemberTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    last_event_id: Mapped[int] = mapped_column(BigInteger())
    state: Mapped[dict] = mapped_column(JSON())
    facts: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)  # metrics.CaseFacts, last event
    listing: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True)  # core.listing, last write
    source_name: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the linked ticket's source
    source_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # and its id there

    __table_args__ = (
        Index("ux_cases_source", "source_name", "source_id", unique=True),
        Index("ix_cases_open", "is_open", "severity"),
        Index("ix_cases_last_event_id", "last_event_id"),
        Index("ix_cases_escalated_at", "escalated_at"),
    )


class PersonRow(Base):
    __tablename__ = "people"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    tz: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer())
    last_event_id: Mapped[int] = mapped_column(BigInteger())


class PolicyRow(Base):
    __tablename__ = "policies"

    version: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    toml: Mapped[str] = mapped_column(Text())
    applied_at: Mapped[datetime] = mapped_column(MemberTime())
    applied_by: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(BigInteger())


class CounterRow(Base):
    """Sequences we number ourselves (case ids), incremented inside the writing transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer())


class LoginRow(Base):
    """Team mode: which roster person a PostgreSQL login acts as. PostgreSQL's own trigger writes it
    from `login_granted` and `person_renamed` events and reads it to stamp `actor`; members may only
    read it (migrations 0002 and 0006)."""

    __tablename__ = "logins"

    login: Mapped[str] = mapped_column(String(63), primary_key=True)
    person: Mapped[str] = mapped_column(String(200))
    last_event_id: Mapped[int] = mapped_column(BigInteger())


class ShiftRow(Base):
    """Who led the floor from when, in which zone: one row per `shift_started` or `handoff_accepted`
    event (keyed by it). The current shift is the latest to start."""

    __tablename__ = "shifts"

    event_id: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    lead: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(MemberTime())
    handoff_id: Mapped[int | None] = mapped_column(Integer())


class HandoffRow(Base):
    """A prepared handoff: its packet as it was made, and whether it was accepted or replaced."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    prepared_at: Mapped[datetime] = mapped_column(MemberTime())
    prepared_by: Mapped[str] = mapped_column(String(200))
    to_lead: Mapped[str] = mapped_column(String(200))
    packet: Mapped[dict] = mapped_column(JSON())
    accepted_at: Mapped[datetime | None] = mapped_column(MemberTime())
    superseded_by: Mapped[int | None] = mapped_column(Integer())
    last_event_id: Mapped[int] = mapped_column(BigInteger())


class SourceStateRow(Base):
    """Where each tracker sync stands: its cursor (saved in the transaction of the page it follows)
    and how its last pass went, which the board's status line shows. Never a secret."""

    __tablename__ = "source_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text(), nullable=True)  # the tracker's, or a time for Jira
    last_success: Mapped[datetime | None] = mapped_column(MemberTime(), nullable=True)
    failure: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the failing pass's short reason
    failing_since: Mapped[datetime | None] = mapped_column(MemberTime(), nullable=True)


class OutboxRow(Base):
    """Write-back deliveries: one per event that goes to a ticket, queued in that event's
    transaction and sent by a sender (storage.outbox). Never a secret: `last_error` is the
    client's scrubbed one-line reason."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int] = mapped_column(BigInteger(), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    ticket: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # update (public reply), note (internal comment) or owner (assignee)
    body: Mapped[str] = mapped_column(Text())
    marker: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # queued, sent, failed, dead, skipped (an owner replaced)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)  # sends started (each committed first)
    next_try_at: Mapped[datetime] = mapped_column(MemberTime())
    claimed_until: Mapped[datetime | None] = mapped_column(MemberTime(), nullable=True)  # a sender's lease
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    comment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(MemberTime(), nullable=True)
    alerted: Mapped[bool] = mapped_column(Boolean(), default=False)  # the lead was told it failed

    __table_args__ = (
        Index("ix_outbox_case_id", "case_id"),
        Index("ix_outbox_due", "state", "next_try_at"),
    )


events = EventRow.__table__
cases = CaseRow.__table__
people = PersonRow.__table__
policies = PolicyRow.__table__
counters = CounterRow.__table__
logins = LoginRow.__table__
shifts = ShiftRow.__table__
handoffs = HandoffRow.__table__
source_states = SourceStateRow.__table__
outbox = OutboxRow.__table__
