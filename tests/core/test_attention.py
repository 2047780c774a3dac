"""`next_match`: what the board's `]` and `[` step through, wrapping around."""

from __future__ import annotations

from casewatch.core.views import next_match

ORDER = ["a", "b", "c", "d", "e"]
FLAGGED = {"b", "d"}.__contains__


def test_next_and_previous_from_the_current_id_wrap_around():
    assert next_match(ORDER, "b", 1, FLAGGED) == "d"
    assert next_match(ORDER, "d", 1, FLAGGED) == "b"
    assert next_match(ORDER, "c", -1, FLAGGED) == "b"
    assert next_match(ORDER, "b", -1, FLAGGED) == "d"


def test_without_a_current_id_the_first_or_last_match():
    assert next_match(ORDER, None, 1, FLAGGED) == "b"
    assert next_match(ORDER, None, -1, FLAGGED) == "d"


def test_a_lone_match_is_found_again_and_no_match_is_none():
    assert next_match(ORDER, "c", 1, {"c"}.__contains__) == "c"
    assert next_match(ORDER, "c", 1, lambda _: False) is None
    assert next_match([], None, 1, FLAGGED) is None
