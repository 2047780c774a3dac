"""What an imported ticket does to the board: a new case, or only what the tracker changed since
the last import (the never-undo rule), each as a person's command marked via the source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.models import Case, Severity, Status
from casewatch.core.text import LIMITS
from casewatch.core.ticket_import import ImportReport, TicketPlan, plan_ticket
from casewatch.core.tracker import Refusal, Source, SourceSettings, Ticket
from casewatch.core.views import describe_event
from tests.core.floor import ROSTER, Floor

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SF = Source.of("sf", SourceSettings(kind="csv", default_severity=Severity.SEV3,
                                    severity={"P1 - Critical": Severity.SEV1, "P2 - High": Severity.SEV2},
                                    status={"Waiting on Customer": Status.WAITING_ON_CUSTOMER},
                                    people={"Ravi.K@example.com": "agent"}))


def ticket(**values) -> Ticket:
    fields = {"line": 2, "id": "00001042", "title": "Checkout fails", "customer": "Acme", "priority": "P2 - High",
              "status": "Working", "assignee": "", "created_at": NOW - timedelta(hours=3)} | values
    return Ticket.model_validate(fields)


def run(floor: Floor, plan: TicketPlan | Refusal) -> Case:
    """The plan's commands through decide + apply, as the store runs them (follow-ups get the new id)."""
    assert isinstance(plan, TicketPlan), plan
    case = None
    for command, at in plan.commands:
        made = command(case.id) if callable(command) and case is not None else command
        assert isinstance(made, c.Command)
        case = floor.do(made, at=at or NOW)
    assert case is not None
    return case


def imported(floor: Floor, **values) -> Case:
    return run(floor, plan_ticket(ticket(**values), None, SF, ROSTER, NOW))


def reimport(floor: Floor, case: Case, **values) -> TicketPlan:
    plan = plan_ticket(ticket(**values), floor.cases[case.id], SF, ROSTER, NOW)
    assert isinstance(plan, TicketPlan), plan
    if plan.commands:
        run(floor, plan)
    return plan


def test_a_new_ticket_becomes_a_linked_case_escalated_when_it_was_created():
    floor = Floor()
    case = imported(floor, assignee="ravi.k@EXAMPLE.com", status="Waiting on Customer")
    assert (case.title, case.customer, case.severity, case.internal_owner) == ("Checkout fails", "Acme",
                                                                              Severity.SEV2, "agent")
    assert case.status is Status.WAITING_ON_CUSTOMER and case.escalated_at == NOW - timedelta(hours=3)
    assert case.source is not None and (case.source.name, case.source.id, case.source.key) == ("sf", "00001042",
                                                                                               "SF-00001042")
    assert case.source_seen == {"severity": "P2 - High", "status": "Waiting on Customer",
                                "owner": "ravi.k@EXAMPLE.com", "title": "Checkout fails"}
    assert all(e.payload.get("via") == "sf" for e in floor.log)
    assert "(via sf)" in describe_event(floor.log[-1])


def test_an_import_never_undoes_the_board_while_the_tracker_says_what_it_said():
    floor = Floor()
    case = imported(floor)
    floor.do(c.ChangeSeverity(case_id=case.id, severity=Severity.SEV1, reason="customer is down"), at=NOW)
    floor.do(c.Assign(case_id=case.id, name="spec"), at=NOW)
    plan = reimport(floor, case)
    assert plan.outcome == "unchanged" and not plan.commands
    assert floor.cases[case.id].severity is Severity.SEV1 and floor.cases[case.id].internal_owner == "spec"


