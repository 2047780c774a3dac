"""Durations as written in policy files ("15m", "4h", "1d") and compact countdowns ("2h05m")."""

import re
from datetime import timedelta
from fractions import Fraction

from casewatch.core.errors import InvalidInput

_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[dhms]\s*)+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}  # largest first, the order parts come in
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=30)
DAY_S = 86400  # countdowns count days from here on


def parse_duration(text: str) -> timedelta:
    """Parse "<number><unit>" parts, units d (24 h), h, m and s, largest first: "15m", "1.5h",
    "1h30m", "2h05m" as the board shows a countdown, "1d 4h". A whole number of seconds from 1 minute
    to 30 days. Nothing is rounded: "0.5s" or "20s" is an error, as is anything too large to count."""
    if not isinstance(text, str) or not _DURATION.match(text):
        raise InvalidInput(f"bad duration {text!r}: expected a number with a unit s, m, h or d, e.g. 15m or 1h30m")
    parts = _PART.findall(text)
    ranks = [list(_UNIT_SECONDS).index(unit) for _, unit in parts]
    if ranks != sorted(set(ranks)):
        raise InvalidInput(f"bad duration {text!r}: each unit once, largest first, e.g. 1d4h or 1h30m")
    total = Fraction(0)
    for number, unit in parts:
        if len(number.partition(".")[0].lstrip("0")) > 12:  # far beyond 30 days in any unit; never build a huge number
            raise InvalidInput(f"bad duration {text!r}: must be at most 30 days")
        total += Fraction(number) * _UNIT_SECONDS[unit]  # exact: a decimal string is a fraction
    if total.denominator != 1:
        raise InvalidInput(f"bad duration {text!r}: must be a whole number of seconds")
    if total < SHORTEST.total_seconds():
        raise InvalidInput(f"bad duration {text!r}: must be at least 1 minute")
    if total > LONGEST.total_seconds():
        raise InvalidInput(f"bad duration {text!r}: must be at most 30 days")
    return timedelta(seconds=int(total))


def format_countdown(seconds: int) -> str:
    """Compact countdown: 45s, 14m, 2h05m, 3d04h (days from 24 h on, so one column never mixes
    `-83h53m` with `-4d06h`); a leading '-' when overdue."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < DAY_S:
        return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{sign}{s // 86400}d{(s % 86400) // 3600:02d}h"


def countdown_stable_for(seconds: int) -> int:
    """For how many whole seconds from now `format_countdown` keeps showing the same text,
    as the remaining time counts down (at least 1). Live views use it to skip work."""
    s = abs(seconds)
    if s < 60:
        return 1
    unit = 3600 if s >= DAY_S else 60
    return seconds % unit + 1 if seconds > 0 else unit - s % unit
