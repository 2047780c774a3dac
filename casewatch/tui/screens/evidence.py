"""The evidence-checklist editor: the case's items on the left, the selected item's text on the right.

Edits are drafts until ctrl+s saves them; each save names the item version it started from, so a
colleague's edit of another item goes through and a newer edit of the same item is a conflict that
keeps the user's text and can show theirs side by side. Values are shown literally: control
characters as visible escapes, brackets and markup characters as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from casewatch.core import commands as c
from casewatch.core.evidence import ChecklistEntry, case_checklist, readiness
from casewatch.core.models import Case, EvidenceRecord, EvidenceState
from casewatch.core.text import counted, visible
from casewatch.core.zones import zone_label
from casewatch.tui.messages import ActionDone, CasesChanged
from casewatch.tui.screens.base import CasewatchModal, CasewatchScreen
from casewatch.tui.screens.forms import Field, TextPrompt
from casewatch.tui.widgets import cells
from casewatch.tui.widgets.footer import CasewatchFooter
from casewatch.tui.widgets.plain_paste import PlainTextArea

CYCLE = (EvidenceState.MISSING, EvidenceState.PARTIAL, EvidenceState.DONE, EvidenceState.NA)


@dataclass
class Draft:
    """What the user has made of one item since it was loaded: `base` is the record they started
    from (its version goes with the save), `text` what the TextArea holds."""

    base: EvidenceRecord
    state: EvidenceState
    text: str
    reason: str
    conflict: EvidenceRecord | None = None  # a newer record of this item saved by someone else
    compared: bool = False  # the user has looked at it: saving now deliberately replaces it

    @property
    def expect_version(self) -> int:
        return self.conflict.version if self.conflict is not None and self.compared else self.base.version

    def holds(self, record: EvidenceRecord) -> bool:
        shown = visible(record.value, multiline=True)
        return (self.state, self.text, self.reason) == (record.state, shown, record.reason)

    @property
    def dirty(self) -> bool:
        b = self.base
        return (self.state, self.text, self.reason) != (b.state, visible(b.value, multiline=True), b.reason)


class EvidenceScreen(CasewatchScreen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="evidence.back",
                tooltip="Back to the list, then leave the editor (asking first if text is unsaved)"),
        Binding("j", "move(1)", "Down", id="evidence.down", show=False, tooltip="Next item"),
        Binding("k", "move(-1)", "Up", id="evidence.up", show=False, tooltip="Previous item"),
        Binding("space", "cycle", "State", id="evidence.cycle",
                tooltip="Cycle the item's state: missing, partial, done, na"),
        Binding("enter", "edit", "Edit", id="evidence.edit", tooltip="Edit the item's text"),
        Binding("ctrl+s", "save", "Save", id="evidence.save", priority=True, tooltip="Save every changed item"),
        Binding("d", "compare", "Compare", id="evidence.compare",
                tooltip="After a conflict: show the newer text beside yours"),
        Binding("p", "packet", "Packet", id="evidence.packet", tooltip="Preview the escalation packet"),
    ]

    def __init__(self, case_id: str):
        super().__init__()
        self.case_id = case_id
        self.case: Case | None = None
        self.entries: list[ChecklistEntry] = []
        self.drafts: dict[str, Draft] = {}
        self.selected = 0
        self._loading_text = False
        self._saving: set[str] = set()  # items of the save under way, until each write answers
        self._saved: list[str] = []  # those of them written

    def compose(self) -> ComposeResult:
        yield Static(id="evidence-heading")
        with Horizontal(id="evidence-body"):
            yield OptionList(id="evidence-items")
            with Vertical(id="evidence-side"):
                yield Static(id="evidence-item")
                with Horizontal(id="evidence-texts"):
                    yield PlainTextArea(id="evidence-value", soft_wrap=True, show_line_numbers=False)
                    theirs = TextArea(id="evidence-theirs", read_only=True, soft_wrap=True)
                    theirs.border_title = "Newer (theirs)"
                    theirs.display = False
                    yield theirs
                yield Static(id="evidence-status")
        yield CasewatchFooter()

    def on_mount(self) -> None:
        self.load(self.app.state.cases.get(self.case_id))
        if self.case is None:
            self.run_worker(self._fetch(), name="Load evidence", group="evidence-load", exclusive=True,
                            exit_on_error=False)
        self.query_one(OptionList).focus()

    async def _fetch(self) -> None:
        self.load(await self.app.store.get_case(self.case_id))

    # ---------------------------------------------------------------- state

    def load(self, case: Case | None) -> None:
        """Take the case as stored; drafts with unsaved changes survive, clean ones follow the store."""
        if case is None:
            return
        self.case = case
        self.entries = case_checklist(case, self.app.state.policy.evidence, every_route=True)
        for entry in self.entries:
            draft, r = self.drafts.get(entry.key), entry.record
            if draft is None or not draft.dirty or draft.holds(r):  # clean, or our own save came back
                self.drafts[entry.key] = Draft(r, r.state, visible(r.value, multiline=True), r.reason)
            elif r.version != draft.base.version and (draft.conflict is None or draft.conflict.version < r.version):
                draft.conflict, draft.compared = r, False  # someone else saved this item under the user's draft
        self.selected = min(self.selected, len(self.entries) - 1)
        self._render_list()
        self._show_item()

    @property
    def entry(self) -> ChecklistEntry:
        return self.entries[self.selected]

    @property
    def draft(self) -> Draft:
        return self.drafts[self.entry.key]

    def dirty_keys(self) -> list[str]:
        return [e.key for e in self.entries if self.drafts[e.key].dirty]

    # ---------------------------------------------------------------- rendering

    def _drafted_entries(self) -> list[ChecklistEntry]:
        return [replace(e, record=replace(e.record, state=self.drafts[e.key].state)) for e in self.entries]

    def _render_heading(self) -> None:
        case = self.case
        if case is None:
            return
        ready = readiness(self._drafted_entries())
        text = Text()
        text.append(f" {case.id} ", style="bold reverse")
        text.append(" Evidence ")
        text.append(f"{ready} required ready", style="bold")
        unsaved = len(self.dirty_keys())
        if unsaved:
            text.append(f"  ({unsaved} unsaved)", style=self.app.colours.get("clock-warning", ""))
        text.append("  ")
        text.append(visible(case.title), style="bold")
        text.append("\n")
        if ready.missing:
            text.append("Not ready: ", style=self.app.colours.get("flag", ""))
            text.append(ready.not_ready)
        else:
            text.append("Packet complete", style=self.app.colours.get("clock-met", ""))
        if case.returned is not None:
            r = case.returned
            text.append(f"\n↩ returned by {r.by} from {r.from_route}: ", style=self.app.colours.get("flag", ""))
            text.append(visible(r.reason))
        self.query_one("#evidence-heading", Static).update(text)

    def _option(self, entry: ChecklistEntry) -> Option:
        draft = self.drafts[entry.key]
        line = Text()
        line.append_text(cells.evidence_glyph(draft.state, self.app.colours))
        line.append(f" {visible(entry.item.label)}", style="bold" if entry.required else "")
        line.append(f"  {draft.state.value}", style="dim")
        if entry.required:
            line.append(" *", style=self.app.colours.get("flag", ""))
        if draft.dirty:
            line.append(" •", style=self.app.colours.get("clock-warning", ""))
        if draft.conflict is not None:
            line.append(" ⚠ conflict", style=self.app.colours.get("clock-breached", ""))
        hint = Text(f"  {visible(entry.item.hint)}", style="dim", no_wrap=True, overflow="ellipsis")
        line.no_wrap, line.overflow = True, "ellipsis"
        return Option(Group(line, hint) if entry.item.hint else line, id=entry.key)

    def _render_list(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([self._option(e) for e in self.entries])
        options.highlighted = self.selected
        self._render_heading()

    def _refresh_option(self, key: str) -> None:
        options = self.query_one(OptionList)
        index = next(i for i, e in enumerate(self.entries) if e.key == key)
        options.replace_option_prompt_at_index(index, self._option(self.entries[index]).prompt)
        self._render_heading()

    def _show_item(self) -> None:
        entry, draft = self.entry, self.draft
        head = Text()
        head.append(visible(entry.item.label), style="bold")
        head.append(f"  {entry.key}", style="dim")
        head.append("  required" if entry.required else "  optional", style="dim")
        record = entry.record
        if record.by is not None and record.at is not None:
            head.append(f"\nlast changed by {record.by}, {record.at.astimezone(self.app.zone):%a %d %b %H:%M} "
                        f"{zone_label(self.app.zone, record.at)}, v{record.version}", style="dim")
        self.query_one("#evidence-item", Static).update(head)
        area = self.query_one("#evidence-value", TextArea)
        if area.text != draft.text:
            self._loading_text = True
            area.load_text(draft.text)
        area.border_title = cells.literal(f"{entry.item.label}: {draft.state.value}")
        self._show_theirs(False)
        self._render_status()

    def _render_status(self) -> None:
        draft = self.draft
        status = Text()
        if draft.reason:
            status.append("Reason: ", style="dim")
            status.append(visible(draft.reason))
        if draft.conflict is not None:
            theirs = draft.conflict
            status.append(f"\n⚠ {theirs.by or 'someone'} saved a newer version (v{theirs.version}); your text is kept. "
                          "d shows theirs beside yours; ctrl+s then saves yours over it.",
                          style=self.app.colours.get("clock-breached", ""))
        self.query_one("#evidence-status", Static).update(status)

    def _show_theirs(self, show: bool) -> None:
        theirs = self.query_one("#evidence-theirs", TextArea)
        conflict = self.draft.conflict if self.entries else None
        theirs.display = show and conflict is not None
        if theirs.display and conflict is not None:
            theirs.load_text(visible(conflict.value, multiline=True))
            theirs.border_title = cells.literal(
                f"Newer: {conflict.state.value}, by {conflict.by or 'someone'} (v{conflict.version})")

    # ---------------------------------------------------------------- events

    @on(OptionList.OptionHighlighted, "#evidence-items")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.selected and self.entries:
            self.selected = event.option_index
            self._show_item()

    @on(OptionList.OptionSelected, "#evidence-items")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_edit()

    @on(TextArea.Changed, "#evidence-value")
    def _typed(self, event: TextArea.Changed) -> None:
        if self._loading_text:
            self._loading_text = False
            return
        if not self.entries:
            return
        was = self.draft.dirty
        self.draft.text = event.text_area.text
        if was != self.draft.dirty:
            self._refresh_option(self.entry.key)

    @on(CasesChanged)
    def _changed(self, message: CasesChanged) -> None:
        if self.case_id in message.changed or message.everything:
            self.load(self.app.state.cases.get(self.case_id) or self.case)

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        command = message.command
        if not isinstance(command, c.SetEvidence) or command.case_id != self.case_id:
            return
        if command.key in self._saving:
            self._saving.discard(command.key)
            if message.ok:
                self._saved.append(command.key)
            if not self._saving and self._saved:  # one toast for the whole save, not one per item
                order = [entry.key for entry in self.entries]  # the checklist's, whichever write ended first
                saved = sorted(self._saved, key=lambda key: order.index(key) if key in order else len(order))
                self.app.notify(f"{self.case_id}: {counted(len(saved), 'evidence item')} saved "
                                f"({', '.join(saved)})", title="Saved", markup=False)
        if message.ok or message.conflict:  # the app has the newest case now; a conflict keeps the draft
            self.load(self.app.state.cases.get(self.case_id) or self.case)

    # ---------------------------------------------------------------- actions

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.has_focus:
            options.action_cursor_down() if step > 0 else options.action_cursor_up()

    def action_cycle(self) -> None:
        if not self.query_one(OptionList).has_focus or not self.entries:
            return
        draft = self.draft
        following = CYCLE[(CYCLE.index(draft.state) + 1) % len(CYCLE)]
        if following is EvidenceState.NA:
            key = self.entry.key
            self.app.push_screen(
                TextPrompt(f"Why is {key} not applicable?", [Field("reason", "Reason:", "e.g. no logs exist for this")],
                           lambda reason: reason),
                lambda reason: self._set_state(key, EvidenceState.NA, reason) if reason else None)  # Esc: unchanged
            return
        self._set_state(self.entry.key, following, "" if draft.state is EvidenceState.NA else draft.reason)

    def _set_state(self, key: str, state: EvidenceState, reason: str) -> None:
        draft = self.drafts[key]
        draft.state, draft.reason = state, reason
        self._refresh_option(key)
        if key == self.entry.key:
            self.query_one("#evidence-value", TextArea).border_title = \
                cells.literal(f"{self.entry.item.label}: {state.value}")
            self._render_status()

    def action_edit(self) -> None:
        """Into the item's text, the cursor after it: an item is mostly added to."""
        if self.entries:
            area = self.query_one("#evidence-value", TextArea)
            area.focus()
            area.move_cursor(area.document.end)

    def action_back(self) -> None:
        if self.query_one("#evidence-value", TextArea).has_focus:
            self.query_one(OptionList).focus()
            return
        unsaved = self.dirty_keys()
        if not unsaved:
            self.app.pop_screen()
            return

        def leave(discard: bool | None) -> None:
            if discard:
                self.app.pop_screen()

        self.app.push_screen(LeaveUnsaved(unsaved), leave)

    def action_save(self) -> None:
        keys = self.dirty_keys()
        if not keys:
            self.app.notify("Nothing to save", severity="information")
            return
        self._saving, self._saved = set(keys), []
        for key in keys:
            draft = self.drafts[key]
            # else keep the stored text exactly as it is
            edited = draft.text != visible(draft.base.value, multiline=True)
            self.app.perform(c.SetEvidence(case_id=self.case_id, key=key, state=draft.state,
                                           value=draft.text if edited else None, reason=draft.reason,
                                           expect_item_version=draft.expect_version), quiet=True)

    def action_compare(self) -> None:
        if self.entries and self.draft.conflict is not None:
            self.draft.compared = True
            theirs = self.query_one("#evidence-theirs", TextArea)
            self._show_theirs(not theirs.display)
        else:
            self.app.notify("No conflict on this item", severity="information")

    def action_packet(self) -> None:
        from casewatch.tui.screens.packet import PacketScreen

        self.app.push_screen(PacketScreen(self.case_id))


class LeaveUnsaved(CasewatchModal[bool]):
    """Leaving with drafts asks first: y discards them, n (or Esc) stays."""

    BINDINGS = [
        Binding("y", "answer(True)", "Discard", id="evidence.discard", tooltip="Leave and lose the unsaved text"),
        Binding("n,escape", "answer(False)", "Stay", id="evidence.stay", tooltip="Stay in the editor"),
    ]

    def __init__(self, keys: list[str]):
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="form") as frame:
            frame.border_title = "Unsaved changes"
            yield Label(Text(f"Unsaved changes on {', '.join(self.keys)}."))
            yield Label(Text("Leave and discard them? y discards, n stays (ctrl+s in the editor saves)."))

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)
