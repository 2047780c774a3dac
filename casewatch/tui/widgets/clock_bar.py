"""The header line: who is acting, the time in UTC and in the viewer's zone, the shift lead and the
database. (The connection state is on the status line under it.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.text import Text
from textual import getters
from textual.widgets import Static

from casewatch.core.durations import format_countdown
from casewatch.core.zones import zone_label, zone_named_once
from casewatch.tui.app import CasewatchApp


class ClockBar(Static):
    """Drawn from its parts at its width (`render`), so a narrow header drops whole items."""

    app = getters.app(CasewatchApp)
    _parts: list[Part] = []

    def show(self, now: datetime) -> None:
        app = self.app
        me = app.me
        who = f"{app.actor} ({me.role.value})" if me else f"{app.actor} (not on roster)"
        utc, local = now.astimezone(UTC), now.astimezone(app.zone)
        parts = [Part(" casewatch ", "bold reverse")]
        if app.replay_at is not None:
            parts.append(Part(" REPLAY · read-only ", f"bold reverse {app.colours.get('clock-warning', '')}".strip()))
        day = f"{utc:%a %d %b} " if app.replay_at is not None else ""  # a replay may be days back
        parts += [Part(f"  {who}  "), Part(f"{day}{utc:%H:%M:%S} UTC", "bold")]
        if local.tzname() != "UTC":  # a viewer in Etc/UTC would read the same time twice
            parts.append(Part(f"  ·  {local:%a %H:%M:%S} {zone_named_once(app.zone, now)}", drop=1,
                              short=f"  ·  {local:%H:%M} {zone_label(app.zone, now)}", shorten=3))
        shift = app.state.lead.shift if app.state else None
        if shift is None:
            parts.append(Part("  ·  no shift lead", "dim", drop=2))
        else:
            if shift.lead == app.actor:
                parts.append(Part("  ·  you lead", "bold", drop=2))
            else:
                lead_time = now.astimezone(ZoneInfo(shift.tz))
                parts.append(Part(f"  ·  lead {shift.lead}", "bold", drop=2))
                there = f", {lead_time:%H:%M} {zone_label(shift.tz, now)} there"
                parts.append(Part(there, drop=5))  # their clock, not when they started
            parts.append(Part(f" · {format_countdown(int(shift.age(now).total_seconds()))} into the shift", drop=4))
        parts.append(Part(f"  ·  {app.target.short_name()}", "dim", drop=6))
        self._parts = parts
        self.refresh()  # one line of fixed height every second: repaint, no re-layout

    def render(self) -> Text:
        return fitted(self._parts, self.size.width)


class Part(NamedTuple):
    text: str  # with the separator before it, so a header without it ends with a whole item
    style: str = ""
    drop: int = 0  # 0: always shown; else when a narrow header leaves it out (the highest first)
    short: str = ""  # a shorter text, used before anything ranked lower is left out
    shorten: int = 0


def fitted(parts: list[Part], width: int) -> Text:
    """The parts in order, made to fit `width`: the most droppable left out or shortened first."""
    shown = [part.text for part in parts]
    steps = sorted([(part.drop, index, "") for index, part in enumerate(parts) if part.drop]
                   + [(part.shorten, index, part.short) for index, part in enumerate(parts) if part.short],
                   reverse=True)
    for _rank, index, short in steps:
        if sum(map(cell_len, shown)) <= width:
            break
        if short and shown[index]:
            shown[index] = short
        elif not short:
            shown[index] = ""
    text = Text()
    for part, shown_text in zip(parts, shown, strict=True):
        text.append(shown_text, style=part.style)
    return text
