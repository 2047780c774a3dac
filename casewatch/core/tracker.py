"""Tracker sources: a ticket as casewatch reads it from any tracker, and a source's settings (its
`[sources.NAME]` table in the config file) with the default mapping tables of its kind.

Every adapter (the CSV reader in `casewatch.sources`, the live syncs that follow) turns what its
tracker gives into `Ticket`s; `core.ticket_import` decides what each one changes on the board.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from casewatch.core.models import Person, Role, Severity, Status, check_zone
from casewatch.core.text import check_handle
from casewatch.core.toml_file import TomlTable, problem, rule, string
from casewatch.core.write_back import WriteBack

KINDS = ("csv", "zendesk", "jira")
LIVE = ("zendesk", "jira")  # the kinds a sync reads and write-back writes to

_ZENDESK_SEVERITY = {"urgent": Severity.SEV1, "high": Severity.SEV2, "normal": Severity.SEV3, "low": Severity.SEV4}
_JIRA_SEVERITY = {"highest": Severity.SEV1, "high": Severity.SEV2, "medium": Severity.SEV3, "low": Severity.SEV4,
                  "lowest": Severity.SEV4}
_ZENDESK_STATUS = {"new": Status.NEW, "open": Status.INVESTIGATING, "pending": Status.WAITING_ON_CUSTOMER,
                   "hold": Status.INVESTIGATING, "on-hold": Status.INVESTIGATING, "solved": Status.RESOLVED,
                   "closed": Status.RESOLVED}
_JIRA_STATUS = {"open": Status.NEW, "to do": Status.NEW, "in progress": Status.INVESTIGATING,
                "waiting for customer": Status.WAITING_ON_CUSTOMER, "pending": Status.WAITING_ON_CUSTOMER,
                "resolved": Status.RESOLVED, "done": Status.RESOLVED, "closed": Status.RESOLVED}

DEFAULT_SEVERITY: dict[str, dict[str, Severity]] = {
    "zendesk": _ZENDESK_SEVERITY, "jira": _JIRA_SEVERITY,
    "csv": _JIRA_SEVERITY | _ZENDESK_SEVERITY | {"critical": Severity.SEV1},
}
"""Each kind's priority -> severity table (matched ignoring case); a source's `severity` table
overrides entries of it. A CSV can come from any tracker: it knows both trackers' words."""

DEFAULT_STATUS: dict[str, dict[str, Status]] = {
    "zendesk": _ZENDESK_STATUS, "jira": _JIRA_STATUS, "csv": _JIRA_STATUS | _ZENDESK_STATUS,
}
"""Each kind's status -> status table (matched ignoring case); a status in none leaves the case's as it is."""


def _kind(value: object) -> str:
    text = string(value)
    if text not in KINDS:
        raise ValueError(f"unknown kind {text!r}: expected one of {', '.join(KINDS)}")
    return text


def _severity(value: object) -> Severity:
    return Severity.parse(string(value))


def _status(value: object) -> Status:
    return Status.parse(string(value))


def _handle(value: object) -> str:
    return check_handle(string(value), "handle")


def _zone(value: object) -> str:
    return check_zone(string(value))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _tracker_url(value: object) -> str:
    """A tracker's base address: https, or plain http on a loopback address (the tests' servers)."""
    text = string(value).rstrip("/")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        host = None
    if not host or parts.username is not None or parts.query or parts.fragment:
        raise ValueError("must be a web address such as https://acme.zendesk.com")
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK):
        return text
    raise ValueError("must start with https:// (plain http only on 127.0.0.1, localhost or [::1])")


def _env_name(value: object) -> str:
    text = string(value)
    if not text.replace("_", "").isalnum() or text[0].isdigit():
        raise ValueError("must be the name of an environment variable, such as CASEWATCH_ZD_TOKEN")
    return text


_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,127}")


