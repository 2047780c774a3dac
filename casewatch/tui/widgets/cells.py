"""Table cells as rich Text, never markup strings: user text like "[b]ACME" must show as typed.

Clock states differ by glyph as well as colour, so they survive NO_COLOR and colour blindness.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from rich.console import OverflowMethod
from rich.text import Text
from textual.content import Content

from casewatch.core.clocks import ClockState
from casewatch.core.durations import format_countdown
from casewatch.core.evidence import Readiness
from casewatch.core.models import EvidenceState, Severity, Status
from casewatch.core.text import visible

GLYPH = {
    ClockState.RUNNING: "▸",
    ClockState.WARNING: "▲",
    ClockState.BREACHED: "✖",
    ClockState.PAUSED: "‖",
    ClockState.MET: "✓",
    ClockState.STOPPED: "■",
}
Colours = dict[str, str]


def literal(text: str) -> Content:
    """Text for a border title or label exactly as typed: Textual reads a plain str there as markup."""
    return Content(visible(text))

FAR_AWAY = timedelta(days=6)


def due_suffix(due: datetime | None, zone: ZoneInfo | None, now: datetime) -> str:
    """" Mon 09:10": the due time in `zone`; a date when the weekday would be ambiguous."""
    if due is None or zone is None:
        return ""
    if abs(due - now) >= FAR_AWAY:
        return due.astimezone(zone).strftime(" %d %b")
    return due.astimezone(zone).strftime(" %a %H:%M")


def countdown_label(state: ClockState, remaining_s: int | None, suffix: str = "", *, compact: bool = False,
                    working_s: int | None = None) -> str:
    """"▸ 14m Fri 10:42", "✖ -5m Mon 09:10", "‖ 2h05m left", "✓ met". `compact` (the board) keeps
    the glyph and the countdown only: "‖ 2h05m", "✓"; the help screen explains the glyphs. A warning
    on a clock waiting for business hours (`working_s`) says the working time left: "▲ 11m w Mon 09:11"
    (compact: the due time tells when), "▲ 11m work · 6h11m Mon 09:11"."""
    glyph = GLYPH[state]
    if state is ClockState.WARNING and working_s is not None and remaining_s is not None:
        work = format_countdown(working_s)
        if compact:
            return f"{glyph} {work} w{suffix}"
        return f"{glyph} {work} work · {format_countdown(remaining_s)}{suffix}"
    if state is ClockState.MET or state is ClockState.STOPPED:
        return glyph if compact else f"{glyph} {state.value}"
    if remaining_s is None:  # no deadline to count down to
        return glyph
    if state is ClockState.PAUSED:
        return f"{glyph} {format_countdown(remaining_s)}{'' if compact else ' left'}"
    return f"{glyph} {format_countdown(remaining_s)}{suffix}"


@lru_cache(maxsize=16_384)
def shared(text: str, style: str = "", no_wrap: bool | None = None, overflow: OverflowMethod | None = None) -> Text:
    """One Text per distinct look, shared by every cell that shows it. A 10,000-case board has a few
    hundred distinct severity, status, owner, evidence and countdown cells, not 100,000 (each Text
    costs about 300 bytes). Rich renders a Text without changing it, and `append_text` copies: a
    cell from here is never changed in place."""
    return Text(text, style=style, no_wrap=no_wrap, overflow=overflow)


def clock_cell(label: str, state: ClockState, colours: Colours) -> Text:
    style = colours.get(f"clock-{state.value}", "")
    if state is ClockState.BREACHED:
        style += " bold"
    return shared(label, style.strip(), True)


def severity_cell(severity: Severity, colours: Colours) -> Text:
    return shared(severity.value, f"bold {colours.get(severity.value.lower(), '')}".strip())


def status_cell(status: Status) -> Text:
    """Statuses in board width: "waiting" stands for waiting on the customer."""
    return tag("waiting" if status is Status.WAITING_ON_CUSTOMER else status.value)


def plain(value: str) -> Text:
    """Stored text as one cell: literal, one line, no control character (see core.text.visible)."""
    return Text(visible(value), no_wrap=True, overflow="ellipsis")


UNREAD = "●"


def title_cell(title: str, unread: bool, colours: Colours) -> Text:
    """The title, after a `●` when someone else changed the case since the viewer last opened it
    (the mark takes two of the title's columns, so every other column keeps its width)."""
    cell = plain(title)
    if not unread:
        return cell
    marked = Text(f"{UNREAD} ", style=f"bold {colours.get('flag', '')}".strip(), no_wrap=True, overflow="ellipsis")
    marked.append_text(cell)
    return marked


def tag(value: str) -> Text:
    """Stored text that many rows show alike (a route, a person) as one shared cell, literal like `plain`."""
    return shared(visible(value), "", True, "ellipsis")


def person_cell(name: str | None, colours: Colours) -> Text:
    if name:
        return tag(name)
    return shared("⚑ none", colours.get("flag", ""), True)


def unowned_cell(unowned: bool, colours: Colours) -> Text:
    """The ⚑ that stands in for the owner and comms columns where they do not fit."""
    return shared("⚑" if unowned else "", f"bold {colours.get('flag', '')}".strip(), True)


def flag_cell(count: int, colours: Colours) -> Text:
    return shared(f"⚑{count}" if count else "", f"bold {colours.get('flag', '')}".strip())


EVIDENCE_GLYPH = {
    EvidenceState.MISSING: "○",
    EvidenceState.PARTIAL: "◐",
    EvidenceState.DONE: "●",
    EvidenceState.NA: "⊘",
}
EVIDENCE_COLOUR = {
    EvidenceState.MISSING: "flag",
    EvidenceState.PARTIAL: "clock-warning",
    EvidenceState.DONE: "clock-met",
    EvidenceState.NA: "clock-stopped",
}


def evidence_glyph(state: EvidenceState, colours: Colours) -> Text:
    return shared(EVIDENCE_GLYPH[state], colours.get(EVIDENCE_COLOUR[state], ""))


def readiness_cell(ready: Readiness, returned: bool, colours: Colours) -> Text:
    """"5/7"; "↩3/7" in the flag colour while the case stands returned for missing context."""
    if returned:
        return shared(f"↩{ready}", f"bold {colours.get('flag', '')}".strip(), True)
    return tag(str(ready))
