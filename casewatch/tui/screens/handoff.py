"""The handoff screen (H): the packet as a table with a column per lead's zone.

For the outgoing lead it is a live preview of what would be handed over now: choose the incoming
lead, write a note beside any case and one for the whole handoff, then send. For the named
incoming lead it shows the packet they were sent, with what changed since highlighted, and the
accept action. Everyone else sees the preview, read-only in effect (the rules refuse them).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Label, Static, TextArea

from casewatch.core import commands as c
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.durations import format_countdown
from casewatch.core.errors import CasewatchError
from casewatch.core.handoff import Handoff, Packet, PacketCase, PacketClock, PacketDiff, check_incoming
from casewatch.core.handoff_export import CLOCK_NAMES, FAR_AWAY, dual_time, local_time, relative, shown_state
from casewatch.core.models import Role
from casewatch.core.text import counted, visible
from casewatch.core.zones import zone_label, zone_named_once
from casewatch.tui.messages import ActionDone, CasesChanged, ClockTick, LeadChanged
from casewatch.tui.screens.base import CasewatchModal, CasewatchScreen
from casewatch.tui.screens.forms import Confirm, PersonPrompt, ask_before_discarding
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.clock_bar import ClockBar
from casewatch.tui.widgets.footer import CasewatchFooter
from casewatch.tui.widgets.plain_paste import PlainTextArea

REFRESH_S = 5.0
NOTE_WIDTH = 20
TITLE_WIDTH = 20
ZONE_WIDTH = 16
SHORT_CLOCK = {ClockKind.OWNER: "owner", ClockKind.CUSTOMER_UPDATE: "update", ClockKind.INTERNAL_REVIEW: "review"}


class NotePrompt(CasewatchModal[str | None]):
    """A note to edit: the text so far, ctrl+s keeps it, Escape leaves it as it was."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="note.cancel",
                tooltip="Close, keeping the note as it was (asking first if it was edited)"),
        Binding("ctrl+s", "save", "Keep", id="note.save", tooltip="Keep this note (nothing is sent yet)"),
    ]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.note_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        frame = Vertical(classes="form")
        frame.border_title = cells.literal(self.note_title)
        with frame:
            yield Label("Note (ctrl+s keeps it; empty removes it):")
            yield PlainTextArea(self.text, id="note", soft_wrap=True, show_line_numbers=False, tab_behavior="focus")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_cancel(self) -> None:
        if self.query_one(TextArea).text.strip() == self.text.strip():
            self.dismiss(None)
        else:  # edited: ask, as every form does
            ask_before_discarding(self, self.note_title)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())


