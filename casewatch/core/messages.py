"""The customer-ready update message, rendered from the structured fields of an update."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

FAR_AWAY = timedelta(days=6)  # beyond this, a weekday and date alone could be read as the wrong year
EDITIONS = 3
"""How many ways casewatch has rendered the message: 1, the first (no year, a second UTC time for
any zone not spelled "UTC"); 2, from 2cd699b (the year when the due time is more than six days
away); 3, from 85cae2d (no second UTC time for a zone that is UTC, such as Etc/UTC)."""


def render_customer_update(
    *,
    case_id: str,
    title: str,
    customer: str,
    known: str,
    investigating: str,
    next_milestone: str,
    next_update_due: datetime | None,
    sender: str,
    tz: str = "UTC",
    sent_at: datetime | None = None,
    edition: int = EDITIONS,
) -> str:
    """A plain-text message: what is known, what is being investigated, the next milestone and when
    the customer will hear from us again (in the sender's zone and in UTC; with the year when that is
    more than six days after `sent_at`). An earlier `edition` renders it as older versions did (the
    fold accepts an old update's message in any of them)."""
    lines = [
        f"Hello {customer} team,",
        "",
        f"An update on {case_id}: {title}",
        "",
        f"What we know: {known}",
        f"What we are investigating: {investigating}",
        f"Next milestone: {next_milestone}",
    ]
    if next_update_due is not None:
        local = next_update_due.astimezone(ZoneInfo(tz))
        far = edition >= 2 and sent_at is not None and next_update_due - sent_at > FAR_AWAY
        when = local.strftime("%a %d %b %Y %H:%M %Z" if far else "%a %d %b %H:%M %Z")
        if (local.tzname() if edition >= 3 else tz) != "UTC":  # Etc/UTC and friends are UTC already
            when += next_update_due.astimezone(ZoneInfo("UTC")).strftime(" (%H:%M UTC)")
        lines.append(f"You will hear from us again by {when}, sooner if anything changes.")
    lines += ["", f"— {sender}"]
    return "\n".join(lines)
