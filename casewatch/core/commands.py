"""Commands: what a caller asks for. The CLI, the board and the demo seeder all build these.

A command names the case by id and, when it was made against a case the caller saw,
`expect_version`: a mismatch is a conflict instead of a silent overwrite.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from casewatch.core.durations import parse_duration
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Role, Route, Severity, Status, check_team, check_zone


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _required(text: str, what: str) -> str:
    value = text.strip()
    if not value:
        raise InvalidInput(f"{what} must not be empty")
    return value


class OnCase(_Command):
    """Base of the commands that act on one existing case."""

    case_id: str
    expect_version: int | None = None

    @field_validator("case_id")
    @classmethod
    def _normalise_id(cls, value: str) -> str:
        return value.strip().upper()


class NewCase(_Command):
    kind: Literal["new"] = "new"
    title: str
    customer: str
    severity: Severity
    summary: str = ""

    @field_validator("title", "customer")
    @classmethod
    def _not_empty(cls, value: str, info) -> str:
        return _required(value, info.field_name)


class Assign(OnCase):
    kind: Literal["assign"] = "assign"
    name: str


class AssignComms(OnCase):
    kind: Literal["comms"] = "comms"
    name: str


class SetAuthority(OnCase):
    kind: Literal["authority"] = "authority"
    name: str


class Involve(OnCase):
    kind: Literal["involve"] = "involve"
    name: str
    role: str | None = None


class ChangeSeverity(OnCase):
    kind: Literal["severity"] = "severity"
    severity: Severity
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _required(value, "reason")


class ChangeRoute(OnCase):
    kind: Literal["route"] = "route"
    route: Route
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _required(value, "reason")


class CustomerUpdate(OnCase):
    kind: Literal["update"] = "update"
    known: str
    investigating: str
    next_milestone: str
    next_update_in: str | None = None

    @field_validator("known", "investigating", "next_milestone")
    @classmethod
    def _not_empty(cls, value: str, info) -> str:
        return _required(value, info.field_name.replace("_", " "))

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
    kind: Literal["review"] = "review"
    notes: str

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str) -> str:
        return _required(value, "notes")


class ChangeStatus(OnCase):
    kind: Literal["status"] = "status"
    status: Status


class Reopen(OnCase):
    kind: Literal["reopen"] = "reopen"


class Note(OnCase):
    kind: Literal["note"] = "note"
    text: str

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _required(value, "note")


class SetEvidence(OnCase):
    kind: Literal["evidence"] = "evidence"
    key: str
    done: bool = True


class AddPerson(_Command):
    kind: Literal["add_person"] = "add_person"
    name: str
    role: Role
    tz: str = "UTC"
    team: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _required(value, "name")

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("team")
    @classmethod
    def _team(cls, value: str | None) -> str | None:
        return check_team(value) if value else None


class ApplyPolicy(_Command):
    kind: Literal["apply_policy"] = "apply_policy"
    toml: str
    source_name: str = "policy"


class StartShift(_Command):
    kind: Literal["start_shift"] = "start_shift"


CaseCommand = (
    Assign | AssignComms | SetAuthority | Involve | ChangeSeverity | ChangeRoute
    | CustomerUpdate | Review | ChangeStatus | Reopen | Note | SetEvidence
)
Command = Annotated[NewCase | CaseCommand | AddPerson | ApplyPolicy | StartShift, Field(discriminator="kind")]
