"""A tracker's CSV export read into tickets: the three export shapes, their dates, bad rows with
their lines, and files that are not UTF-8 or not CSV as one error."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from casewatch.core.errors import InvalidInput
from casewatch.core.tracker import Refusal
from casewatch.sources.csv_file import parse_map, parse_time, read_csv

ZENDESK = """Id,Subject,Priority,Status,Organization,Assignee,Created at,Updated at
48213,Checkout fails,urgent,open,Acme,ravi.k@example.com,2026-11-30T10:31:00Z,2026-11-30 11:00
"""
SALESFORCE = """Case Number,Subject,Priority,Status,Account Name,Case Owner,Date/Time Opened
00001042,"Login loop, again",P2 - High,Waiting on Customer,Globex,Ravi K,11/30/2026 10:31 AM
"""
JIRA = """Summary,Issue key,Issue id,Priority,Status,Assignee,Created,Updated,Labels,Labels
Search is slow,SUP-42,10042,Highest,In Progress,7712004,30/Nov/26 10:31 AM,2026-11-30T11:00:00+0100,a,b
"""


def written(tmp_path, text: str, name: str = "export.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(("text", "want"), [
    (ZENDESK, {"id": "48213", "title": "Checkout fails", "customer": "Acme", "priority": "urgent", "status": "open",
               "assignee": "ravi.k@example.com", "created_at": datetime(2026, 11, 30, 10, 31, tzinfo=UTC),
               "updated_at": datetime(2026, 11, 30, 16, 0, tzinfo=UTC)}),
    (SALESFORCE, {"id": "00001042", "title": "Login loop, again", "customer": "Globex", "priority": "P2 - High",
                  "status": "Waiting on Customer", "assignee": "Ravi K",
                  "created_at": datetime(2026, 11, 30, 15, 31, tzinfo=UTC)}),
    (JIRA, {"id": "SUP-42", "title": "Search is slow", "customer": "", "priority": "Highest", "status": "In Progress",
            "assignee": "7712004", "created_at": datetime(2026, 11, 30, 15, 31, tzinfo=UTC),
            "updated_at": datetime(2026, 11, 30, 10, 0, tzinfo=UTC)}),
], ids=["zendesk", "salesforce", "jira"])
def test_each_export_shape_is_recognized(tmp_path, text, want):
    found = read_csv(written(tmp_path, text), tz="America/New_York")  # a time without a zone is in the source's
    assert not found.refused and len(found.tickets) == 1
    ticket = found.tickets[0]
    assert ticket.model_dump(include=set(want)) == want and ticket.line == 2


def test_a_byte_order_mark_and_mapped_columns(tmp_path):
    text = "\ufeffTicket #,Headline,Sev\r\nT-1,Printer on fire,P1\r\n"
    found = read_csv(written(tmp_path, text), [parse_map("ticket #=id"), parse_map("Headline=title"),
                                               parse_map("Sev=severity")])
    assert [(t.id, t.title, t.priority) for t in found.tickets] == [("T-1", "Printer on fire", "P1")]


def test_a_file_without_an_id_column_lists_the_headers_it_found(tmp_path):
    with pytest.raises(InvalidInput, match=r"no id column among its headers \('Ticket #', 'Headline'\); name it "
                                           r"with --map COLUMN=id"):
        read_csv(written(tmp_path, "Ticket #,Headline\n1,x\n"))


def test_bad_rows_are_refused_with_their_lines(tmp_path):
    text = ('Id,Subject,Priority,Created at\n'
            '1,"multi\nline subject",high,2026-11-30 10:00\n'
            ',no id,high,2026-11-30 10:00\n'
            '2,bad date,high,yesterday-ish\n'
            '1,"multi\nline subject",high,2026-11-30 10:00\n'
            '1,changed,high,2026-11-30 10:00\n')
    found = read_csv(written(tmp_path, text))
    assert [t.id for t in found.tickets] == ["1"]  # the exact repeat on line 6 is the same ticket
    assert found.refused == [Refusal(4, "no id"), Refusal(5, "created at 'yesterday-ish' is not a date"),
                             Refusal(8, "id '1' again (first on line 2), with different values")]


def test_tracker_text_is_kept_exactly(tmp_path):
    hostile = "\x1b]52;c;cm0gLXJmIH4=\x07 \u202egnp.exe\x1b[2J"
    found = read_csv(written(tmp_path, f'Id,Subject,Organization\n7,"{hostile}","{hostile}"\n'))
    assert found.tickets[0].title == hostile and found.tickets[0].customer == hostile


@pytest.mark.parametrize(("data", "message"), [
    ("Id,Subject\n1,Caf\xe9\n".encode("latin-1"), r"not UTF-8 \(byte 0xe9 at offset 16\); export the file as UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    (b"Id,Subject\n1,\x00\n", r"not CSV \(it holds NUL bytes\)"),
    (b"", "no header row: the file is empty"),
])
def test_a_file_that_is_not_utf8_or_not_csv_is_one_line(tmp_path, data, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=message) as raised:
        read_csv(path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("text", "want"), [
    ("2026-11-30 10:31", datetime(2026, 11, 30, 9, 31, tzinfo=UTC)),
    ("11/30/2026 10:31 PM", datetime(2026, 11, 30, 21, 31, tzinfo=UTC)),
    ("2026-11-30T10:31:00+0100", datetime(2026, 11, 30, 9, 31, tzinfo=UTC)),
    ("2026-06-30 10:31", datetime(2026, 6, 30, 8, 31, tzinfo=UTC)),  # summer time in Berlin
])
def test_dates_of_the_three_exports(text, want):
    assert parse_time(text, ZoneInfo("Europe/Berlin")) == want


@pytest.mark.parametrize("text", ["x=nothing", "=id", "id"])
def test_a_bad_map_is_one_line(text):
    with pytest.raises(InvalidInput, match="--map"):
        parse_map(text)


def test_a_url_column_is_kept_only_when_it_is_a_web_address(tmp_path):
    text = 'Id,URL\n1,https://acme.zendesk.com/agent/tickets/1\n2,javascript:alert(1)\n3,"https://x/\x1b[2J"\n'
    found = read_csv(written(tmp_path, text))
    assert [t.url for t in found.tickets] == ["https://acme.zendesk.com/agent/tickets/1", None, None]
