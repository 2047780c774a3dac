"""Which case `:` opens for what was typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.jump import find_case
from casewatch.core.models import Case, Severity, SourceLink

T = datetime(2026, 11, 27, tzinfo=UTC)


def case(case_id: str, source: SourceLink | None = None) -> Case:
    return Case(id=case_id, title="x", customer="ACME", severity=Severity.SEV2, route="support", escalated_at=T,
                updated_at=T, updated_by="x", last_occurred_at=T, source=source)


CASES = [case("CW-1001"), case("CW-1002"), case("CW-1010"), case("CW-1100", SourceLink("zd", "csv", "48213")),
         case("CW-1200", SourceLink("jira", "csv", "SUP-42"))]


@pytest.mark.parametrize(("typed", "expected"), [
    ("CW-1001", "CW-1001"),
    ("cw-1002 ", "CW-1002"),
    ("CW-101", "CW-1010"),  # a unique beginning
    ("cw-11", "CW-1100"),
    ("ZD-48213", "CW-1100"),  # the ticket key
    ("zd-4", "CW-1100"),
    ("48213", "CW-1100"),  # the bare ticket id
    ("sup-42", "CW-1200"),
    ("CW-1\u200b001", "CW-1001"),  # invisible characters count for nothing
])
def test_an_id_a_ticket_or_a_unique_beginning_names_one_case(typed, expected):
    assert find_case(typed, CASES) == expected


def test_an_exact_id_wins_over_longer_ones_it_begins():
    assert find_case("CW-100", [case("CW-100"), case("CW-1001")]) == "CW-100"


def test_several_candidates_are_named_and_none_is_not_found():
    with pytest.raises(InvalidInput, match=r"'CW-10' could be CW-1001, CW-1002, CW-1010: type more"):
        find_case("CW-10", CASES)
    with pytest.raises(NotFound, match="no open case is called 'CW-9'"):
        find_case("CW-9", CASES)
    with pytest.raises(InvalidInput):
        find_case("  ", CASES)


def test_candidates_for_a_typed_ticket_are_named_by_their_tickets():
    cases = [*CASES, case("CW-1300", SourceLink("zd", "csv", "48299"))]
    with pytest.raises(InvalidInput, match=r"'zd-482' could be ZD-48213 \(CW-1100\), ZD-48299 \(CW-1300\): type more"):
        find_case("zd-482", cases)
    with pytest.raises(InvalidInput, match=r"'482' could be ZD-48213 \(CW-1100\), ZD-48299 \(CW-1300\)"):
        find_case("482", cases)