def test_what_the_tracker_changed_since_the_last_import_is_applied():
    floor = Floor()
    case = imported(floor)
    floor.do(c.ChangeSeverity(case_id=case.id, severity=Severity.SEV3, reason="quieter"), at=NOW)
    plan = reimport(floor, case, priority="P1 - Critical", assignee="ravi.k@example.com", title="Checkout down")
    after = floor.cases[case.id]
    assert (after.severity, after.internal_owner, after.title) == (Severity.SEV1, "agent", "Checkout down")
    assert plan.changes == ["severity SEV3 → SEV1", "owner nobody → agent", "title"]
    assert after.source_seen["severity"] == "P1 - Critical"
    assert reimport(floor, case, priority="P1 - Critical", assignee="ravi.k@example.com",
                    title="Checkout down").outcome == "unchanged"


def test_a_tracker_change_the_board_already_made_is_only_remembered():
    floor = Floor()
    case = imported(floor)
    floor.do(c.ChangeSeverity(case_id=case.id, severity=Severity.SEV1, reason="lead raised it"), at=NOW)
    plan = reimport(floor, case, priority="P1 - Critical")
    assert [type(command) for command, _ in plan.commands] == [c.SeeTicket]
    assert floor.cases[case.id].severity is Severity.SEV1 and floor.cases[case.id].version == case.version + 2


def test_a_resolved_case_reopens_when_the_tracker_reopens_the_ticket():
    floor = Floor()
    case = imported(floor, status="solved")
    assert case.status is Status.RESOLVED
    reimport(floor, case, status="Waiting on Customer")
    assert floor.cases[case.id].status is Status.WAITING_ON_CUSTOMER


def test_an_unmapped_assignee_leaves_the_case_unowned_and_says_who_it_was():
    floor = Floor()
    case = imported(floor, assignee="7712004")
    assert case.internal_owner is None
    assert floor.log[-1].payload["text"].startswith("assignee 7712004 is not mapped to anyone on the roster")


@pytest.mark.parametrize("priority", ["", "P9 - Whatever"])
def test_an_unknown_priority_takes_the_default_severity(priority):
    assert imported(Floor(), priority=priority).severity is Severity.SEV3


def test_an_unknown_priority_without_a_default_is_refused_with_its_line():
    strict = Source.of("jira", SourceSettings(kind="jira"))
    refusal = plan_ticket(ticket(priority="Blocker", line=17), None, strict, ROSTER, NOW)
    assert refusal == Refusal(17, "priority 'Blocker' is not mapped and source jira has no default_severity")
    assert plan_ticket(ticket(priority="Lowest"), None, strict, ROSTER, NOW).commands[0][0].severity is Severity.SEV4


def test_hostile_text_is_kept_as_given_and_a_long_subject_is_cut_and_noted():
    floor = Floor()
    hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil\x1b[2J" + "x" * (1024 * 1024)
    case = imported(floor, title=hostile, customer="\x1b[31mAcme\u202e")
    assert case.customer == "\x1b[31mAcme\u202e"
    assert len(case.title) == LIMITS["title"] and case.title.endswith("…") and case.title.startswith(hostile[:50])
    notes = [e.payload["text"] for e in floor.log if e.type.value == "note_added"]
    assert notes == [f"the tracker's subject was cut to 200 characters (it has {len(hostile)})"]


def test_a_creation_time_in_the_future_is_refused():
    refusal = plan_ticket(ticket(created_at=NOW + timedelta(days=1), line=5), None, SF, ROSTER, NOW)
    assert isinstance(refusal, Refusal) and refusal.line == 5 and "in the future" in refusal.reason


def test_the_summary_line_says_what_would_happen():
    report = ImportReport(created=41, unchanged=120, refused=[Refusal(17, "no id"), Refusal(30, "no id")])
    report.updated.append(TicketPlan(ticket(), "update", changes=["severity SEV3 → SEV2"], case_id="CW-1042"))
    assert report.line(dry_run=True) == ("would create 41, update 1 (CW-1042: severity SEV3 → SEV2), leave 120 "
                                         "unchanged, refuse 2 (line 17: no id; line 30: no id)")
    assert report.line(dry_run=False).startswith("created 41, updated 1 (CW-1042")
