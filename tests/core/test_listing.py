"""A case listing (core.listing) survives its stored form, and says what the case says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from casewatch.core import commands as c
from casewatch.core.calendars import from_us, iso_z_us
from casewatch.core.clocks import ClockState, plan_clocks
from casewatch.core.evidence import case_readiness
from casewatch.core.listing import list_case, listing_from_json, listing_json, planned_under
from casewatch.core.models import Severity, Status, iso_z
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy
from casewatch.core.views import case_summary
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def varied_floor() -> Floor:
    """Cases whose clocks are running, met, paused and stopped."""
    floor = Floor(parse_policy(DEFAULT_POLICY_TOML, version=3))
    running = floor.do(c.NewCase(title="Login fails | [b]x[/b]", customer="ACME", severity=Severity.SEV1), "agent", at=T0)
    waiting = floor.do(c.NewCase(title="Slow", customer="Initech", severity=Severity.SEV3), "agent", at=T0)
    floor.do(c.Assign(case_id=waiting.id, name="spec"), at=T0 + timedelta(minutes=5))
    floor.do(c.ChangeStatus(case_id=waiting.id, status=Status.WAITING_ON_CUSTOMER), at=T0 + timedelta(minutes=9))
    done = floor.do(c.NewCase(title="Done", customer="Globex", severity=Severity.SEV4), "agent", at=T0)
    floor.do(c.ChangeStatus(case_id=done.id, status=Status.RESOLVED), at=T0 + timedelta(hours=1))
    assert floor.cases[running.id].route == "incident"  # SEV1's route: evidence required there
    return floor


def test_a_listing_read_back_from_its_stored_json_is_the_listing():
    floor = varied_floor()
    states = set()
    for case in floor.cases.values():
        listing = list_case(case, floor.policy)
        stored = json.loads(json.dumps(listing_json(listing)))  # as a JSON column gives it back
        assert listing_from_json(stored) == listing
        assert planned_under(stored, 3, case.version)
        assert not planned_under(stored, 4, case.version) and not planned_under(stored, 3, case.version + 1)
        states |= {plan.fixed for plan in listing.clocks}
    assert {ClockState.PAUSED, ClockState.MET, ClockState.STOPPED, None} <= states


def test_a_listing_says_what_its_case_and_policy_say():
    floor = varied_floor()
    for case in floor.cases.values():
        listing = list_case(case, floor.policy)
        # the plans, less the business calendar (the board plans its own to show working time)
        assert listing.clocks == tuple(plan._replace(calendar=None) for plan in plan_clocks(case, floor.policy))
        assert listing.readiness == case_readiness(case, floor.policy.evidence)
        assert (listing.id, listing.title, listing.status, listing.version, listing.policy_version) == (
            case.id, case.title, case.status, case.version, 3)
        summary = case_summary(listing, T0 + timedelta(hours=2))
        assert summary["escalated_at"] == iso_z(case.escalated_at)
        due = plan_clocks(case, floor.policy).customer_update.due
        assert summary["clocks"]["customer_update"]["due"] == iso_z(due)


@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**6))  # 1970 .. 2100
def test_iso_z_us_is_iso_z_of_the_instant(us):
    assert iso_z_us(us) == iso_z(from_us(us))
    whole = us - us % 10**6
    assert iso_z_us(whole) == iso_z(from_us(whole))  # no fraction where there is none