def _first_line(text: str, width: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    more = len(text.strip().splitlines()) > 1
    if len(line) > width or more:
        return line[: width - 1] + "…"
    return line


def _compact(at: datetime, tz: str, now: datetime) -> str:
    """A zone column's cell: "Sat 09:30 JST", or "05 Dec 09:30 JST" when a weekday would be ambiguous."""
    if abs(at - now) >= FAR_AWAY:
        return at.astimezone(ZoneInfo(tz)).strftime("%d %b %H:%M ") + zone_label(tz, at)
    return local_time(at, tz, now)


def _missing(case: PacketCase) -> str:
    """Compact: how many evidence items and roles are missing, and the review and returned marks."""
    parts = []
    if case.missing_evidence:
        parts.append(f"ev {len(case.missing_evidence)}")
    if case.missing_roles:
        parts.append(f"roles {len(case.missing_roles)}")
    if case.route_review:
        parts.append("review")
    if case.returned:
        parts.append("returned")
    return " ".join(parts)


class HandoffScreen(CasewatchScreen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="handoff.back", tooltip="Back to the board"),
        Binding("t", "choose_incoming", "To…", id="handoff.to", tooltip="Choose the incoming shift lead"),
        Binding("n", "case_note", "Case note", id="handoff.case_note",
                tooltip="Write the note beside the highlighted case"),
        Binding("N", "handoff_note", "Handoff note", id="handoff.note", tooltip="Write the note for the whole handoff"),
        Binding("ctrl+s", "send", "Send", id="handoff.send",
                tooltip="Prepare the handoff: this packet, with your notes, goes to the incoming lead"),
        Binding("a", "accept", "Accept", id="handoff.accept",
                tooltip="Take the shift over: you become the shift lead and default route authority"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.packet: Packet | None = None
        self.handoff: Handoff | None = None  # the pending handoff addressed to the viewer: accept mode
        self.sent_id: int | None = None  # the handoff the viewer sent, while it waits
        self.accepted: Handoff | None = None  # that handoff, once its incoming lead took it: read-only
        self.diff: PacketDiff | None = None
        self.incoming: str | None = None
        self.note = ""
        self.case_notes: dict[str, str] = {}
        self._shown: dict[str, str] = {}  # row key -> the text of its "in" cell
        self._refresh: Timer | None = None  # a reload waiting after cases changed

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield ClockBar(id="clockbar")
        with VerticalScroll(id="handoff-body"):
            yield Static(id="handoff-head")
            yield Static(id="handoff-diff")
            table: DataTable[Text] = DataTable(id="packet", cursor_type="row", zebra_stripes=True)
            table.border_title = "Open cases, most urgent first"
            yield table
            yield Static(id="handoff-detail")
        yield CasewatchFooter()

    def on_mount(self) -> None:
        self.query_one(ClockBar).show(self.app.now())
        self.reload()

    @property
    def accepting(self) -> bool:
        return self.handoff is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the actions of the mode the screen is in (an accepted handoff is only read)."""
        if self.accepted is not None and action in ("accept", "choose_incoming", "case_note", "handoff_note", "send"):
            return False
        if action == "accept":
            return self.accepting
        if action in ("choose_incoming", "case_note", "handoff_note", "send"):
            return not self.accepting
        return True

    # ------------------------------------------------------------------ data

    @work(name="Load handoff", group="handoff-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        store, actor = self.app.store, self.app.actor
        try:
            lead = await store.lead_view()
            pending = lead.pending
            if pending is not None and pending.packet.incoming.name == actor:
                self.handoff, packet = pending, pending.packet
                self.diff = await store.handoff_changes(pending)
            else:
                self.handoff, self.diff = None, None
                if pending is not None and pending.packet.outgoing.name == actor:
                    self.sent_id = pending.id
                elif self.sent_id is not None:  # the one we sent is no longer waiting: was it taken?
                    sent = await store.handoff(self.sent_id)
                    if sent.accepted_at is not None:
                        self.accepted = sent
                        self.show(sent.packet)
                        self.refresh_bindings()
                        return
                if pending is not None and pending.packet.outgoing.name == actor and self.packet is None:
                    self.incoming = pending.packet.incoming.name  # carry on with the packet already sent
                    self.note = pending.packet.note
                    self.case_notes = {case.id: case.note for case in pending.packet.cases if case.note}
                packet = await store.handoff_preview(actor, self.incoming, self.note, self.case_notes)
        except CasewatchError as exc:
            self.app.notify(str(exc), title="Handoff", severity="error")
            return
        self.show(packet)
        self.refresh_bindings()

    def show(self, packet: Packet) -> None:
        self.packet = packet
        now = self.app.now()
        self._render_head(now)
        self._render_diff(now)
        self._render_table(now)
        self._render_detail(now)

    @property
    def zones(self) -> tuple[str, str]:
        assert self.packet is not None
        return self.packet.incoming.tz, self.packet.outgoing.tz

    def _render_head(self, now: datetime) -> None:
        packet, colours = self.packet, self.app.colours
        assert packet is not None
        out, inc = packet.outgoing, packet.incoming
        head = Text()
        if self.accepted is not None and self.accepted.accepted_at is not None:
            head.append(f" Handoff {self.accepted.id} ", style="bold reverse")
            head.append(f"  accepted by {visible(inc.name)} at {local_time(self.accepted.accepted_at, out.tz, now)}"
                        f" — {visible(inc.name)} leads now; the packet below is as you sent it (read-only)")
        elif self.handoff is not None:
            head.append(f" Handoff {self.handoff.id} ", style="bold reverse")
            waited = format_countdown(int(self.handoff.waiting_for(now).total_seconds()))
            head.append(f"  from {visible(out.name)} in {zone_named_once(out.tz, now)} to you in "
                        f"{zone_named_once(inc.tz, now)}, prepared "
                        f"{dual_time(packet.prepared_at, *self.zones, now)}; waiting {waited}")
            if self.handoff.overdue(now):
                head.append(" — overdue", style=f"bold {colours.get('clock-warning', '')}".strip())
        else:
            head.append(" Handoff preview ", style="bold reverse")
            to = f"{visible(inc.name)} in {zone_named_once(inc.tz, now)}" if inc.name else "nobody yet — t chooses"
            head.append(f"  from {visible(out.name)} in {zone_named_once(out.tz, now)} to {to}")
        shift_for = format_countdown(int((packet.prepared_at - packet.shift_started_at).total_seconds()))
        head.append(f"\nShift since {local_time(packet.shift_started_at, out.tz, now)} ({shift_for}). ")
        s = packet.summary
        head.append(f"This shift: {len(s.opened)} opened · {len(s.resolved)} resolved · "
                    f"{counted(len(s.severity_changes), 'severity change')} · "
                    f"{counted(len(s.breaches), 'clock')} breached · "
                    f"{counted(len(s.evidence_returns), 'evidence return')}")
        head.append("\nNote: ", style="bold")
        head.append(visible(packet.note) or "—", style="" if packet.note else "dim")
        self.query_one("#handoff-head", Static).update(head)

    def _render_diff(self, now: datetime) -> None:
        widget = self.query_one("#handoff-diff", Static)
        diff = self.diff
        widget.display = diff is not None
        if diff is None:
            return
        style = f"bold {self.app.colours.get('clock-warning', '')}".strip()
        text = Text("Changed since this packet was made", style="bold")
        if diff.empty:
            text.append(": nothing", style="dim")
        for line in diff.new_cases:
            text.append("\n+ new ", style=style).append(f"{line.id} {line.severity} {visible(line.title)}")
        for case_id in diff.closed:
            text.append("\n− closed ", style=style).append(case_id)
        for change in diff.severity_changes:
            text.append("\n± severity ", style=style).append(
                f"{change.case_id} {change.before} → {change.after} ({dual_time(change.at, *self.zones, now)})")
        for breach in diff.breaches:
            text.append("\n✖ breached ", style=style).append(
                f"{breach.case_id} {CLOCK_NAMES[breach.kind]} ({dual_time(breach.at, *self.zones, now)})")
        widget.update(text)

    def _marks(self) -> dict[str, str]:
        """Case id -> what changed on it since the packet (the highlighted diff)."""
        marks: dict[str, str] = {}
        if self.diff is None:
            return marks
        for line in self.diff.new_cases:
            marks[line.id] = "new"
        for case_id in self.diff.closed:
            marks[case_id] = "gone"
        for change in self.diff.severity_changes:
            marks[change.case_id] = "sev"
        for breach in self.diff.breaches:
            marks.setdefault(breach.case_id, "late")
        return marks

    def _clock_cells(self, clock: PacketClock | None, now: datetime) -> tuple[Text, Text, Text, Text]:
        if clock is None:
            return Text("—", style="dim"), Text(""), Text(""), Text("")
        state = shown_state(clock, now)
        style = self.app.colours.get(f"clock-{state.value}", "")
        name = Text(f"{cells.GLYPH[state]} {SHORT_CLOCK[clock.kind]}", style=style)
        if clock.due is None:
            return name, Text("paused", style="dim"), Text(""), Text(f"{format_countdown(clock.left_s or 0)} left")
        first, second = self.zones
        one, two = Text(_compact(clock.due, first, now)), Text(_compact(clock.due, second, now))
        return name, one, two, Text(relative(clock.due, now), style=style + (" bold" if state is
                                                                          ClockState.BREACHED else ""))

    def _render_table(self, now: datetime) -> None:
        table = self.query_one("#packet", DataTable)
        packet = self.packet
        assert packet is not None
        keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        marks = self._marks()
        first, second = self.zones
        mark_style = f"bold {self.app.colours.get('clock-warning', '')}".strip()
        with self.app.batch_update():
            table.clear(columns=True)
            # the clock, how far off it is and when in both zones come first, whole, so they stay in view
            # at 80 columns; status, title and note give way (they scroll, and the detail below has them)
            columns = (("Δ", "mark", None), ("ID", "id", None), ("SEV", "sev", None), ("Clock", "clock", None),
                       ("In", "in", None), (zone_label(first, now), "zone1", ZONE_WIDTH),
                       (zone_label(second, now), "zone2", ZONE_WIDTH),
                       ("Status", "status", None), ("Title", "title", TITLE_WIDTH), ("Note", "note", NOTE_WIDTH),
                       ("Missing", "missing", None))
            for label, key, width in columns:
                table.add_column(label, key=key, width=width)
            self._shown = {}
            for case in packet.cases:
                clock = case.clocks[0] if case.clocks else None
                name, one, two, distance = self._clock_cells(clock, now)
                note = self.case_notes.get(case.id, case.note) if not self.accepting else case.note
                table.add_row(
                    Text(marks.get(case.id, ""), style=mark_style), Text(case.id),
                    cells.severity_cell(case.severity, self.app.colours), name, distance, one, two,
                    cells.status_cell(case.status), cells.plain(visible(case.title)),
                    Text(_first_line(visible(note), NOTE_WIDTH)), Text(_missing(case), style="dim"), key=case.id)
                self._shown[case.id] = distance.plain
            for line in self.diff.new_cases if self.diff else []:
                table.add_row(Text("new", style=mark_style), Text(line.id),
                              cells.severity_cell(line.severity, self.app.colours), Text(""), Text(""),
                              Text("not in the packet", style="dim"), Text(""), Text(""),
                              cells.plain(visible(line.title)), Text(""), Text(""), key=line.id)
            if keep is not None and keep in table.rows:
                table.move_cursor(row=table.get_row_index(keep), animate=False)

    def _highlighted(self) -> PacketCase | None:
        table = self.query_one("#packet", DataTable)
        if not table.row_count or self.packet is None:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((case for case in self.packet.cases if case.id == key), None)

    def _render_detail(self, now: datetime) -> None:
        case = self._highlighted()
        widget = self.query_one("#handoff-detail", Static)
        if case is None:
            widget.update(Text("No open cases." if self.packet and not self.packet.cases else "", style="dim"))
            return
        text = Text(f"{case.id}", style="bold")
        text.append(f"  {visible(case.title)}  ({visible(case.customer)})\n")
        text.append(f"Route {case.route} · owner {visible(case.internal_owner or '⚑ none')} · comms "
                    f"{visible(case.comms_owner or '⚑ none')} · route authority "
                    f"{visible(case.route_authority or 'the shift lead')}\n")
        for clock in case.clocks:
            state = shown_state(clock, now)
            text.append(f"{cells.GLYPH[state]} {CLOCK_NAMES[clock.kind]}: ",
                        style=self.app.colours.get(f"clock-{state.value}", ""))
            text.append(dual_time(clock.due, *self.zones, now) if clock.due else
                        f"paused, {format_countdown(clock.left_s or 0)} of working time left")
            text.append("\n")
        if case.missing_evidence:
            text.append(f"⚑ missing evidence: {', '.join(case.missing_evidence)}\n")
        if case.missing_roles:
            text.append(f"⚑ missing roles: {', '.join(case.missing_roles)}\n")
        if case.route_review:
            text.append("⚑ route review needed\n")
        if case.last_update is not None:
            text.append(f"Last customer update {dual_time(case.last_update.at, *self.zones, now)}; "
                        f"next milestone: {visible(case.last_update.next_milestone)}\n")
        else:
            text.append("No customer update yet\n", style="dim")
        if case.open_question:
            text.append(f"Open question: {visible(case.open_question)}\n")
        for change in case.changes[-5:]:
            text.append(f"  {local_time(change.at, self.zones[0], now)} {visible(change.actor)}: ", style="dim")
            text.append(f"{visible(change.text)}\n")
        note = self.case_notes.get(case.id, case.note) if not self.accepting else case.note
        text.append("Note: ", style="bold")
        text.append(visible(note) or ("—" if self.accepting else "— (n writes one)"))
        widget.update(text)

    # ------------------------------------------------------------------ live

    @on(DataTable.RowHighlighted)
    def _highlight(self) -> None:
        self._render_detail(self.app.now())

    @on(ClockTick)
    def _tick(self, message: ClockTick) -> None:
        self.query_one(ClockBar).show(message.now)
        if self.packet is None:
            return
        table = self.query_one("#packet", DataTable)
        for case in self.packet.cases:
            if not case.clocks or case.id not in table.rows:
                continue
            distance = self._clock_cells(case.clocks[0], message.now)[3]
            if self._shown.get(case.id) != distance.plain:
                table.update_cell(case.id, "in", distance, update_width=True)
                self._shown[case.id] = distance.plain

    @on(LeadChanged)
    def _lead_changed(self) -> None:
        self.reload()

    @on(CasesChanged)
    def _cases_changed(self) -> None:
        """A busy floor changes every few seconds; the packet is read again at most every REFRESH_S."""
        if self._refresh is None:
            self._refresh = self.set_timer(REFRESH_S, self._refresh_now)

    def _refresh_now(self) -> None:
        self._refresh = None
        self.reload()

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        if not message.ok:
            return
        if self.accepting:
            self.app.pop_screen()
        else:
            self.reload()

    # ------------------------------------------------------------------ actions

    def action_choose_incoming(self) -> None:
        leads = [name for name, person in self.app.state.roster.items()
                 if person.role is Role.LEAD and name != self.app.actor]

        def chosen(name: str | None) -> None:
            if name:
                self.incoming = name
                self.reload()

        def refusal(typed: str) -> str | None:
            person = self.app.state.roster.get(typed)
            if person is None:
                return None
            try:
                check_incoming(self.app.actor, person)
            except CasewatchError as exc:
                return str(exc)
            return None

        self.app.push_screen(PersonPrompt[str]("Hand the shift over to", leads, lambda name: name, refusal=refusal),
                             chosen)

    def action_case_note(self) -> None:
        case = self._highlighted()
        if case is None:
            return

        def kept(text: str | None) -> None:
            if text is None:
                return
            if text:
                self.case_notes[case.id] = text
            else:
                self.case_notes.pop(case.id, None)
            self.reload()

        self.app.push_screen(NotePrompt(f"Note beside {case.id}", self.case_notes.get(case.id, "")), kept)

    def action_handoff_note(self) -> None:
        def kept(text: str | None) -> None:
            if text is not None:
                self.note = text
                self.reload()

        self.app.push_screen(NotePrompt("Note for the whole handoff", self.note), kept)

    def action_send(self) -> None:
        if not self.incoming:
            self.app.notify("Choose the incoming lead first (t)", severity="warning")
            return
        self.app.perform(c.PrepareHandoff(to=self.incoming, note=self.note, case_notes=self.case_notes))

    def action_accept(self) -> None:
        """Taking the shift over asks first, as resolving does: `a` assigns everywhere else."""
        handoff = self.handoff
        if handoff is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.perform(c.AcceptHandoff(handoff_id=handoff.id))

        self.app.push_screen(Confirm(f"Accept handoff {handoff.id}",
                                     f"Take the shift over from {handoff.packet.outgoing.name}? You become the "
                                     "shift lead and the default route authority."), answered)
