"""A tracker's CSV export read into tickets: Zendesk's, Salesforce's case report, Jira's, or any
other with `--map COLUMN=field`.

The header row is matched ignoring case against the columns those exports name. A row that
cannot be a ticket (no id, a date that is no date, an id twice with different values) is refused
with its line; text is kept exactly as the tracker wrote it. A file that is not UTF-8 or not CSV
is one error, and nothing of it is read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.text import visible
from casewatch.core.tracker import Refusal, Ticket

FIELDS = ("id", "title", "customer", "severity", "status", "owner", "escalated_at", "created_at", "updated_at", "url")
"""What a column can hold (`--map COLUMN=field`); `severity` is the tracker's priority."""

KNOWN_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ticket id", "case number", "issue key"),
    "title": ("subject", "summary", "title"),
    "customer": ("organization", "account name", "customer", "organization name"),
    "severity": ("priority",),
    "status": ("status",),
    "owner": ("assignee", "case owner", "owner"),
    "escalated_at": ("escalated at",),
    "created_at": ("created at", "date/time opened", "created", "opened date"),
    "updated_at": ("updated at", "updated", "last modified date"),
    "url": ("url", "ticket url", "link"),
}
"""The headers of Zendesk's CSV export, Salesforce's case report and Jira's CSV export, by field."""

MAX_ID = 200
_DATES = ("escalated_at", "created_at", "updated_at")
_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y",
            "%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p")
"""Besides ISO 8601 (`2026-11-30 10:31`, `2026-11-30T10:31:00+01:00`): Salesforce's US
`11/30/2026 10:31 AM`, and Jira's `30/Nov/26 10:31 AM`."""
_TICKET_FIELD = {"severity": "priority", "owner": "assignee"}
_WEB_ADDRESS = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces


@dataclass
class CsvTickets:
    """What a file held: its tickets (each id once), the rows refused, and its header row."""

    tickets: list[Ticket] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: int = 0


def parse_map(text: str) -> tuple[str, str]:
    """`COLUMN=field` (the column may itself hold '='): (column, field)."""
    column, sep, name = text.rpartition("=")
    name = name.strip().lower()
    if not sep or not column.strip():
        raise InvalidInput(f"--map {text!r}: expected COLUMN=field, e.g. \"Ticket #=id\"")
    if name not in FIELDS:
        raise InvalidInput(f"--map {text!r}: unknown field {name!r}: expected one of {', '.join(FIELDS)}")
    return column.strip(), name


def read_csv(path: Path, maps: Iterable[tuple[str, str]] = (), tz: str = "UTC") -> CsvTickets:
    """The tickets of the CSV file at `path`; a time without a zone is read in `tz`."""
    text = _decoded(path)
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # a field may be as long as its file (then cut)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader, None)
        if not headers or not any(h.strip() for h in headers):
            raise InvalidInput(f"{path}: no header row: the file is empty")
        columns = _columns(path, headers, dict(maps))
        return _rows(reader, headers, columns, ZoneInfo(tz))
    except csv.Error as exc:
        raise InvalidInput(f"{path}:{reader.line_num}: not CSV: {exc}") from None


def _decoded(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                           "export the file as UTF-8") from None
    if "\x00" in text:
        raise InvalidInput(f"{path}: not CSV (it holds NUL bytes)")
    return text


def _columns(path: Path, headers: list[str], maps: Mapping[str, str]) -> dict[str, int]:
    """Each field's column: `--map` first, then the known headers (the first column of a name)."""
    folded = [h.strip().casefold() for h in headers]
    columns: dict[str, int] = {}
    for name, known in KNOWN_HEADERS.items():
        found = next((folded.index(header) for header in known if header in folded), None)
        if found is not None:
            columns[name] = found
    for column, name in maps.items():
        if column.casefold() not in folded:
            raise InvalidInput(f"--map {column}={name}: {path} has no column {column!r} (its headers: "
                               f"{_listed(headers)})")
        columns[name] = folded.index(column.casefold())
    if "id" not in columns:
        raise InvalidInput(f"{path}: no id column among its headers ({_listed(headers)}); name it with "
                           "--map COLUMN=id")
    return columns


def _listed(headers: list[str]) -> str:
    return ", ".join(repr(visible(h)) for h in headers)


def _rows(reader, headers: list[str], columns: dict[str, int], zone: ZoneInfo) -> CsvTickets:
    found = CsvTickets(headers=headers)
    first_seen: dict[str, Ticket] = {}
    line = reader.line_num + 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        found.rows += 1
        ticket = _ticket(start, row, columns, zone)
        if isinstance(ticket, Refusal):
            found.refused.append(ticket)
            continue
        earlier = first_seen.get(ticket.id)
        if earlier is None:
            first_seen[ticket.id] = ticket
            found.tickets.append(ticket)
        elif not earlier.same_as(ticket):
            found.refused.append(Refusal(start, f"id {visible(ticket.id)!r} again (first on line {earlier.line}), "
                                                "with different values"))
    return found


def _ticket(line: int, row: list[str], columns: dict[str, int], zone: ZoneInfo) -> Ticket | Refusal:
    values = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
    ticket_id = values["id"].strip()
    if not ticket_id:
        return Refusal(line, "no id")
    if len(ticket_id) > MAX_ID:
        return Refusal(line, f"its id is longer than {MAX_ID} characters")
    fields: dict[str, object] = {"line": line, "id": ticket_id}
    for name in _DATES:
        text = values.get(name, "").strip()
        if text:
            when = parse_time(text, zone)
            if when is None:
                return Refusal(line, f"{name.replace('_', ' ')} {visible(text)!r} is not a date")
            fields[name] = when
    for name in ("title", "customer", "severity", "status", "owner"):
        if name in values:
            fields[_TICKET_FIELD.get(name, name)] = values[name]
    url = values.get("url", "").strip()
    if _WEB_ADDRESS.fullmatch(url):  # anything else is no link to open or copy: left out
        fields["url"] = url
    return Ticket.model_validate(fields)


def parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    """A time as those exports write it, in UTC; one without a zone is in `zone`. None if it is none."""
    when = _naive_or_aware(text)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(UTC)


def _naive_or_aware(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None
