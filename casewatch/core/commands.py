"""Commands: what a caller asks for. The CLI, the board and the demo seeder all build these.

A command names the case by id and, when it was made against a case the caller saw,
`expect_version`: a mismatch is a conflict instead of a silent overwrite.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from casewatch.core.clocks import ClockKind
from casewatch.core.durations import parse_duration
from casewatch.core.models import EvidenceState, Role, Route, Severity, SourceLink, Status, check_zone
from casewatch.core.text import (
    CaseRole,
    Customer,
    DisplayName,
    EvidenceValue,
    Handle,
    HandoffNote,
    Lesson,
    Login,
    LongText,
    NonEmpty,
    NoteText,
    OptionalReason,
    Reason,
    ReviewNotes,
    SourceName,
    Summary,
    Team,
    Title,
    TrackerCustomer,
    TrackerTitle,
)

AlertState = Literal["warning", "breached"]
"""The clock states that alert (core.alerts.ALERTING)."""


class Command(BaseModel):
    """Base of every command: immutable data; its rule is its entry in `rules.RULES`. Each command's
    validator is built when that command is first made: a `casewatch` process makes one or two of
    them, and building all of them at import cost every command 9 ms."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class OnCase(Command):
    """Base of the commands that act on one existing case. `depends_on_state`: whether the caller
    decided it from the case as they saw it (an owner, a severity, a status). One that does not (a
    note) meets a newer version without a conflict: it is decided again against that version."""

    depends_on_state: ClassVar[bool] = True
    case_id: str
    expect_version: int | None = None
    via: SourceName | None = None  # an import applying what changed in this tracker source (never typed)

    @field_validator("case_id")
    @classmethod
    def _normalise_id(cls, value: str) -> str:
        return value.strip().upper()


class NewCase(Command):
    kind: Literal["new"] = "new"
    title: Title
    customer: Customer
    severity: Severity
    summary: Summary = ""


class ImportTicket(Command):
    """A tracker ticket becomes a case linked to it. Its text is the tracker's, kept as given (cut
    to the limits beforehand); `seen` is what the tracker said, which later imports compare with."""

    kind: Literal["import_ticket"] = "import_ticket"
    title: TrackerTitle
    customer: TrackerCustomer
    severity: Severity
    source: SourceLink
    seen: dict[str, str] = {}


OPENS_CASE = (NewCase, ImportTicket)
"""The commands that open a case (the store reserves its id)."""


class SeeTicket(OnCase):
    """An import records the tracker's values of a linked case's ticket as it last saw them."""

    depends_on_state: ClassVar[bool] = False
    kind: Literal["ticket_seen"] = "ticket_seen"
    seen: dict[str, str]


class Retitle(OnCase):
    """The case's title changes (the tracker's subject changed)."""

    kind: Literal["title"] = "title"
    title: TrackerTitle


class Assign(OnCase):
    kind: Literal["assign"] = "assign"
    name: str | None  # None: nobody (the board's undo of "take it" on a case that had no owner)


class AssignComms(OnCase):
    kind: Literal["comms"] = "comms"
    name: str | None  # None: nobody (the board's undo of `c` on a case that had no comms owner)


class SetAuthority(OnCase):
    kind: Literal["authority"] = "authority"
    name: str


class Involve(OnCase):
    depends_on_state: ClassVar[bool] = False  # someone joins whoever owns it; a second join is refused anyway
    kind: Literal["involve"] = "involve"
    name: str
    role: CaseRole | None = None


class ChangeSeverity(OnCase):
    kind: Literal["severity"] = "severity"
    severity: Severity
    reason: Reason


class ChangeRoute(OnCase):
    kind: Literal["route"] = "route"
    route: Route
    reason: Reason
    override: OptionalReason | None = None  # a lead passing the evidence gate says why


class CustomerUpdate(OnCase):
    kind: Literal["update"] = "update"
    known: LongText
    investigating: LongText
    next_milestone: LongText
    next_update_in: str | None = None

    @field_validator("next_update_in")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def next_update_delta(self) -> timedelta | None:
        return parse_duration(self.next_update_in) if self.next_update_in else None


class Review(OnCase):
    depends_on_state: ClassVar[bool] = False  # a review took place, whatever changed since
    kind: Literal["review"] = "review"
    notes: LongText


class ChangeStatus(OnCase):
    kind: Literal["status"] = "status"
    status: Status


class Reopen(OnCase):
    kind: Literal["reopen"] = "reopen"


class CloseCase(OnCase):
    """Resolve and review a case in one step: the post-case review the metrics count."""

    kind: Literal["close"] = "close"
    final_severity: Severity
    avoidable: bool
    cause: str | None = None  # one of the policy's causes
    lesson: Lesson = ""  # what would have prevented the escalation or made it faster
    notes: ReviewNotes = ""


class Note(OnCase):
    depends_on_state: ClassVar[bool] = False
    kind: Literal["note"] = "note"
    text: NoteText


class SetEvidence(OnCase):
    """Set one checklist item. `value`/`reason` None keep what is there. `expect_item_version` is the
    item's version the editor started from: another change to the same item meanwhile is a conflict,
    while changes to other items of the case are not."""

    kind: Literal["evidence"] = "evidence"
    key: NonEmpty
    state: EvidenceState
    value: EvidenceValue | None = None
    reason: OptionalReason | None = None
    expect_item_version: int | None = None


class ReturnCase(OnCase):
    """A receiving team sends the case back to support: these items lacked what it needs."""

    kind: Literal["return"] = "return"
    missing: tuple[str, ...]
    reason: Reason


class AcknowledgeAlert(OnCase):
    """The shift lead has a case's clock alert in hand: every board's timeline says so (team mode)."""

    depends_on_state: ClassVar[bool] = False  # whatever changed since, the lead has seen the alert
    kind: Literal["ack"] = "ack"
    clock: ClockKind
    state: AlertState


class AddPerson(Command):
    kind: Literal["add_person"] = "add_person"
    name: Handle
    role: Role
    tz: str = "UTC"
    team: Team | None = None
    display_name: DisplayName | None = None

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_zone(value)


class RenamePerson(Command):
    """Give someone on the roster a new name (a handle), e.g. to fix one from before names were handles."""

    kind: Literal["rename_person"] = "rename_person"
    old: str
    new: Handle


class GrantLogin(Command):
    """Team mode: the database login `login` acts as `name`, who is already on the roster."""

    kind: Literal["grant_login"] = "grant_login"
    name: str
    login: Login


class ApplyPolicy(Command):
    kind: Literal["apply_policy"] = "apply_policy"
    toml: str
    source_name: str = "policy"


class StartShift(Command):
    """The acting lead leads the floor from now, in `tz` (default: their roster zone)."""

    kind: Literal["start_shift"] = "start_shift"
    tz: str | None = None

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return check_zone(value) if value else None


class PrepareHandoff(Command):
    """The outgoing shift lead hands the floor to `to`: a packet of every open case, with notes."""

    kind: Literal["handoff_prepare"] = "handoff_prepare"
    to: NonEmpty
    note: HandoffNote = ""
    case_notes: dict[str, HandoffNote] = {}

    @field_validator("case_notes")
    @classmethod
    def _case_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return {case_id.strip().upper(): note for case_id, note in value.items() if note}


class AcceptHandoff(Command):
    """The named incoming lead takes the shift over."""

    kind: Literal["handoff_accept"] = "handoff_accept"
    handoff_id: int

