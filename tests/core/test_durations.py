from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casewatch.core.durations import countdown_stable_for, format_countdown, parse_duration
from casewatch.core.errors import InvalidInput


@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("4h", timedelta(hours=4)), ("1d", timedelta(days=1)),
    ("30s", timedelta(seconds=30)), (" 90m ", timedelta(minutes=90)), ("1.5h", timedelta(minutes=90)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "15x", "-5m", "0m", "1w", "15 minutes"])
def test_parse_duration_rejects(text):
    with pytest.raises(InvalidInput, match="bad duration"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, "0s"), (45, "45s"), (14 * 60 + 59, "14m"), (2 * 3600 + 5 * 60, "2h05m"), (-5 * 60, "-5m"),
    (-30, "-30s"), (99 * 3600, "99h00m"), (100 * 3600 + 7200, "4d06h"), (-(5 * 86400 + 4 * 3600), "-5d04h"),
])
def test_format_countdown(seconds, expected):
    assert format_countdown(seconds) == expected


@given(st.integers(-10**7, 10**7))
def test_countdown_text_holds_for_as_long_as_promised_and_then_changes(seconds):
    stable = countdown_stable_for(seconds)
    assert stable >= 1
    assert all(format_countdown(seconds - k) == format_countdown(seconds) for k in range(0, min(stable, 200)))
    assert format_countdown(seconds - stable) != format_countdown(seconds)
