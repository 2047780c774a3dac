"""Working-time arithmetic: hand-worked examples first, then properties across zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from casewatch.core.calendars import ONE_US, BusinessCalendar, WorkingTime

NY = "America/New_York"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
NINE_TO_FIVE = [(9 * 60, 17 * 60)]


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


# ------------------------------------------------------------ worked examples


def test_friday_afternoon_into_monday_over_the_fall_back_weekend():
    # New York leaves DST on Sunday 1 Nov 2026. Friday 15:00 EDT plus four working hours:
    # two hours on Friday (15-17), then Monday 09:00 EST plus two hours = 11:00 EST = 16:00 UTC.
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE)
    anchor = local(NY, 2026, 10, 30, 15, 0)
    due = cal.add(anchor, timedelta(hours=4))
    assert due == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    assert due.astimezone(ZoneInfo(NY)).strftime("%a %H:%M %Z") == "Mon 11:00 EST"
    assert cal.worked(anchor, due) == timedelta(hours=4)


def test_friday_into_monday_over_berlin_fall_back():
    # Berlin leaves DST on Sunday 25 Oct 2026: Fri 16:00 CEST + 3h = Mon 11:00 CET = 10:00 UTC.
    cal = BusinessCalendar("berlin", "Europe/Berlin", WEEKDAYS, NINE_TO_FIVE)
    due = cal.add(local("Europe/Berlin", 2026, 10, 23, 16, 0), timedelta(hours=3))
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)


def test_holiday_monday_is_skipped():
    # Labor Day, Monday 7 Sep 2026, from the `holidays` package: Fri 16:00 + 2h = Tue 10:00 EDT.
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE, holidays_country="US")
    due = cal.add(local(NY, 2026, 9, 4, 16, 0), timedelta(hours=2))
    assert due.astimezone(ZoneInfo(NY)) == local(NY, 2026, 9, 8, 10, 0)


def test_explicit_holiday_is_skipped():
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE, holidays=[date(2026, 12, 25)])
    due = cal.add(local(NY, 2026, 12, 24, 16, 0), timedelta(hours=2))
    assert due.astimezone(ZoneInfo(NY)) == local(NY, 2026, 12, 28, 10, 0)  # Thu 1h, Fri off, weekend, Mon


def test_split_lunch_break():
    # Kolkata, 09:00-12:30 and 13:30-17:00: 11:00 + 3h = 12:30 (1.5h), lunch, 13:30 + 1.5h = 15:00 IST.
    cal = BusinessCalendar("blr", "Asia/Kolkata", WEEKDAYS, [(9 * 60, 12 * 60 + 30), (13 * 60 + 30, 17 * 60)])
    due = cal.add(local("Asia/Kolkata", 2026, 11, 25, 11, 0), timedelta(hours=3))
    assert due == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert cal.add(local("Asia/Kolkata", 2026, 11, 25, 12, 0), timedelta(minutes=30)) == \
        local("Asia/Kolkata", 2026, 11, 25, 12, 30)  # due exactly at the start of lunch, not after it


def test_due_at_end_of_day_stays_that_day():
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE)
    assert cal.add(local(NY, 2026, 11, 25, 9, 0), timedelta(hours=8)) == local(NY, 2026, 11, 25, 17, 0)


def test_anchor_outside_hours_starts_at_next_opening():
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE)
    assert cal.add(local(NY, 2026, 11, 28, 22, 0), timedelta(minutes=30)) == local(NY, 2026, 11, 30, 9, 30)


def test_spring_forward_day_has_23_working_hours_round_the_clock():
    cal = BusinessCalendar("ny-all-day", NY, ["sat", "sun"], [(0, 24 * 60)])
    start, end = local(NY, 2026, 3, 8, 0, 0), local(NY, 2026, 3, 9, 0, 0)
    assert cal.worked(start, end) == timedelta(hours=23)
    # Saturday noon + 24 working hours = Sunday 13:00 EDT: exactly 24 real hours later.
    due = cal.add(local(NY, 2026, 3, 7, 12, 0), timedelta(hours=24))
    assert due.astimezone(ZoneInfo(NY)) == local(NY, 2026, 3, 8, 13, 0)
    assert due - local(NY, 2026, 3, 7, 12, 0) == timedelta(hours=24)


def test_fall_back_day_has_25_working_hours_round_the_clock():
    cal = BusinessCalendar("ny-all-day", NY, ["sun"], [(0, 24 * 60)])
    assert cal.worked(local(NY, 2026, 11, 1, 0, 0), local(NY, 2026, 11, 2, 0, 0)) == timedelta(hours=25)


def test_hours_inside_the_spring_forward_gap_do_not_exist():
    cal = BusinessCalendar("night", NY, ["sun"], [(2 * 60, 3 * 60)])
    assert cal.worked(local(NY, 2026, 3, 8, 0, 0), local(NY, 2026, 3, 9, 0, 0)) == timedelta(0)
    assert cal.worked(local(NY, 2026, 3, 15, 0, 0), local(NY, 2026, 3, 16, 0, 0)) == timedelta(hours=1)


def test_sub_is_the_inverse_of_add():
    cal = BusinessCalendar("ny", NY, WEEKDAYS, NINE_TO_FIVE)
    end = local(NY, 2026, 11, 30, 11, 0)  # Monday 11:00
    assert cal.sub(end, timedelta(hours=4)) == local(NY, 2026, 11, 27, 15, 0)  # Friday 15:00


def test_round_the_clock_is_plain_arithmetic():
    cal = WorkingTime()
    anchor = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert cal.add(anchor, timedelta(minutes=15)) == anchor + timedelta(minutes=15)
    assert cal.worked(anchor, anchor + timedelta(hours=3)) == timedelta(hours=3)


# -------------------------------------------------------------- properties

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
    # Up to three non-overlapping ranges on 15-minute boundaries, possibly touching midnight.
    cuts = sorted(draw(st.lists(st.integers(0, 96), min_size=2, max_size=6, unique=True)))
    hours = [(cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts) - 1, 2)]
    holidays = draw(st.lists(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=8))
    return BusinessCalendar("prop", zone, days, hours, holidays)


instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
# The thinnest calendar above (15 minutes one day a week) works 13 h a year, and a calendar looks
# at most 20 years ahead before it gives up: 200 h always fits.
durations = st.integers(1, 200 * 3600 * 1_000_000).map(lambda us: timedelta(microseconds=us))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(calendars(), instants, durations)
def test_due_is_at_or_after_anchor_and_counts_exactly_the_duration(cal, anchor, duration):
    due = cal.add(anchor, duration)
    assert due >= anchor
    assert cal.worked(anchor, due) == duration
    # The due instant is inside working time: the microsecond before it is worked.
    assert cal.worked(due - ONE_US, due) == ONE_US


@SETTINGS
@given(calendars(), instants, durations, durations)
def test_a_longer_duration_never_gives_an_earlier_due(cal, anchor, d1, d2):
    shorter, longer = sorted((d1, d2))
    assert cal.add(anchor, shorter) <= cal.add(anchor, longer)


@SETTINGS
@given(calendars(), instants, durations)
def test_sub_inverts_add(cal, end, duration):
    start = cal.sub(end, duration)
    assert start <= end
    assert cal.worked(start, end) == duration


@SETTINGS
@given(calendars(), st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_holidays_and_non_working_days_have_no_working_time(cal, day):
    zone = cal.zone
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    if cal.is_holiday(day) or day.strftime("%a").lower() not in {DAYS[d] for d in cal._days}:
        assert cal.worked(start, end) == timedelta(0)
    else:
        real_day = end.astimezone(UTC) - start.astimezone(UTC)
        assert timedelta(0) <= cal.worked(start, end) <= real_day


DST_DAYS = {
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/Berlin": [date(2026, 3, 29), date(2026, 10, 25)],
    "Australia/Sydney": [date(2026, 4, 5), date(2026, 10, 4)],
}


@SETTINGS
@given(st.sampled_from([(z, d) for z, ds in DST_DAYS.items() for d in ds]), st.integers(0, 23 * 60),
       st.integers(1, 48 * 60))
def test_dst_transition_days_count_real_elapsed_time(zone_day, minute, minutes):
    zone, day = zone_day
    cal = BusinessCalendar("all", zone, DAYS, [(0, 24 * 60)])
    anchor = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assume(anchor.astimezone(ZoneInfo(zone)).date() == day)
    duration = timedelta(minutes=minutes)
    # Round the clock, working time is real time, whatever the wall clocks do.
    assert cal.add(anchor, duration) == anchor + duration
