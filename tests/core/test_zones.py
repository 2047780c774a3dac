from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from casewatch.core.models import READABLE
from casewatch.core.zones import local, zone_label, zone_named_once, zoned

WINTER = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_a_zone_is_named_by_its_abbreviation_then():
    assert zone_label("Europe/Berlin", WINTER) == "CET" and zone_label("Europe/Berlin", SUMMER) == "CEST"
    assert zone_label("Etc/UTC", WINTER) == "UTC" and zone_named_once("Etc/UTC", WINTER) == "UTC"
    assert zone_label("Asia/Tokyo", WINTER) == "JST"


def test_a_zone_without_an_abbreviation_is_named_by_its_iana_name():
    assert zone_label("Asia/Singapore", WINTER) == "Asia/Singapore"  # tzdata says only "+08"
    assert zone_named_once("Asia/Singapore", WINTER) == "Asia/Singapore"


def test_an_ambiguous_abbreviation_carries_the_iana_name_where_the_zone_is_named_once():
    assert zone_label("America/Chicago", WINTER) == "CST"
    assert zone_named_once("America/Chicago", WINTER) == "CST (America/Chicago)"
    assert zone_named_once("Asia/Shanghai", WINTER) == "CST (Asia/Shanghai)"
    assert zone_named_once("Asia/Kolkata", WINTER) == "IST (Asia/Kolkata)"
    assert zone_named_once("Europe/Berlin", WINTER) == "CET"


def test_a_time_a_zone_cannot_reach_is_shown_in_utc():
    """A forged time in the log at the edge of Python's range (year 1, 9999) shows in any zone:
    where the zone's offset would leave the range, as UTC."""
    first, last = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert zoned(first, "America/New_York", "%Y-%m-%d %H:%M").endswith("1-01-01 00:00 UTC")
    assert zoned(last, "Pacific/Kiritimati", "%Y-%m-%d %H:%M") == "9999-12-31 23:59 UTC"
    assert local(first, ZoneInfo("Asia/Tokyo")).hour == 9  # east of UTC, year 1 is within reach
    for bound in READABLE:  # what storage reads an out-of-range time as reaches every zone
        for zone in ("America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
            assert zone_label(zone, bound) != "UTC" and zoned(bound, zone, "%Y")
