"""Durations as written in policy files ("15m", "4h", "1d") and compact countdowns ("2h05m")."""

import re
from datetime import timedelta

from casewatch.core.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=30)


def parse_duration(text: str) -> timedelta:
    """Parse "<number><unit>" with unit s, m, h or d (d = 24 h): a whole number of seconds from 1 minute
    to 30 days. Nothing is rounded: "0.5s" or "20s" is an error, as is anything too large to count."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise InvalidInput(f"bad duration {text!r}: expected a number with a unit s, m, h or d, e.g. 15m")
    number, unit = match.group(1), _UNIT_SECONDS[match.group(2)]
    whole, _, fraction = number.partition(".")
    if len(whole.lstrip("0")) > 12:  # far beyond 30 days in any unit; never build a huge number
        raise InvalidInput(f"bad duration {text!r}: must be at most 30 days")
    # Exact arithmetic: seconds = (whole + fraction) * unit, as a fraction over 10^len(fraction).
    scale = 10 ** len(fraction)
    scaled = (int(whole) * scale + int(fraction or "0")) * unit
    if scaled % scale:
        raise InvalidInput(f"bad duration {text!r}: must be a whole number of seconds")
    seconds = scaled // scale
    if seconds < SHORTEST.total_seconds():
        raise InvalidInput(f"bad duration {text!r}: must be at least 1 minute")
    if seconds > LONGEST.total_seconds():
        raise InvalidInput(f"bad duration {text!r}: must be at most 30 days")
    return timedelta(seconds=seconds)


def format_countdown(seconds: int) -> str:
    """Compact countdown: 45s, 14m, 2h05m, 3d04h; a leading '-' when overdue."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 100 * 3600:
        return f"{sign}{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{sign}{s // 86400}d{(s % 86400) // 3600:02d}h"


def countdown_stable_for(seconds: int) -> int:
    """For how many whole seconds from now `format_countdown` keeps showing the same text,
    as the remaining time counts down (at least 1). Live views use it to skip work."""
    s = abs(seconds)
    if s < 60:
        return 1
    unit = 3600 if s >= 100 * 3600 else 60
    return seconds % unit + 1 if seconds > 0 else unit - s % unit
