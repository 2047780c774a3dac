from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casewatch.core.durations import countdown_stable_for, format_countdown, parse_duration
from casewatch.core.errors import InvalidInput


@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("4h", timedelta(hours=4)), ("1d", timedelta(days=1)),
    ("90s", timedelta(seconds=90)), (" 90m ", timedelta(minutes=90)), ("1.5h", timedelta(minutes=90)),
    ("1m", timedelta(minutes=1)), ("30d", timedelta(days=30)), ("720h", timedelta(days=30)),
    ("1.25m", timedelta(seconds=75)), ("1h30m", timedelta(minutes=90)), ("2h05m", timedelta(minutes=125)),
    ("1d 4h", timedelta(hours=28)), ("1d4h30m15s", timedelta(hours=28, minutes=30, seconds=15)),
    ("1h 0.5m", timedelta(minutes=60, seconds=30)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "15x", "-5m", "1w", "15 minutes", "1e3m", "inf d"])
def test_parse_duration_rejects(text):
    with pytest.raises(InvalidInput, match="bad duration .*: expected a number with a unit"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["30m1h", "1h1h", "1h 30m 2h", "1m30"])
def test_compound_durations_name_each_unit_once_largest_first(text):
    with pytest.raises(InvalidInput, match="bad duration .*: (each unit once, largest first|expected a number)"):
        parse_duration(text)


def test_a_countdown_the_board_shows_reads_back_as_that_duration():
    for seconds in (60, 14 * 60, 2 * 3600 + 5 * 60, 3 * 86400 + 4 * 3600):
        assert parse_duration(format_countdown(seconds)) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("text", "why"), [
    ("0m", "must be at least 1 minute"), ("1d 6d", "each unit once"), ("30d 1s", "must be at most 30 days"), ("59s", "must be at least 1 minute"), ("0.9m", "must be at least 1 minute"),
    ("0.001s", "must be a whole number of seconds"), ("90.5s", "must be a whole number of seconds"),
    ("1.0000001m", "must be a whole number of seconds"), ("30.0001d", "must be a whole number of seconds"),
    ("31d", "must be at most 30 days"), ("721h", "must be at most 30 days"), ("99999999d", "must be at most 30 days"),
    ("9" * 400 + "d", "must be at most 30 days"), ("0" * 50 + "31d", "must be at most 30 days"),
])
def test_durations_outside_one_minute_to_thirty_days_are_refused_not_rounded(text, why):
    with pytest.raises(InvalidInput, match=f"bad duration .*: {why}"):
        parse_duration(text)


@given(st.text(alphabet="0123456789.smhd ", max_size=30))
def test_no_duration_text_raises_anything_but_invalid_input(text):
    try:
        value = parse_duration(text)
    except InvalidInput:
        return
    assert timedelta(minutes=1) <= value <= timedelta(days=30)


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, "0s"), (45, "45s"), (14 * 60 + 59, "14m"), (2 * 3600 + 5 * 60, "2h05m"), (-5 * 60, "-5m"),
    (-30, "-30s"), (23 * 3600 + 59 * 60, "23h59m"), (24 * 3600, "1d00h"), (100 * 3600 + 7200, "4d06h"),
    (-(5 * 86400 + 4 * 3600), "-5d04h"),
    # issue 25, item 6: one column showed -99h31m then -4d04h, and -83h53m beside -4d06h: days from 24 h on
    (-(99 * 3600 + 31 * 60), "-4d03h"), (-(83 * 3600 + 53 * 60), "-3d11h"),
])
def test_format_countdown(seconds, expected):
    assert format_countdown(seconds) == expected


@given(st.integers(-10**7, 10**7))
def test_countdown_text_holds_for_as_long_as_promised_and_then_changes(seconds):
    stable = countdown_stable_for(seconds)
    assert stable >= 1
    assert all(format_countdown(seconds - k) == format_countdown(seconds) for k in range(0, min(stable, 200)))
    assert format_countdown(seconds - stable) != format_countdown(seconds)
