"""The board's earlier filters (core.filter_history): newest first, 20 kept, ↑/↓ recall, and a
file that is not a history refused in one line (the board then passes it over)."""

from __future__ import annotations

import pytest

from casewatch.core.errors import InvalidInput
from casewatch.core.filter_history import HISTORY_KEPT, Recall, histories_text, read_histories, remembered


def test_a_filter_used_again_moves_to_the_front_and_only_twenty_are_kept():
    history: list[str] = []
    for n in range(HISTORY_KEPT + 5):
        history = remembered(history, f"sev:{n % 4 + 1} word{n}")
    assert len(history) == HISTORY_KEPT and history[0] == f"sev:{(HISTORY_KEPT + 4) % 4 + 1} word{HISTORY_KEPT + 4}"
    again = remembered(history, f"  {history[5]} ")
    assert again[0] == history[5] and len(again) == HISTORY_KEPT and again.count(history[5]) == 1
    assert remembered(history, "   ") == history  # a blank filter is nothing to recall


def test_the_file_round_trips_per_person_and_keeps_hostile_text_as_it_is():
    histories = {"dana": ["[b]acme\u202e", "sev:1"], "ravi": []}
    assert read_histories(histories_text(histories)) == histories
    assert read_histories(histories_text({"dana": [str(n) for n in range(50)]}))["dana"] == [
        str(n) for n in range(HISTORY_KEPT)]


@pytest.mark.parametrize("text", ['{"dana": ["sev:1"', "[]", '{"dana": "sev:1"}', '{"dana": [1]}', "\x00"])
def test_a_file_that_is_not_a_history_is_refused_in_one_line(text):
    with pytest.raises(InvalidInput) as refused:
        read_histories(text)
    assert "\n" not in str(refused.value)


def test_up_goes_back_and_down_comes_forward_to_what_was_typed():
    recall = Recall(["sev:1", "owner:none", "acme"], typed="ra")
    assert recall.newer() is None  # nothing newer than what is being typed
    assert [recall.older(), recall.older(), recall.older(), recall.older()] == ["sev:1", "owner:none", "acme", None]
    assert [recall.newer(), recall.newer(), recall.newer(), recall.newer()] == ["owner:none", "sev:1", "ra", None]
    assert Recall([], "x").older() is None


def test_up_passes_over_the_filter_in_force():
    recall = Recall(["owner:ravi", "sev:1"], typed="owner:ravi")  # the bar opens holding the filter in force
    assert recall.older() == "sev:1" and recall.older() is None
    assert [recall.newer(), recall.newer()] == ["owner:ravi", None]  # the typed text, then nothing newer
    assert Recall(["owner:ravi"], typed="owner:ravi").older() is None
