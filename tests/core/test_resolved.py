"""A resolved case takes notes and its post-case review; every other action asks for a reopen first
(the severity of a closed case changed by accident fed the severity-mismatch metric)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Severity, Status
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def resolved_case() -> tuple[Floor, str]:
    floor = Floor()
    case = floor.do(c.NewCase(title="t", customer="ACME", severity=Severity.SEV2), at=T0)
    floor.do(c.ChangeStatus(case_id=case.id, status=Status.RESOLVED), at=T0 + timedelta(minutes=30))
    return floor, case.id


@pytest.mark.parametrize("make", [
    lambda cid: c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="r"),
    lambda cid: c.Assign(case_id=cid, name="spec"),
    lambda cid: c.ChangeRoute(case_id=cid, route="incident", reason="r"),
    lambda cid: c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"),
    lambda cid: c.Review(case_id=cid, notes="n"),
])
def test_changes_to_a_resolved_case_ask_for_a_reopen(make):
    floor, cid = resolved_case()
    with pytest.raises(InvalidInput, match=f"{cid} is resolved: reopen it first"):
        floor.do(make(cid), at=T0 + timedelta(hours=1))


def test_a_resolved_case_takes_a_note_its_review_and_a_reopen():
    floor, cid = resolved_case()
    at = T0 + timedelta(hours=1)
    floor.do(c.Note(case_id=cid, text="customer confirmed"), at=at)
    assert floor.do(c.CloseCase(case_id=cid, final_severity=Severity.SEV3, avoidable=True), at=at).review
    assert floor.do(c.Reopen(case_id=cid), at=at).status is Status.INVESTIGATING
    assert floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="back"), at=at).severity is Severity.SEV1


def test_a_backfill_into_the_time_it_was_open_is_history_not_a_change():
    """The demo seeder (and imports) write a resolved case's earlier steps after its resolution."""
    floor, cid = resolved_case()
    case = floor.do(c.Assign(case_id=cid, name="spec"), at=T0 + timedelta(minutes=10))  # before the 09:30 resolve
    assert case.internal_owner == "spec" and case.status is Status.RESOLVED
