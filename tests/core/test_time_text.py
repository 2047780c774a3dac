"""Time as people type it: instants with a zone, bare dates read in the viewer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casewatch.core.errors import InvalidInput
from casewatch.core.models import day_start, parse_instant_or_day


@pytest.mark.parametrize(("zone", "day", "starts"), [
    ("Asia/Tokyo", date(2026, 1, 1), datetime(2025, 12, 31, 15, tzinfo=UTC)),
    ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=UTC)),  # the DST day itself
    ("America/Santiago", date(2026, 9, 6), datetime(2026, 9, 6, 4, tzinfo=UTC)),  # midnight is skipped: 01:00
    ("America/Santiago", date(2026, 4, 5), datetime(2026, 4, 5, 4, tzinfo=UTC)),  # 23:00-24:00 the day before twice
])
def test_a_day_starts_at_its_first_local_instant(zone, day, starts):
    start = day_start(day, zone)
    assert start == starts
    assert start.astimezone(ZoneInfo(zone)).date() == day
    assert (start - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date() < day


def test_window_edges_are_instants_with_a_zone_or_bare_dates():
    assert parse_instant_or_day(" 2026-11-01 ") == date(2026, 11, 1)
    assert parse_instant_or_day("2026-11-01T09:00+01:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    for bad, why in (("2026-13-01", "bad date"), ("2026-11-01T09:00", "no time zone"), ("monday", "bad timestamp")):
        with pytest.raises(InvalidInput, match=why):
            parse_instant_or_day(bad)