def _assignee_id(value: object) -> str:
    """A tracker user's id as the config gives it: a Zendesk user id (a number, written as one or
    quoted) or a Jira accountId (letters, digits, ':', '-', '_'); always kept as text."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value):
        return value
    raise ValueError("must be the tracker's id of that person: a Zendesk user id such as 12345, or a Jira "
                     "accountId such as \"5b10ac8d82e05b22cc7d4ef5\"")


def _ticket_url(value: object) -> str:
    text = string(value)
    if "{id}" not in text or not text.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL with {id} where the ticket's id goes")
    return text


class SourceSettings(TomlTable):
    """One `[sources.NAME]` table. Secrets (API tokens, for the live syncs) are never stored here
    or anywhere in the database: only the name of where to read them."""

    kind: Annotated[str, rule(_kind)]
    default_severity: Annotated[Severity | None, rule(_severity)] = None  # for an empty or unmapped priority
    severity: dict[str, Annotated[Severity, rule(_severity)]] = Field(default_factory=dict)
    status: dict[str, Annotated[Status, rule(_status)]] = Field(default_factory=dict)
    people: dict[str, Annotated[str, rule(_handle)]] = Field(default_factory=dict)  # tracker user -> handle
    tz: Annotated[str | None, rule(_zone)] = None  # for times without a zone (default: the viewer's)
    ticket_url: Annotated[str | None, rule(_ticket_url)] = None  # e.g. "https://acme.zendesk.com/agent/tickets/{id}"
    # The live syncs (kinds zendesk and jira): where, as whom, and what makes a ticket an escalation.
    url: Annotated[str | None, rule(_tracker_url)] = None
    email: Annotated[str | None, rule(string)] = None
    token_env: Annotated[str | None, rule(_env_name)] = None  # the variable holding the API token
    token_file: Annotated[str | None, rule(string)] = None  # or a file only its owner may read
    escalated_tags: list[Annotated[str, rule(string)]] = Field(default_factory=lambda: ["escalated"])  # zendesk
    jql: Annotated[str | None, rule(string)] = None  # jira: the escalations' query
    # handle -> the tracker's id of that person (Zendesk user id, Jira accountId): where write-back's owner goes
    assignees: dict[Annotated[str, rule(_handle)], Annotated[str, rule(_assignee_id)]] = Field(default_factory=dict)
    write_back: WriteBack = Field(default_factory=WriteBack)  # what reaches the tickets (all off by default)

    @field_validator("assignees")
    @classmethod
    def _zendesk_ids_are_numbers(cls, assignees: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        wrong = next((handle for handle, user in assignees.items() if not user.isdigit()), None)
        if info.data.get("kind") == "zendesk" and wrong is not None:
            raise problem(f"{wrong}: a Zendesk assignee is a user id, a number such as 12345")
        return assignees

    @field_validator("write_back")
    @classmethod
    def _owner_needs_assignees(cls, write_back: WriteBack, info: ValidationInfo) -> WriteBack:
        """`owner = true` with no assignees table would send nothing, ever: said at load instead."""
        if write_back.owner and "assignees" in info.data and not info.data["assignees"]:
            raise problem("owner = true needs an assignees table beside it (`[sources.NAME.assignees]`, "
                          "handle = the tracker's user id)")
        return write_back


def _folded(table: Mapping[str, object]) -> dict[str, object]:
    return {key.strip().casefold(): value for key, value in table.items()}


@dataclass(frozen=True)
class Source:
    """A configured source, its tables merged with its kind's defaults and keyed ignoring case."""

    name: str
    kind: str
    severities: Mapping[str, Severity]
    statuses: Mapping[str, Status]
    people: Mapping[str, str]
    default_severity: Severity | None = None
    tz: str | None = None
    ticket_url: str | None = None

    @classmethod
    def of(cls, name: str, settings: SourceSettings) -> Source:
        return cls(name=name, kind=settings.kind,
                   severities=_folded(DEFAULT_SEVERITY[settings.kind] | settings.severity),  # type: ignore[arg-type]
                   statuses=_folded(DEFAULT_STATUS[settings.kind] | settings.status),  # type: ignore[arg-type]
                   people=_folded(settings.people),  # type: ignore[arg-type]
                   default_severity=settings.default_severity, tz=settings.tz, ticket_url=settings.ticket_url)

    def severity(self, priority: str) -> Severity | None:
        """The severity of a tracker priority; the default for an empty or unmapped one (maybe none)."""
        return self.severities.get(priority.strip().casefold(), self.default_severity)

    def status(self, status: str) -> Status | None:
        return self.statuses.get(status.strip().casefold())

    def person(self, user: str, roster: Mapping[str, Person]) -> str | None:
        """The roster handle a tracker user maps to (by the `people` table, else a handle the user
        already is), when that person may own a case; else None."""
        handle = self.people.get(user.strip().casefold()) or user.strip()
        person = roster.get(handle)
        return handle if person is not None and person.role is not Role.VIEWER else None

    def url(self, ticket_id: str) -> str | None:
        return self.ticket_url.replace("{id}", ticket_id) if self.ticket_url else None


class Ticket(BaseModel):
    """A tracker ticket as an adapter read it, its text as the tracker wrote it. `line` is where
    it starts in its file (0 when it came from no file). Built on first use: only imports and syncs
    read tickets."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    line: int = 0
    id: str
    title: str = ""
    customer: str = ""
    priority: str = ""
    status: str = ""
    assignee: str = ""
    created_at: datetime | None = None
    escalated_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None

    def same_as(self, other: Ticket) -> bool:
        """The same ticket with the same values, wherever each was read."""
        return self.model_dump(exclude={"line"}) == other.model_dump(exclude={"line"})


@dataclass(frozen=True)
class Refusal:
    """A ticket (a row) that cannot be imported, and why."""

    line: int
    reason: str

    def text(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason
