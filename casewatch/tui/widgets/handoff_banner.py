"""The banner every board shows while a handoff waits for its incoming lead: who hands over to whom,
and for how long; after 15 minutes it turns into a warning."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from casewatch.core.durations import format_countdown
from casewatch.core.handoff import LeadView
from casewatch.core.text import visible


def banner_text(lead: LeadView, now: datetime, actor: str) -> Text | None:
    """The banner's line, or None when no handoff is waiting."""
    pending = lead.pending
    if pending is None:
        return None
    packet = pending.packet
    waited = format_countdown(int(pending.waiting_for(now).total_seconds()))
    text = Text(f" ⇄ Handoff {pending.id}: {visible(packet.outgoing.name)} → {visible(packet.incoming.name)}, "
                f"not accepted for {waited}")
    if pending.overdue(now):
        text.append(" — overdue", style="bold")
    text.append(" · H to accept" if packet.incoming.name == actor else " · H to see it")
    return text


class HandoffBanner(Static):
    """Hidden while no handoff waits. Text changes every second without re-laying out the screen;
    only showing, hiding or turning into a warning does."""

    def show(self, lead: LeadView, now: datetime, actor: str) -> None:
        text = banner_text(lead, now, actor)
        visible = text is not None
        overdue = visible and lead.pending is not None and lead.pending.overdue(now)
        relayout = visible != self.display or overdue != self.has_class("overdue")
        self.display = visible
        self.set_class(overdue, "overdue")
        if text is not None:
            self.update(text, layout=relayout)
