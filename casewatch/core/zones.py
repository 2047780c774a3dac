"""How a time zone is named on a screen or in a line of output: one style everywhere.

The abbreviation in force at the instant shown ("CET", "CEST", "UTC"); the IANA name where the zone
has none (tzdata writes a bare offset, "+08"), since an offset alone does not say whose clock it is.
Where the abbreviation is shared by zones that differ ("CST": Chicago or Shanghai), the one place a
screen names the viewer's zone adds the IANA name (`zone_named_once`). `Etc/UTC` reads "UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

AMBIGUOUS = frozenset({"CST", "CDT", "IST", "BST", "AST", "ADT", "PST", "SST", "GST", "MST"})
"""Abbreviations tzdata gives to zones at different offsets (e.g. IST: Kolkata, Dublin, Jerusalem)."""


def local(at: datetime, zone: ZoneInfo) -> datetime:
    """`at` in `zone`; in UTC where the zone's offset would carry it past year 1 or 9999 (a forged
    time in the log, read at its bound: models.READABLE), so that showing it never fails."""
    try:
        return at.astimezone(zone)
    except OverflowError:
        return at.astimezone(UTC)


def zone_label(zone: ZoneInfo | str, at: datetime) -> str:
    """"CET": the zone's abbreviation at `at`, or its IANA name where it has none."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    name = local(at, zone).tzname() or zone.key
    return zone.key if name.startswith(("+", "-")) else name


def zone_named_once(zone: ZoneInfo | str, at: datetime) -> str:
    """"CST (America/Chicago)" where the abbreviation alone is ambiguous, else as `zone_label`."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    label = zone_label(zone, at)
    return f"{label} ({zone.key})" if label in AMBIGUOUS else label


def zoned(at: datetime, zone: ZoneInfo | str, fmt: str) -> str:
    """`at` in `zone` as `fmt` gives it, then the zone's label ("2026-11-27 15:00 CET"): strftime's
    %Z would write "+08" for a zone tzdata gives no abbreviation."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return f"{local(at, zone).strftime(fmt)} {zone_label(zone, at)}"
