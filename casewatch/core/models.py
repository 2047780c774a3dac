"""Domain models shared by every layer. Timestamps are timezone-aware UTC."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from casewatch.core.errors import InvalidInput

BACKFILL_THRESHOLD = timedelta(minutes=5)
READABLE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))
"""The times a logged event is read as at most (storage clamps what lies beyond: BC, infinite, year
10000, not a time at all), a day inside Python's range so that any zone can show them; the fold
quarantines an event read at either bound."""


class ParsedEnum(StrEnum):
    """A StrEnum read from what a person typed: forgiving about case and spaces, and when the text
    names no member, one line saying what was expected."""

    @classmethod
    def _normalise(cls, text: str) -> str:
        return text.strip().lower()

    @classmethod
    def parse(cls, text: str) -> Self:
        try:
            return cls(cls._normalise(text))
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise InvalidInput(f"unknown {cls._noun()} {text!r}: expected one of {choices}") from None

    @classmethod
    def _noun(cls) -> str:
        """What errors call a value of this enum."""
        return cls.__name__.lower()


class Severity(ParsedEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @classmethod
    def _normalise(cls, text: str) -> str:
        value = text.strip().upper()
        return f"SEV{value}" if value.isdigit() else value


class Status(ParsedEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class Role(ParsedEnum):
    """Roster roles; they decide what a person may do (see core.permissions)."""

    LEAD = "lead"
    AGENT = "agent"
    SPECIALIST = "specialist"
    VIEWER = "viewer"


_ROUTE = re.compile(r"^(support|incident|specialist:[a-z0-9][a-z0-9_-]*)$")


def parse_route(text: str) -> str:
    """Routes are `support`, `incident` or `specialist:<team>` (team in lower-case kebab)."""
    value = text.strip().lower() if isinstance(text, str) else ""
    if not _ROUTE.match(value):
        raise InvalidInput(f"unknown route {text!r}: expected support, incident or specialist:<team>")
    return value


Route = Annotated[str, AfterValidator(parse_route)]


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except Exception:
        raise InvalidInput(f"unknown time zone {name!r}: expected an IANA name such as Europe/Berlin") from None
    return name


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    role: Role
    tz: str = "UTC"
    team: str | None = None
    display_name: str | None = None  # free text beside the handle, e.g. "Dana Scully"


# The small value types inside a Case are slotted dataclasses rather than models: a board holds
# tens of thousands of them, and a pydantic model costs a dict and a set per instance.
# Pydantic still validates them as fields of Case.


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone involved on a case, with the case role they hold there (e.g. incident-commander)."""

    name: str
    role: str


class EvidenceState(ParsedEnum):
    """Where one checklist item stands. `done` and `na` settle it; `na` needs a reason."""

    MISSING = "missing"
    PARTIAL = "partial"
    DONE = "done"
    NA = "na"

    @classmethod
    def _noun(cls) -> str:
        return "evidence state"

    @property
    def settled(self) -> bool:
        return self in (EvidenceState.DONE, EvidenceState.NA)


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """What a case holds for one checklist item: its state and text, and who last changed it when.
    `version` counts the changes to this item alone, so edits to different items never conflict."""

    key: str
    state: EvidenceState = EvidenceState.MISSING
    value: str = ""
    reason: str = ""
    by: str | None = None
    at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class CaseReturn:
    """A receiving team sent the case back to support because the packet lacked context."""

    by: str
    at: datetime
    reason: str
    keys: tuple[str, ...]
    from_route: str


@dataclass(frozen=True, slots=True)
class CaseReview:
    """The post-case review recorded when a case was closed: what the metrics and `reviews` read."""

    by: str
    at: datetime
    final_severity: Severity
    avoidable: bool
    cause: str | None
    lesson: str
    notes: str


@dataclass(frozen=True, slots=True)
class SourceLink:
    """The tracker ticket a case was imported from: the source's name in the config file, its kind
    (csv, zendesk, jira), the ticket's id there and its URL where one is known. (source, id) names
    at most one case (a unique index on both backends)."""

    name: str
    kind: str
    id: str
    url: str | None = None

    @property
    def key(self) -> str:
        """The ticket as people say it: its id when it is a key (`SUP-42`), else the source's name
        before a numeric id (`ZD-48213` for ticket 48213 of source zd)."""
        return f"{self.name.upper()}-{self.id}" if self.id.isdigit() else self.id

    def as_json(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.kind, "id": self.id, "url": self.url}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DIGITS = re.compile(r"[0-9]+")
WEB_ADDRESS = re.compile(r"https?://[!-~]+")
"""A ticket URL casewatch keeps: http(s), printable ASCII, no spaces (never `javascript:`)."""


