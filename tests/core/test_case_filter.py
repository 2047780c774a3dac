"""The filter language shared by the board's `/` and `casewatch cases --filter`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core.case_filter import Seen, parse_filter
from casewatch.core.clocks import plan_clocks
from casewatch.core.errors import InvalidInput
from casewatch.core.listing import list_case
from casewatch.core.models import Case, CaseReturn, Severity, SourceLink, Status
from casewatch.core.policy import default_policy

T = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
POLICY = default_policy()


def case(case_id: str, **fields) -> Case:
    values = {"title": "Login fails [prod]", "customer": "Acme Logistics", "severity": Severity.SEV2, "route": "support",
              "escalated_at": T, "updated_at": T, "updated_by": "x", "last_occurred_at": T} | fields
    return Case(id=case_id, **values)


FLOOR = [
    case("CW-1", internal_owner="ravi", comms_owner="tom", severity=Severity.SEV1, route="incident"),
    case("CW-2", internal_owner=None, comms_owner="tom", customer="Globex", route="specialist:database"),
    case("CW-3", internal_owner="mei", comms_owner="dana", severity=Severity.SEV3,
         status=Status.WAITING_ON_CUSTOMER, source=SourceLink(name="zd", kind="csv", id="48213")),
    case("CW-4", internal_owner="Ravi", comms_owner=None, severity=Severity.SEV4, escalated_at=T - timedelta(days=3),
         returned=CaseReturn(by="spec", from_route="specialist:database", keys=("logs",), reason="no logs", at=T)),
]


CLOCKS = {c.id: plan_clocks(c, POLICY) for c in FLOOR}


def found(query: str, viewer: str = "dana", unread: frozenset[str] = frozenset()) -> list[str]:
    chosen = parse_filter(query)
    return [c.id for c in FLOOR if chosen.matches(c, Seen(viewer, T, CLOCKS, unread))]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["CW-1", "CW-2", "CW-3", "CW-4"]),
    ("owner:ravi", ["CW-1", "CW-4"]),  # a handle, any case
    ("owner:rav", []),  # a handle is whole, not a prefix
    ("owner:none", ["CW-2"]),
    ("owner:none,mei", ["CW-2", "CW-3"]),
    ("comms:tom", ["CW-1", "CW-2"]),
    ("comms:none", ["CW-4"]),
    ("sev:1", ["CW-1"]),
    ("sev:1,2", ["CW-1", "CW-2"]),
    ("SEV:sev3", ["CW-3"]),
    ("customer:glob", ["CW-2"]),
    ("customer:ACME", ["CW-1", "CW-3", "CW-4"]),
    ("route:specialist:*", ["CW-2"]),
    ("route:incident", ["CW-1"]),
    ("route:specialist:data*,incident", ["CW-1", "CW-2"]),
    ("status:waiting", ["CW-3"]),
    ("status:new", ["CW-1", "CW-2", "CW-4"]),
    ("src:zd", ["CW-3"]),
    ("src:none", ["CW-1", "CW-2", "CW-4"]),
    ("is:unowned", ["CW-2", "CW-4"]),
    ("is:mine", ["CW-3"]),
    ("is:returned", ["CW-4"]),
    ("is:breached", ["CW-4"]),  # escalated three days ago: its clocks are long past due
    ("is:unread", []),
    ("is:returned,unowned", ["CW-2", "CW-4"]),
    ("owner:ravi sev:1,2", ["CW-1"]),  # fields all hold
    ("acme owner:ravi", ["CW-1", "CW-4"]),  # words and fields together
    ("globex tom", ["CW-2"]),  # plain words as before: every word somewhere
    ("zd-48213", ["CW-3"]),  # the ticket key is a word too
    ("14:00", []),  # no field is called 14: a plain word
])
def test_each_field_narrows(query, expected):
    assert found(query) == expected


def test_is_mine_is_the_viewers_and_is_unread_the_callers_set():
    assert found("is:mine", viewer="ravi") == ["CW-1"]  # CW-4's owner is "Ravi": another handle
    assert found("is:unread", unread=frozenset({"CW-2"})) == ["CW-2"]


def test_a_listing_is_filtered_as_its_case():
    chosen = parse_filter("owner:none is:returned,unowned route:specialist:*")
    for c in FLOOR:
        listing = list_case(c, POLICY)
        assert chosen.matches(listing, Seen("dana", T, {listing.id: listing.clocks})) == (c.id == "CW-2")


def test_invisible_characters_count_for_nothing():
    sneaky = case("CW-9", customer="AC\u200bME", internal_owner="ra\u200bvi")
    seen = Seen("dana", T, {sneaky.id: plan_clocks(sneaky, POLICY)})
    assert parse_filter("customer:acme owner:ravi").matches(sneaky, seen)
    assert parse_filter("owner:r\u200bavi").matches(sneaky, seen)


@pytest.mark.parametrize(("query", "names"), [
    ("sev:9", "sev:9"),
    ("sev:", "sev:"),
    ("is:late", "is:late"),
    ("status:closed", "status:closed"),
    ("owner:", "owner:"),
])
def test_a_bad_field_value_is_refused_naming_it(query, names):
    with pytest.raises(InvalidInput) as refused:
        parse_filter(f"acme {query}")
    assert names in str(refused.value)


@pytest.mark.parametrize(("query", "problem"), [
    ("sev:9", "sev:9: a severity is 1 to 4 (e.g. sev:1,2)"),
    ("sev:4:", "“sev:4:”: a severity is 1 to 4 (e.g. sev:1,2)"),  # not `sev:4:: …`
    ("is:late:", "“is:late:”: is one of breached, unowned, mine, returned, unread"),
    ("sev:" + "x" * 200, "sev:" + "x" * 25 + "…: a severity is 1 to 4 (e.g. sev:1,2)"),
    ("status:" + "w" * 50, "status:" + "w" * 22 + "…: a status is one of new, investigating"),
])
def test_a_problem_repeats_a_short_field_word_then_what_is_wrong(query, problem):
    """A long mistyped word was repeated whole (the board's three error lines had no room left for
    what was wrong), and one ending in a colon read `sev:4:: …`."""
    with pytest.raises(InvalidInput) as refused:
        parse_filter(query)
    assert str(refused.value).startswith(problem)


def test_an_empty_filter_is_false_and_any_word_or_field_true():
    assert not parse_filter("  ") and parse_filter("acme") and parse_filter("sev:1")


@pytest.mark.parametrize("query", ["", "owner:ravi", "sev:1,2", "acme owner:ravi", "globex tom", "zd-48213", "log",
                                   "is:unowned", "is:returned acme", "14:00"])
def test_select_finds_what_matches_finds_in_the_same_order(query):
    """`select` is `matches` over many cases (the board's pass on a keystroke): the words looked for inline."""
    chosen = parse_filter(query)
    seen = Seen("dana", T, CLOCKS)
    assert [i for i, _ in chosen.select(((c.id, c) for c in FLOOR), seen)] == found(query)
    changed = FLOOR[1].model_copy(update={"customer": "Acme Freight", "version": FLOOR[1].version + 1})
    floor = [FLOOR[0], changed, *FLOOR[2:]]  # a case that changed is read anew, not from the haystack kept
    assert [i for i, _ in chosen.select(((c.id, c) for c in floor), seen)] == [
        c.id for c in floor if chosen.matches(c, Seen("dana", T, CLOCKS))]


@pytest.mark.parametrize(("before", "after", "narrows"), [
    ("", "a", True),
    ("a", "ac", True),
    ("ac", "acme", True),
    ("acme", "acme tom", True),
    ("log", "login", True),
    ("acme", "cme", False),  # "cme" is in every case "acme" is in, and maybe in more
    ("sev:1", "sev:1 acme", True),
    ("acme", "acme sev:1", True),
    ("acme", "acm", False),  # a word made shorter finds more
    ("acme tom", "acme", False),
    ("sev:1", "sev:1,2", False),  # another choice finds more
    ("sev:1", "acme", False),
    ("sev", "sev:1", False),  # the word `sev` is not part of the field
    ("is:unowned", "is:unowned acme", False),  # `is:` reads the clocks and the viewer at the time
    ("acme", "acme is:unowned", False),
])
def test_a_filter_narrows_another_only_when_it_cannot_find_more(before, after, narrows):
    """The board narrows a keystroke that only adds to the query among the rows shown (board._narrow)."""
    assert parse_filter(after).narrows(parse_filter(before)) is narrows
    if narrows:
        assert set(found(after)) <= set(found(before))
