"""Saved views (core.saved_views), the pane sorts (core.board_sort) and the shift lead's `m` view
(core.views.is_mine): the parts of issue 26 that need no terminal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casewatch.core.board_sort import SORT_KEYS, Sort
from casewatch.core.case_filter import Seen, parse_filter
from casewatch.core.errors import InvalidInput
from casewatch.core.saved_views import VIEW_KEYS, check_view_filter, check_view_name, saved_views, view_named
from casewatch.core.views import View, in_view, is_mine
from tests.core.test_case_filter import CLOCKS, FLOOR, T, case


def test_views_keep_the_files_order_and_the_first_nine_have_keys():
    views = saved_views({f"v{n}": f"sev:{n % 4 + 1}" for n in range(1, 12)})
    assert [view.name for view in views] == [f"v{n}" for n in range(1, 12)]
    assert [view.key for view in views] == [f"f{n}" for n in range(1, VIEW_KEYS + 1)] + [None, None]
    assert view_named(views, "V3").query == "sev:4"  # any case
    with pytest.raises(InvalidInput, match=r"no saved view 'nope' \(views: v1, v2"):
        view_named(views, "nope")
    with pytest.raises(InvalidInput, match="add a \\[views\\] table"):
        view_named((), "triage")


@pytest.mark.parametrize(("value", "problem"), [
    ("sev:9", "sev:9: a severity is 1 to 4"),
    ("is:late", "is:late: is one of"),
    ("owner:", "owner: needs a value"),
    ("acme\x1b[2J", "control character"),
    (7, "must be a filter in quotes"),
])
def test_a_bad_view_filter_says_what_is_wrong(value, problem):
    with pytest.raises(InvalidInput, match=problem.replace("[", "\\[")):
        check_view_filter(value)


@pytest.mark.parametrize("name", ["", "  ", "tri\u202eage", "x" * 41, 3])
def test_a_view_name_is_one_line_of_visible_text(name):
    with pytest.raises(InvalidInput):
        check_view_name(name)
    assert check_view_name("[b]triage ⚑") == "[b]triage ⚑"  # shown literally, never as markup


def test_each_sort_puts_the_case_it_is_about_first():
    cases = [case("CW-7", customer="globex", escalated_at=T - timedelta(hours=1), updated_at=T),
             case("CW-8", customer="Acme", escalated_at=T, updated_at=T + timedelta(minutes=5)),
             case("CW-9", customer="acme", escalated_at=T - timedelta(hours=2), updated_at=T - timedelta(hours=1))]
    clocks = {c.id: CLOCKS.get(c.id) or CLOCKS["CW-1"] for c in cases}

    def ordered(sort: Sort) -> list[str]:
        return [c.id for c in sorted(cases, key=lambda c: SORT_KEYS[sort](c, clocks[c.id]))]

    assert ordered(Sort.ESCALATED) == ["CW-9", "CW-7", "CW-8"]
    assert ordered(Sort.CHANGED) == ["CW-8", "CW-7", "CW-9"]
    assert ordered(Sort.CUSTOMER) == ["CW-8", "CW-9", "CW-7"]  # Acme and acme tie: by id
    assert [Sort.DEADLINE.next(), Sort.CUSTOMER.next()] == [Sort.ESCALATED, Sort.DEADLINE]


def test_the_shift_lead_owns_the_cases_with_no_named_route_authority():
    named = case("CW-5", internal_owner="ravi", comms_owner="tom", route_authority="mei")
    floor = [*FLOOR, named]
    assert not is_mine(FLOOR[0], "dana") and is_mine(FLOOR[0], "dana", shift_lead="dana")
    assert not is_mine(named, "dana", shift_lead="dana") and is_mine(named, "mei", shift_lead="dana")
    assert not is_mine(FLOOR[0], "mei", shift_lead="dana")  # only the lead has them by default
    clocks = CLOCKS | {"CW-5": CLOCKS["CW-1"]}
    lead_view = {c.id for c in floor if in_view(View.MINE, c, clocks[c.id], "dana", T, shift_lead="dana")}
    assert lead_view == {c.id for c in FLOOR}
    chosen = parse_filter("is:mine")
    assert {c.id for c in floor if chosen.matches(c, Seen("dana", T, clocks, shift_lead="dana"))} == lead_view
    assert {c.id for c in floor if chosen.matches(c, Seen("dana", T, clocks))} == {"CW-3"}  # her comms case
