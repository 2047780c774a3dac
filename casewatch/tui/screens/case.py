"""One case: every field, the three clocks, what needs attention, the evidence and the timeline."""

from __future__ import annotations

import time
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from casewatch.core import commands as c
from casewatch.core import write_back as wb
from casewatch.core.breaches import Breach, case_breaches
from casewatch.core.calendars import to_us
from casewatch.core.clocks import CaseClocks, ClockKind, ClockState, plan_clocks
from casewatch.core.errors import CasewatchError
from casewatch.core.evidence import case_checklist, readiness
from casewatch.core.handoff_export import local_time, two_zones
from casewatch.core.models import Case, Event, EventType, Status, iso_z
from casewatch.core.permissions import Action
from casewatch.core.policy_history import PolicyHistory
from casewatch.core.projection import replay_cases
from casewatch.core.text import visible
from casewatch.core.views import authority_label, case_flags, describe_event
from casewatch.core.write_back import UNDELIVERED, Delivery
from casewatch.core.zones import local, zone_label, zone_named_once
from casewatch.storage import outbox
from casewatch.tui.messages import CasesChanged, ClockTick, OutboxChanged
from casewatch.tui.screens.case_actions import CASE_BINDINGS, UNDO_TOOLTIP, CaseActions
from casewatch.tui.screens.forms import Field, TextPrompt
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.cells import GLYPH
from casewatch.tui.widgets.clock_bar import ClockBar
from casewatch.tui.widgets.footer import CasewatchFooter

CLOCK_NAMES = {
    ClockKind.OWNER: "Owner named by",
    ClockKind.CUSTOMER_UPDATE: "Customer update",
    ClockKind.INTERNAL_REVIEW: "Internal review",
}
MAX_BREACHES = 6
DELIVERIES_EVERY_S = 15.0  # how often a pending delivery of the case is read again
NARROW = 110  # below this width the clocks and flags go under the fields instead of beside them


