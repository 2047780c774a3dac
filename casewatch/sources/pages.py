"""Reading a tracker's JSON page defensively: a field of the wrong shape is one line naming the
source and the field, never a traceback halfway through a sync."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casewatch.sources.http import TrackerUnavailable


class PageShape(TrackerUnavailable):
    """A page that is not the shape the tracker documents: the pass stops, what committed stays."""


def field(body: Any, name: str, kind: type, where: str) -> Any:
    if not isinstance(body, dict):
        raise PageShape(f"{where} is not a JSON object")
    value = body.get(name)
    if not isinstance(value, kind):
        raise PageShape(f"{where} has no {name} ({kind.__name__}) but {type(value).__name__}")
    return value


def text(value: Any) -> str:
    """A tracker's text field as a string ('' for null); numbers become their digits."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def at_time(value: Any, where: str) -> datetime | None:
    """A tracker's time (`2026-11-30T10:31:45Z`, `2026-11-30T10:55:03.512+0100`) in UTC; None for null."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PageShape(f"{where}: {str(value)[:40]!r} is not a time") from None
    if parsed.tzinfo is None:
        raise PageShape(f"{where}: {str(value)[:40]!r} has no zone")
    return parsed.astimezone(UTC)
