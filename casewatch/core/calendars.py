"""Business calendars and exact working-time arithmetic across time zones, DST and holidays.

Times are handled as integer microseconds since the Unix epoch so that "the working time between
anchor and due equals the duration" holds exactly. A business calendar is compiled into a sorted
list of working intervals (in UTC) with prefix sums, so both `worked` and `add` are a bisection.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = EPOCH.replace(tzinfo=None)
ONE_US = timedelta(microseconds=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24x7"
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_BUILD_MARGIN_DAYS = 400
_MAX_SEARCH_YEARS = 20


def to_us(value: datetime) -> int:
    return (value - EPOCH) // ONE_US


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def iso_z_us(value: int) -> str:
    """`models.iso_z(from_us(value))` in a third less time (a listing prints thousands): the same
    text, from naive arithmetic."""
    return f"{(_NAIVE_EPOCH + timedelta(microseconds=value)).isoformat()}Z"


def parse_hours(text: str) -> tuple[int, int]:
    """"09:00-17:00" -> minutes after local midnight (end may be 24:00). Raises ValueError."""
    match = _HOURS.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"bad hours {text!r}: expected HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"bad hours {text!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"empty hours {text!r}: the range must end after it starts")
    return start, end


class WorkingTime:
    """Round-the-clock working time: every instant counts."""

    name = ALWAYS
    zone: ZoneInfo | None = None  # business calendars count in a zone; round-the-clock has none

    def worked_us(self, start: int, end: int) -> int:
        return max(0, end - start)

    def add_us(self, start: int, amount: int) -> int:
        return start + amount

    def sub_us(self, end: int, amount: int) -> int:
        return end - amount

    def add_pair_us(self, start: int, first: int, second: int) -> tuple[int, int]:
        """`add_us` for two amounts from one start (a due time and its warning instant)."""
        return start + first, start + second

    def worked(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.worked_us(to_us(start), to_us(end)))

    def sub(self, end: datetime, amount: timedelta) -> datetime:
        """The latest instant from which `amount` of working time runs until `end`."""
        return from_us(self.sub_us(to_us(end), amount // ONE_US))

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return from_us(self.add_us(to_us(start), amount // ONE_US))


class BusinessCalendar(WorkingTime):
    """Working hours on given weekdays in one IANA zone, minus explicit and national holidays."""

    def __init__(
        self,
        name: str,
        timezone: str,
        days: Iterable[str],
        hours: Iterable[tuple[int, int]],
        holidays: Iterable[date] = (),
        holidays_country: str | None = None,
    ):
        self.name = name
        self.zone = ZoneInfo(timezone)
        self._days = frozenset(WEEKDAYS.index(d) for d in days)
        self._hours = sorted(hours)
        self._explicit = frozenset(holidays)
        self._country = holidays_country
        self._national: dict[int, frozenset[date]] = {}
        self._first, self._last = date.max, date.min  # nothing built yet: [_lo_us, _hi_us) is empty
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum: list[int] = []  # working time before interval i
        self._cum_end: list[int] = []  # working time up to the end of interval i
        self._lo_us = self._hi_us = 0

    def is_holiday(self, day: date) -> bool:
        if day in self._explicit:
            return True
        if self._country is None:
            return False
        year = self._national.get(day.year)
        if year is None:
            import holidays as holiday_data  # only once a calendar names a country: 30 ms of every start otherwise

            year = frozenset(holiday_data.country_holidays(self._country, years=day.year).keys())
            self._national[day.year] = year
        return day in year

    def _build(self, first: date, last: date) -> None:
        starts, ends, cum, cum_end = [], [], [], []
        total = 0
        day = first
        while day <= last:
            if day.weekday() in self._days and not self.is_holiday(day):
                for start_min, end_min in self._hours:
                    start = self._local_us(day, start_min)
                    end = self._local_us(day, end_min)
                    if end > start:  # a range inside a spring-forward gap has no length
                        starts.append(start)
                        ends.append(end)
                        cum.append(total)
                        total += end - start
                        cum_end.append(total)
            day += timedelta(days=1)
        self._first, self._last = first, last
        self._starts, self._ends, self._cum, self._cum_end = starts, ends, cum, cum_end
        self._lo_us = self._local_us(first, 0)
        self._hi_us = self._local_us(last, 24 * 60)

    def _local_us(self, day: date, minutes: int) -> int:
        if minutes == 24 * 60:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return to_us(local)

    def _cover(self, instant: int) -> None:
        if self._lo_us <= instant < self._hi_us:
            return
        day = from_us(instant).date()
        first = min(day - timedelta(days=_BUILD_MARGIN_DAYS), self._first)
        last = max(day + timedelta(days=_BUILD_MARGIN_DAYS), self._last)
        self._build(first, last)

    def _cumulative(self, instant: int) -> int:
        i = bisect_right(self._starts, instant) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(instant, self._ends[i]) - self._starts[i]

    def worked_us(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        self._cover(start)
        self._cover(end)
        return self._cumulative(end) - self._cumulative(start)

    def add_us(self, start: int, amount: int) -> int:
        return self.add_pair_us(start, amount, amount)[0]

    def add_pair_us(self, start: int, first: int, second: int) -> tuple[int, int]:
        if not self._lo_us <= start < self._hi_us:
            self._cover(start)
        starts, cum = self._starts, self._cum
        i = bisect_right(starts, start) - 1  # inlined _cumulative: this is the clocks' hot path
        base = cum[i] + min(start, self._ends[i]) - starts[i] if i >= 0 else 0
        furthest = base + max(first, second)
        for _ in range(_MAX_SEARCH_YEARS):
            if self._cum_end and furthest <= self._cum_end[-1]:
                break
            self._build(self._first, self._last + timedelta(days=366))
            base = self._cumulative(start)
            furthest = base + max(first, second)
        else:
            raise ValueError(f"calendar {self.name!r} has no working time within {_MAX_SEARCH_YEARS} years")
        cum_end = self._cum_end
        starts, cum = self._starts, self._cum
        j = bisect_left(cum_end, base + first)
        k = bisect_left(cum_end, base + second)
        return max(start, starts[j] + base + first - cum[j]), max(start, starts[k] + base + second - cum[k])

    def sub_us(self, end: int, amount: int) -> int:
        self._cover(end)
        for _ in range(_MAX_SEARCH_YEARS):
            target = self._cumulative(end) - amount
            if target > 0:
                break
            self._build(self._first - timedelta(days=366), self._last)
        else:
            raise ValueError(f"calendar {self.name!r} has no working time within {_MAX_SEARCH_YEARS} years")
        return min(end, self._instant_at(target))

    def _instant_at(self, target: int) -> int:
        """The first instant at which the cumulative working time reaches `target`."""
        j = bisect_left(self._cum_end, target)
        return self._starts[j] + target - self._cum[j]
