"""The header line: who is acting, the time in UTC and in the viewer's zone, the shift lead and the
database. (The connection state is on the status line under it.)"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import getters
from textual.widgets import Static

from casewatch.core.durations import format_countdown
from casewatch.tui.app import CasewatchApp


class ClockBar(Static):
    app = getters.app(CasewatchApp)

    def show(self, now: datetime) -> None:
        app = self.app
        me = app.me
        who = f"{app.actor} ({me.role.value})" if me else f"{app.actor} (not on roster)"
        local = now.astimezone(app.zone)
        text = Text()
        text.append(" casewatch ", style="bold reverse")
        if app.replay_at is not None:
            text.append(" REPLAY · read-only ", style=f"bold reverse {app.colours.get('clock-warning', '')}".strip())
        text.append(f"  {who}  ")
        text.append(f"{now.astimezone(UTC):%H:%M:%S} UTC", style="bold")
        if local.tzname() != "UTC":  # a viewer in Etc/UTC would read the same time twice
            text.append(f"  ·  {local:%a %H:%M:%S} {app.zone.key}")
        shift = app.state.lead.shift if app.state else None
        if shift is None:
            text.append("  ·  no shift lead", style="dim")
        else:
            lead_time = now.astimezone(ZoneInfo(shift.tz))
            text.append(f"  ·  lead {shift.lead} {lead_time:%H:%M %Z}", style="bold")
            text.append(f" · shift {format_countdown(int(shift.age(now).total_seconds()))}")
        text.append(f"  ·  {app.target.short_name()}", style="dim")
        self.update(text, layout=False)  # one line of fixed height every second: repaint, no re-layout
