"""The header line: who is acting, the time in UTC and in the viewer's zone, the shift lead and the
database. (The connection state is on the status line under it.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import getters
from textual.widgets import Static

from casewatch.core.durations import format_countdown
from casewatch.tui.app import CasewatchApp


class ClockBar(Static):
    """Drawn from its parts at its width (`render`), so a narrow header drops whole items."""

    app = getters.app(CasewatchApp)
    _parts: list[Part] = []

    def show(self, now: datetime) -> None:
        app = self.app
        me = app.me
        who = f"{app.actor} ({me.role.value})" if me else f"{app.actor} (not on roster)"
        local = now.astimezone(app.zone)
        parts = [Part(" casewatch ", "bold reverse")]
        if app.replay_at is not None:
            parts.append(Part(" REPLAY · read-only ", f"bold reverse {app.colours.get('clock-warning', '')}".strip()))
        parts += [Part(f"  {who}  "), Part(f"{now.astimezone(UTC):%H:%M:%S} UTC", "bold")]
        if local.tzname() != "UTC":  # a viewer in Etc/UTC would read the same time twice
            parts.append(Part(f"  ·  {local:%a %H:%M:%S} {app.zone.key}", drop=2))
        shift = app.state.lead.shift if app.state else None
        if shift is None:
            parts.append(Part("  ·  no shift lead", "dim", drop=1))
        else:
            lead_time = now.astimezone(ZoneInfo(shift.tz))
            parts.append(Part(f"  ·  lead {shift.lead}, {lead_time:%H:%M %Z} there", "bold", drop=1))  # their clock
            parts.append(Part(f" · shift {format_countdown(int(shift.age(now).total_seconds()))}", drop=3))
        parts.append(Part(f"  ·  {app.target.short_name()}", "dim", drop=4))
        self._parts = parts
        self.refresh()  # one line of fixed height every second: repaint, no re-layout

    def render(self) -> Text:
        return fitted(self._parts, self.size.width)


class Part(NamedTuple):
    text: str  # with the separator before it, so a header without it ends with a whole item
    style: str = ""
    drop: int = 0  # 0: always shown; else the order in which a narrow header leaves it out (highest first)


def fitted(parts: list[Part], width: int) -> Text:
    """The parts, in order, leaving out whole parts (the most droppable first) until the rest fits."""
    kept = list(parts)
    for part in sorted((p for p in parts if p.drop), key=lambda p: p.drop, reverse=True):
        if sum(Text(p.text).cell_len for p in kept) <= width:
            break
        kept.remove(part)
    text = Text()
    for part in kept:
        text.append(part.text, style=part.style)
    return text