def link_key(source: object, ticket_id: object) -> tuple[str, str]:
    """Which ticket a link names, whatever its spelling: the source's name and the id in ASCII lower
    case, a numeric id without leading zeros (`ZD`/`zd`, `00123`/`123` are one ticket). The server's
    trigger (migration 0016) and the link lookups compute the same."""
    name, key = str(source).translate(_ASCII_LOWER), str(ticket_id)
    if _DIGITS.fullmatch(key):
        return name, key.lstrip("0") or "0"
    return name, key.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class SeverityStep:
    """A severity change, kept on the case: a shorter window runs from the change, not from before it."""

    at: datetime
    before: Severity
    after: Severity


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed-open span of time; `end` is None while it is still open."""

    start: datetime
    end: datetime | None = None


class Case(BaseModel):
    """The current state of one escalated case: a fold of its events (see core.projection)."""

    id: str
    title: str
    customer: str
    summary: str = ""
    severity: Severity
    status: Status = Status.NEW
    route: str
    internal_owner: str | None = None
    comms_owner: str | None = None
    route_authority: str | None = None
    participants: list[Participant] = Field(default_factory=list)
    escalated_at: datetime
    owner_named_at: datetime | None = None
    last_customer_update_at: datetime | None = None
    next_update_override_s: Annotated[int, Field(ge=60, le=30 * 86_400)] | None = None  # as parse_duration allows
    last_review_at: datetime | None = None
    waiting: list[Interval] = Field(default_factory=list)
    severity_steps: list[SeverityStep] = Field(default_factory=list)  # in history order
    resolved_at: datetime | None = None
    route_review_needed: bool = False
    evidence: dict[str, EvidenceRecord] = Field(default_factory=dict)  # by item key; template in the policy
    returned: CaseReturn | None = None  # sent back for missing context, until the packet is complete again
    gate_overrides: int = 0  # route changes a lead passed through the evidence gate
    review: CaseReview | None = None  # the latest post-case review (`case close`)
    source: SourceLink | None = None  # the tracker ticket it was imported from; None when typed in by hand
    source_seen: dict[str, str] = Field(default_factory=dict)  # the tracker's values at its last import
    version: int = 0
    updated_at: datetime
    updated_by: str
    others_version: int = 0  # the latest change by anyone but `updated_by` (0: none), what unread marks
    others_at: datetime | None = None  # ask of a case whose last change was the viewer's own (core.unread)
    last_occurred_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status is not Status.RESOLVED

    def participant_roles(self) -> set[str]:
        return {p.role for p in self.participants}


class EventType(StrEnum):
    CASE_CREATED = "case_created"
    OWNER_ASSIGNED = "owner_assigned"
    COMMS_ASSIGNED = "comms_assigned"
    AUTHORITY_SET = "authority_set"
    PARTICIPANT_INVOLVED = "participant_involved"
    SEVERITY_CHANGED = "severity_changed"
    ROUTE_CHANGED = "route_changed"
    CUSTOMER_UPDATE_LOGGED = "customer_update_logged"
    REVIEW_LOGGED = "review_logged"
    STATUS_CHANGED = "status_changed"
    CASE_REOPENED = "case_reopened"
    NOTE_ADDED = "note_added"
    EVIDENCE_SET = "evidence_set"
    CASE_RETURNED = "case_returned"
    CASE_CLOSED = "case_closed"
    PERSON_ADDED = "person_added"
    PERSON_RENAMED = "person_renamed"
    POLICY_APPLIED = "policy_applied"
    SHIFT_STARTED = "shift_started"
    HANDOFF_PREPARED = "handoff_prepared"
    HANDOFF_ACCEPTED = "handoff_accepted"
    LOGIN_GRANTED = "login_granted"
    TITLE_CHANGED = "title_changed"
    TICKET_SEEN = "ticket_seen"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"


@dataclass(frozen=True)
class FloorState:
    """What the events outside any case build: the roster, the policy text in force, the shift lead,
    and (team mode) which roster person each database login acts as."""

    roster: Mapping[str, Person] = field(default_factory=dict)
    policy_source: str | None = None
    shift_lead: str | None = None
    logins: Mapping[str, str] = field(default_factory=dict)


class Event(BaseModel):
    """One entry of the append-only log. `occurred_at` may be backfilled; `recorded_at` is real time."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    case_id: str | None = None
    type: EventType
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def backfilled(self) -> bool:
        return self.recorded_at - self.occurred_at > BACKFILL_THRESHOLD


def utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; naive datetimes are rejected as ambiguous."""
    if value.tzinfo is None:
        raise InvalidInput(f"timestamp {value.isoformat()} has no time zone; add Z or an offset")
    return value.astimezone(UTC)


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 with a zone (Z or ±hh:mm), as accepted by --at and --as-of."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"bad timestamp {text!r}: expected ISO-8601 such as 2026-03-06T20:00:00Z") from None
    return utc(value)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_instant_or_day(text: str) -> datetime | date:
    """A window edge (--since, --until): an instant as `parse_timestamp` reads it, or a bare date
    ("2026-11-01"), which the command reads as the midnight starting that day in the viewer's zone."""
    stripped = text.strip()
    if _DAY.fullmatch(stripped):
        try:
            return date.fromisoformat(stripped)
        except ValueError:
            raise InvalidInput(f"bad date {text!r}: expected a real day, YYYY-MM-DD") from None
    return parse_timestamp(text)


def day_start(day: date, zone: str) -> datetime:
    """The first instant of `day` in `zone`, in UTC (where midnight is skipped, the hour after)."""
    return utc(datetime.combine(day, time(), tzinfo=ZoneInfo(zone)))


def iso_z(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a trailing Z, as the JSON output promises."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
