from datetime import UTC, datetime

from casewatch.core.zones import zone_label, zone_named_once

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
