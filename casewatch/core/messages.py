"""The customer-ready update message, rendered from the structured fields of an update."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

FAR_AWAY = timedelta(days=6)  # beyond this, a weekday and date alone could be read as the wrong year


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
) -> str:
    """A plain-text message: what is known, what is being investigated, the next milestone and when
    the customer will hear from us again (in the sender's zone and in UTC; with the year when that is
    more than six days after `sent_at`)."""
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
        far = sent_at is not None and next_update_due - sent_at > FAR_AWAY
        when = local.strftime("%a %d %b %Y %H:%M %Z" if far else "%a %d %b %H:%M %Z")
        if local.tzname() != "UTC":  # Etc/UTC and friends are UTC already
            when += next_update_due.astimezone(ZoneInfo("UTC")).strftime(" (%H:%M UTC)")
        lines.append(f"You will hear from us again by {when}, sooner if anything changes.")
    lines += ["", f"— {sender}"]
    return "\n".join(lines)
