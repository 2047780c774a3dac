"""The pure part of the live syncs: when a synced ticket became an escalation, a ticket that stops
and starts matching, the summary line, a source's state in the status line, --follow's back-off,
and the tracker url rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from casewatch.core import commands as c
from casewatch.core.models import Severity
from casewatch.core.sync import SourceState, Synced, SyncReport, escalated_at, next_wait, plan_synced
from casewatch.core.ticket_import import TicketPlan
from casewatch.core.tracker import Source, SourceSettings, Ticket
from tests.core.floor import ROSTER, Floor
from tests.core.test_ticket_import import run

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ZD = Source.of("zd", SourceSettings(kind="zendesk"))
CREATED = NOW - timedelta(days=20)


def ticket(**values) -> Ticket:
    fields = {"id": "48213", "title": "Checkout fails", "customer": "Acme", "priority": "high", "status": "open",
              "created_at": CREATED, "updated_at": NOW - timedelta(hours=1)} | values
    return Ticket.model_validate(fields)


def test_an_old_ticket_escalated_today_starts_when_it_began_to_match_not_at_creation():
    plan = plan_synced(Synced(ticket(), True), None, ZD, ROSTER, NOW)
    assert isinstance(plan, TicketPlan) and plan.outcome == "create"
    assert plan.commands[0][1] == NOW - timedelta(hours=1)
    assert escalated_at(ticket(updated_at=CREATED)) == CREATED  # matched from creation, unchanged since
    future = plan_synced(Synced(ticket(updated_at=NOW + timedelta(seconds=5)), True), None, ZD, ROSTER, NOW)
    assert isinstance(future, TicketPlan) and future.commands[0][1] == NOW  # a tracker clock ahead of ours


def test_a_ticket_that_stops_matching_keeps_its_case_with_one_line_and_may_match_again():
    floor = Floor()
    assert plan_synced(Synced(ticket(), False), None, ZD, ROSTER, NOW) is None  # never an escalation: skipped
    case = run(floor, plan_synced(Synced(ticket(), True), None, ZD, ROSTER, NOW))
    dropped = plan_synced(Synced(ticket(), False), case, ZD, ROSTER, NOW)
    assert isinstance(dropped, TicketPlan) and dropped.outcome == "dropped"
    assert [type(command) for command, _ in dropped.commands] == [c.Note, c.SeeTicket]
    case = floor.do(dropped.commands[0][0], at=NOW)
    case = floor.do(dropped.commands[1][0], at=NOW)
    assert case.is_open and case.severity is Severity.SEV2
    again = plan_synced(Synced(ticket(), False), case, ZD, ROSTER, NOW)
    assert isinstance(again, TicketPlan) and again.outcome == "unchanged"  # said once
    back = plan_synced(Synced(ticket(), True), case, ZD, ROSTER, NOW)
    assert isinstance(back, TicketPlan) and back.outcome == "update" and back.changes == ["escalated again in zd"]
    for command, _ in back.commands:
        case = floor.do(command, at=NOW)
    assert "escalated" not in case.source_seen


def test_the_summary_line_and_its_json():
    report = SyncReport("zd")
    for outcome in ("create",) * 3 + ("update",) * 2 + ("unchanged",) * 40 + ("dropped",):
        report.count(TicketPlan(ticket(), outcome))
    assert report.line() == "zd: 3 new, 2 changed, 40 unchanged, 1 no longer escalated"
    assert report.as_json()["no_longer_escalated"] == 1 and report.changed_anything
    assert not SyncReport("zd", unchanged=5).changed_anything


def test_a_source_state_as_the_status_line_says_it():
    assert SourceState("zd", last_success=NOW - timedelta(seconds=40)).label(NOW) == "zd ✓ 40s ago"
    assert SourceState("zd", last_success=NOW - timedelta(minutes=12)).label(NOW) == "zd ✓ 12m ago"
    assert SourceState("zd", failure="401", failing_since=NOW).label(NOW, "14:02 CET") == "zd ✖ 401 since 14:02 CET"
    assert SourceState("zd").label(NOW) == "zd …"


def test_a_failing_follow_backs_off_to_ten_minutes():
    every = timedelta(seconds=60)
    assert [next_wait(every, n).total_seconds() for n in (0, 1, 2, 3, 4, 50)] == [60, 120, 240, 480, 600, 600]
    assert next_wait(timedelta(minutes=15), 3) == timedelta(minutes=15)


@pytest.mark.parametrize("url", ["https://acme.zendesk.com", "http://127.0.0.1:8080", "http://localhost",
                                 "http://[::1]:9000/jira"])
def test_tracker_urls_accepted(url):
    assert SourceSettings(kind="zendesk", url=url).url == url


@pytest.mark.parametrize("url", ["http://acme.zendesk.com", "ftp://x", "https://user:pw@acme.zendesk.com",
                                 "https://", "acme.zendesk.com", "http://127.0.0.2"])
def test_tracker_urls_refused(url):
    with pytest.raises(ValidationError):
        SourceSettings(kind="zendesk", url=url)