class CaseScreen(CaseActions):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="case.back",
                tooltip="Back to the board (q quits only on the board)"),
        *CASE_BINDINGS,
        Binding("Y", "copy_update", "Copy update", id="case.copy", tooltip="Copy the last customer message"),
        Binding("R", "return_case", "Return", id="case.return", show=False,
                tooltip="Send the case back to support for missing context"),
        Binding("o", "reopen", "Reopen", id="case.reopen", tooltip="Reopen this resolved case"),
        Binding("u", "undo", "Undo", id="case.undo", tooltip=UNDO_TOOLTIP),  # in the footer while offered
    ]

    def __init__(self, case_id: str):
        super().__init__()
        self.case_id = case_id
        self.case: Case | None = None  # until the first load
        self.clocks: CaseClocks | None = None
        self.events: list[Event] = []
        self.policies: PolicyHistory | None = None  # which policy was in force when: breaches are judged under it
        self.breaches: list[Breach] = []
        self._breached: frozenset[ClockKind] = frozenset()  # the clocks overdue when the breaches were derived
        self.deliveries: dict[int, Delivery] = {}  # write-back of the case's updates, notes, owners, by event id
        self._delivery_shown: dict[str, str] = {}  # timeline row key -> the delivery label it shows
        self._deliveries_read = 0.0  # (monotonic) when they were last read: a pending one is read again

    def compose(self) -> ComposeResult:
        yield ClockBar(id="clockbar")
        with VerticalScroll(id="case-body"):
            yield Static(id="case-heading")
            with Horizontal(id="case-top"):
                yield Static(id="case-fields")
                with Vertical(id="case-side"):
                    yield Static(id="case-clocks")
                    yield Static(id="case-breaches")
                    yield Static(id="case-flags")
                    yield Static(id="case-evidence")
            timeline: DataTable[Text] = DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
            timeline.border_title = "Timeline"
            yield timeline
        yield CasewatchFooter()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#timeline", DataTable)
        table.add_column("When", key="when")
        table.add_column("Who", key="who")
        table.add_column("What", key="what")
        table.add_column("", key="mark")
        self.query_one(ClockBar).show(self.app.now())
        self.reload()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "narrow")

    @work(name="Load case", group="case-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the case and its timeline; a newer reload of this screen cancels an older one."""
        try:
            case = await self.app.store.get_case(self.case_id)  # as it stands now
            events = await self.app.store.case_events(self.case_id)
            policies = await self.app.store.policy_history()
            if self.app.replay_at is None:  # (the outbox says how deliveries stand now, not then)
                self.deliveries = await outbox.deliveries(self.app.store, self.case_id)
            self._deliveries_read = time.monotonic()
        except CasewatchError as exc:
            self.app.notify(str(exc), severity="error")
            return
        at = self.app.replay_at
        if at is not None:  # a replay: the case as it stood then, its timeline up to then
            events = [event for event in events if event.occurred_at <= at]
            then = replay_cases(events).get(self.case_id)
            if then is None:
                self.app.notify(f"{self.case_id} was escalated after {iso_z(at)}: nothing to replay",
                                severity="warning")
                self.dismiss()
                return
            case = then
        self.policies = policies
        self.show(case, events)

    def show(self, case: Case, events: list[Event]) -> None:
        self.case = case
        now = self.app.now()
        in_force = self.policies.until(now) if self.policies is not None else ()
        self.clocks = clocks = plan_clocks(case, self.app.state.policy, in_force)
        self._render_fields(case)
        self._render_clocks(case, clocks, now)
        self._render_timeline(events)
        self._render_breaches(now)
        self.refresh_bindings()  # reopen is offered once the case is resolved

    def _render_breaches(self, now: datetime) -> None:
        """Every breach of the case's clocks, from its history: a severity downgrade or a laxer
        policy never takes one away. The newest few, when there are many (`case show` lists all)."""
        if self.policies is None:
            return
        self.breaches = case_breaches(self.events, self.policies, now)
        self._breached = self._overdue(now)
        colours, viewer = self.app.colours, self.app.zone.key
        count = f" ({len(self.breaches)})" if self.breaches else ": none"
        text = Text(f"Breaches{count}", style="bold", no_wrap=True, overflow="ellipsis")
        shown = self.breaches[-MAX_BREACHES:]
        if len(self.breaches) > len(shown):
            text.append(f"  (the last {len(shown)}; casewatch case show lists all)", style="dim")
        text.append("\n")
        for breach in shown:
            text.append(f"{GLYPH[ClockState.BREACHED]} {CLOCK_NAMES[breach.kind]:<17}",
                        style=colours.get("clock-breached", ""))
            text.append(f"{local_time(breach.at, viewer, now)}  ")
            text.append(f"{breach.severity.value} · policy v{breach.policy_version}\n", style="dim")
        text.rstrip()  # the margin below separates the sections
        self.query_one("#case-breaches", Static).update(text)

    def _overdue(self, now: datetime) -> frozenset[ClockKind]:
        if self.clocks is None:
            return frozenset()
        readings = self.clocks.read(now)
        return frozenset(kind for kind, reading in readings.items() if reading.state is ClockState.BREACHED)

    def _render_fields(self, case: Case) -> None:
        policy, colours = self.app.state.policy, self.app.colours
        heading = Text()
        heading.append(f" {case.id} ", style="bold reverse")
        heading.append(" ")
        heading.append_text(cells.severity_cell(case.severity, colours))
        heading.append(visible(f" {policy[case.severity].label} · {case.status.value.replace('_', ' ')} · "
                               f"v{case.version}  "))
        heading.append(visible(case.title), style="bold")
        self.query_one("#case-heading", Static).update(heading)

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        zone = self.app.zone
        shift = self.app.state.lead.shift
        rows = [
            ("Customer", case.customer), ("Route", case.route),
            ("Internal owner", case.internal_owner or "⚑ none"), ("Comms owner", case.comms_owner or "⚑ none"),
            ("Route authority", authority_label(case, shift.lead if shift else None)),
            ("Participants", ", ".join(f"{p.name} ({p.role})" for p in case.participants) or "—"),
            ("Escalated", f"{case.escalated_at.astimezone(zone):%a %d %b %H:%M} {zone_label(zone, case.escalated_at)}"),
            ("Owner named", f"{case.owner_named_at.astimezone(zone):%a %d %b %H:%M}" if case.owner_named_at else "—"),
            ("Summary", case.summary or "—"),
        ]
        if case.source is not None:
            link = case.source
            rows += [("Ticket", f"{link.key} in {link.name} ({link.kind})"),
                     ("Ticket URL", f"{link.url}  (y copies it)" if link.url else "none known")]
        for label, value in rows:
            grid.add_row(label, Text(visible(value)))
        self.query_one("#case-fields", Static).update(grid)

        flags = case_flags(case, policy, self.app.state.shift_lead)
        text = Text("Needs attention\n", style="bold")
        for flag in flags:
            text.append(f"⚑ {visible(flag)}\n", style=colours.get("flag", ""))
        if any(delivery.undelivered for delivery in self.deliveries.values()):
            text.append(f"{UNDELIVERED} (see the timeline)\n", style=colours.get("flag", ""))
        elif not flags:
            text.append("nothing flagged\n", style="dim")
        self.query_one("#case-flags", Static).update(text)

        entries = case_checklist(case, policy.evidence)
        evidence = Text(f"Evidence {readiness(entries)} required ready", style="bold")
        if case.gate_overrides:
            evidence.append(f"  gate overridden {case.gate_overrides}×", style=colours.get("flag", ""))
        evidence.append("  (e edits, p packet)\n", style="dim")
        for entry in entries:
            evidence.append_text(cells.evidence_glyph(entry.state, colours))
            evidence.append(f" {visible(entry.item.label)}", style="" if entry.required else "dim")
            evidence.append(f"  {entry.state.value}\n", style="dim")
        self.query_one("#case-evidence", Static).update(evidence)

    def _render_clocks(self, case: Case, clocks: CaseClocks, now: datetime) -> None:
        """One line per clock, never wrapped: the countdown, then the due time in the viewer's zone
        and, where the severity's business calendar counts in another zone, in that zone too."""
        readings = clocks.read(now)
        viewer = self.app.zone.key
        calendar = self.app.state.policy.calendar_for(case.severity).zone
        other = calendar.key if calendar is not None and calendar.key != viewer else viewer
        text = Text("Clocks", style="bold", no_wrap=True, overflow="ellipsis")
        calendar_in = f"; calendar in {zone_named_once(other, now)}" if other != viewer else ""
        text.append(f"  (due in {zone_label(viewer, now)}{calendar_in})\n", style="dim")  # the header names it in full
        now_us = to_us(now)
        for (kind, name), plan in zip(CLOCK_NAMES.items(), clocks, strict=True):
            reading = readings[kind]
            text.append(f"{name:<17}")
            working = plan.working_left_s(now_us) if reading.state is ClockState.WARNING else None
            label = cells.countdown_label(reading.state, reading.remaining_s, working_s=working)
            text.append_text(cells.clock_cell(label, reading.state, self.app.colours))
            if reading.due is not None:
                text.append(f"  {two_zones(reading.due, viewer, other, now)}")
            text.append("\n")
        text.rstrip()
        self.query_one("#case-clocks", Static).update(text, layout=False)

    def _render_timeline(self, events: list[Event]) -> None:
        table: DataTable[Text] = self.query_one("#timeline", DataTable)
        ordered = sorted(events, key=lambda e: (e.occurred_at, e.id))
        shown = [row.value for row in table.rows]
        keys = [str(e.id) for e in ordered]
        labels = {str(event_id): f"delivery to {d.source} ticket {d.ticket}: {d.label(self.app.zone.key)}"
                  for event_id, d in self.deliveries.items()}
        with self.app.batch_update():
            moved_on = any(labels.get(key or "") != self._delivery_shown.get(key or "") for key in shown)
            if keys[: len(shown)] != shown or moved_on:
                table.clear()  # a backfilled event landed inside the history, or a delivery moved on
                shown = []
            self._delivery_shown = {key: labels[key] for key in keys if key in labels}
            for event in ordered[len(shown):]:
                when = local(event.occurred_at, self.app.zone)
                what = visible(describe_event(event), multiline=True)
                if str(event.id) in labels:  # the update's delivery is a field of it
                    what += "\n" + visible(labels[str(event.id)])
                table.add_row(Text(f"{when:%a %d %b %H:%M}"), Text(visible(event.actor)), Text(what),
                              Text("backfilled", style="dim italic") if event.backfilled else Text(""),
                              key=str(event.id), height=what.count("\n") + 1)  # every line of a note
        self.events = ordered

    @on(DataTable.RowSelected, "#timeline")
    def _show_event(self, event: DataTable.RowSelected) -> None:
        """Enter on a timeline row: the whole event, as the row cannot show it."""
        from casewatch.tui.screens.event import EventScreen

        chosen = next((e for e in self.events if str(e.id) == event.row_key.value), None)
        if chosen is not None:
            self.app.push_screen(EventScreen(self.case_id, chosen))

    @on(CasesChanged)
    def _changed(self, message: CasesChanged) -> None:
        if message.everything or self.case_id in message.changed or self.case_id in message.removed:
            self.reload()

    @on(OutboxChanged)
    def _deliveries_moved(self) -> None:
        if self.deliveries:
            self.reload()

    @on(ClockTick)
    def _tick(self, message: ClockTick) -> None:
        self.query_one(ClockBar).show(message.now)
        pending = any(d.state in (wb.QUEUED, wb.FAILED) for d in self.deliveries.values())
        if pending and time.monotonic() - self._deliveries_read > DELIVERIES_EVERY_S:
            self._deliveries_read = time.monotonic()
            self.reload()  # a sender elsewhere may have delivered it
        if self.case is not None and self.clocks is not None:
            self._render_clocks(self.case, self.clocks, message.now)
            if self._overdue(message.now) != self._breached:  # a clock just went overdue (or back)
                self._render_breaches(message.now)

    def selected_case(self) -> Case | None:
        return self.case

    def action_return_case(self) -> None:
        if case := self._target(Action.RETURN):
            keys = [entry.key for entry in case_checklist(case, self.app.state.policy.evidence)]
            self._ask(TextPrompt(
                f"Return {case.id} to support for missing context",
                [Field("missing", "Missing items:", ", ".join(keys), suggestions=keys),
                 Field("reason", "Reason:", "what the packet lacks")],
                lambda missing, reason: c.ReturnCase(case_id=case.id, missing=tuple(missing.split(",")), reason=reason,
                                                     expect_version=case.version)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reopen is offered on a resolved case only."""
        if action == "reopen":
            return self.case is not None and self.case.status is Status.RESOLVED
        return super().check_action(action, parameters)

    def action_reopen(self) -> None:
        if case := self._target(Action.STATUS):
            self.app.perform(c.Reopen(case_id=case.id, expect_version=case.version))

    def action_copy_id(self) -> None:
        """A case linked to a ticket with a URL: `y` copies the URL (the board's `y` copies the id)."""
        case = self.selected_case()
        if case is not None and case.source is not None and case.source.url:
            self.app.copy_text(case.source.url, f"The ticket URL of {case.id}")
            return
        super().action_copy_id()

    def action_copy_update(self) -> None:
        updates = [e for e in self.events if e.type is EventType.CUSTOMER_UPDATE_LOGGED]
        if not updates:
            self.app.notify("No customer update logged yet", severity="warning")
            return
        self.app.copy_text(updates[-1].payload["message"], "The last customer message")

    def on_screen_resume(self) -> None:
        """Back from a form or the evidence editor: read the case again (the first load runs on mount)."""
        if self.case is not None:
            self.reload()


