"""Stored copies of a fold (a case's state, listing and metric facts) are read back only when they
could be that fold: members can write those rows, and a value of the wrong type or a time out of
range is a ValueError (storage then reads the case from the log), never a value that breaks its reader."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import metrics
from casewatch.core.listing import list_case, listing_from_json, listing_json
from casewatch.core.models import Interval, Severity
from casewatch.core.stored import check_case
from tests.core.test_listing import varied_floor


def stored_listings() -> list[dict]:
    floor = varied_floor()
    return [json.loads(json.dumps(listing_json(list_case(case, floor.policy)))) for case in floor.cases.values()]


@pytest.mark.parametrize(("path", "value"), [
    (("title",), {"a": 1}), (("internal_owner",), 7), (("severity",), "SEV9"), (("escalated_at",), 5),
    (("escalated_at",), "0001-01-01T00:00:00Z"), (("escalated_at",), "2026-01-01T00:00:00"),
    (("version",), -1), (("version",), 1.5), (("ready",), True), (("returned",), 1), (("missing",), [1]),
    (("clocks",), [[None, 1, 0, None]]), (("clocks", 1), [None, 1e300, 0, None]), (("clocks", 1), [None, 10**30, 0, None]),
    (("clocks", 1), [None, None, None, None]), (("clocks", 1), ["paused", None, None, None]),
    (("clocks", 1), ["paused", None, None, -5]), (("clocks", 1), "running"), (("clocks", 1), ["late", 1, 1, 1]),
    (("clocks", 1), ["running", None, None, None]), (("clocks", 1), ["breached", None, None, None]),
    (("source",), {"name": "zd", "kind": "zendesk", "id": 5}), (("source",), {"name": "zd"}),
])
def test_a_listing_of_the_wrong_shape_is_refused(path, value):
    for stored in stored_listings():
        changed = copy.deepcopy(stored)
        *parents, key = path
        target = changed
        for part in parents:
            target = target[part]
        target[key] = value
        with pytest.raises((ValueError, KeyError, TypeError)):
            listing_from_json(changed)
    with pytest.raises(ValueError):
        listing_from_json([])  # type: ignore[arg-type]


def test_a_state_is_refused_unless_it_could_be_its_rows_fold():
    floor = varied_floor()
    case = next(iter(floor.cases.values()))
    assert check_case(case, case.id, case.version) is case
    for row_id, version in (("CW-9", case.version), (case.id, case.version + 1)):
        with pytest.raises(ValueError, match="is "):
            check_case(case, row_id, version)
    for changed in (case.model_copy(update={"escalated_at": datetime(1, 1, 1, tzinfo=UTC)}),
                    case.model_copy(update={"updated_at": datetime(2026, 1, 1)}),
                    case.model_copy(update={"others_at": datetime(9500, 1, 1, tzinfo=UTC)}),
                    case.model_copy(update={"waiting": [Interval(start=case.escalated_at,
                                                                 end=datetime(1999, 1, 1, tzinfo=UTC))]})):
        with pytest.raises(ValueError, match="out of range|no time zone"):
            check_case(changed, case.id, case.version)


def test_metric_facts_are_refused_unless_they_are_that_cases():
    at = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    facts = metrics.CaseFacts(case_id="CW-1001", escalated_at=at, initial_severity=Severity.SEV2,
                              owner_after_s=60, update_breached=False, returned=False, severity_changed=True)
    for kept in (facts, replace(facts, final_severity=Severity.SEV3, avoidable=True, owner_after_s=None)):
        assert metrics.CaseFacts.from_json(kept.as_json(), "CW-1001") == kept
    stored = facts.as_json()
    for bad in ([], stored | {"case_id": "CW-2"}, stored | {"owner_after_s": 1e400}, stored | {"returned": "no"},
                stored | {"avoidable": 1}, stored | {"escalated_at": "0001-01-01T00:00:00Z"},
                stored | {"escalated_at": (at - timedelta(days=1)).isoformat().replace("+00:00", "")}):
        with pytest.raises(ValueError):
            metrics.CaseFacts.from_json(bad, "CW-1001")
