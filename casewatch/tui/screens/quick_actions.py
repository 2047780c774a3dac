"""The board's speed keys: take a case in one key (and undo it for a few seconds), mark rows to
act on every marked case at once, and open a case by its id or ticket (`:`).

Taking a case is an ordinary `Assign`; its undo (`CaseActions.offer_undo`, shared with `a` and `c`)
is another `Assign` that puts the previous owner back (the log is never edited), made against the
version the take wrote, so that a change by someone else in between is a conflict, not an overwrite.
A bulk action asks its form once, lists the marked cases in a confirmation, and is written by the
app as one command per case in one transaction (`CasewatchApp.perform_each`): a case that refuses
stays marked, the others are done. A bulk `T`, `a` or `c` offers one undo for every case it changed:
again one command per case, each against the version the bulk wrote, so a case someone else changed
meanwhile refuses (with who changed what) and the rest go back. `ctrl+r` marks every case shown as
read (their `●` goes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.binding import Binding

from casewatch.core import commands as c
from casewatch.core.commands import Command, OnCase
from casewatch.core.jump import case_names, find_case
from casewatch.core.models import Severity, Status
from casewatch.core.permissions import Action
from casewatch.core.text import visible
from casewatch.tui.messages import ActionDone, BulkDone, MarksChanged
from casewatch.tui.screens.case_actions import OWNER_FIELDS, UNDO_FOR, UNDO_TOOLTIP, CaseActions
from casewatch.tui.screens.forms import ChoicePrompt, Confirm, Field, Form, PersonPrompt, TextPrompt
from casewatch.tui.widgets import cells

QUICK_BINDINGS = [
    Binding("T", "take", "Take it", id="board.take", show=False,
            tooltip="Take it: become the internal owner of the case under the cursor (or of the marked cases), "
                    "no form; u undoes it for 10 s"),
    Binding("u", "undo", "Undo", id="board.undo",
            tooltip=UNDO_TOOLTIP),
    Binding("space", "mark", "Mark row", id="board.mark", show=False,
            tooltip="Mark the case under the cursor (again: unmark); a, c, T, n, s and t act on every marked case"),
    Binding("V", "mark_shown", "Mark all shown", id="board.mark_shown", show=False,
            tooltip="Mark every case shown (after a filter or a view)"),
    Binding("escape", "clear_marks", "Clear marks", id="board.clear_marks", show=False,
            tooltip="Clear the marks (Esc again clears the view and the filter)"),
    Binding("ctrl+r", "mark_read", "Mark all read", id="board.mark_read", show=False,
            tooltip="Mark every case shown as read: their ● unread marks go"),
    Binding("colon", "jump", "Open by id", id="board.jump", show=False,
            tooltip="Open a case by its id or ticket key (a unique beginning is enough; → completes it)"),
]

TAKES_TURNS = {frozenset({"board.undo", "case.update"}), frozenset({"case.undo", "case.update"}),
               frozenset({"board.clear_marks", "board.clear_filter"})}
"""Binding ids that share a key by design, one of each pair enabled at a time (`TURNS`): `u`
undoes while an undo is offered (else it logs an update), and Esc clears the marks while there
are some (else the view and the filter)."""

TURNS: dict[str, Callable[[QuickActions], bool]] = {
    "clear_marks": lambda screen: bool(screen.marked),
    "everything": lambda screen: not screen.marked,
}
"""Whether each action of the Esc pair in `TAKES_TURNS` is enabled now (`u`'s: `CaseActions.check_action`)."""

BULK_WORDS: dict[type[Command], Callable[[Any], str]] = {
    c.Assign: lambda cmd: f"internal owner → {cmd.name}",
    c.AssignComms: lambda cmd: f"comms owner → {cmd.name}",
    c.Note: lambda cmd: f"add the note “{' '.join(cmd.text.split())[:60]}”",
    c.ChangeSeverity: lambda cmd: f"severity → {cmd.severity.value} ({cmd.reason})",
    c.ChangeStatus: lambda cmd: f"status → {cmd.status.value.replace('_', ' ')}",
}
"""What a bulk action will do, in the confirmation's words: one entry per command a bulk action sends."""

MARKED_STYLE = "bold reverse"

OwnerCommand = c.Assign | c.AssignComms


@dataclass(frozen=True)
class BulkUndo:
    """What `u` sends after a bulk change of owners (one command per case changed), until when."""

    commands: list[OnCase]
    until: datetime


class QuickActions(CaseActions):
    """Take it, undo, marks and bulk actions, for the board (which shows the marks: `show_marks`)."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: dict[str, None] = {}  # case ids in the order they were marked
        self._taking: dict[str, c.Assign] = {}  # case id -> the take's undo (version: the case's before it)
        self._bulk_sent: dict[str, OwnerCommand] = {}  # case id -> the undo of a bulk change being written
        self._bulk_undo: BulkUndo | None = None  # the bulk undo on offer

    # ------------------------------------------------------- the board's part

    def shown_ids(self) -> list[str]:
        """The cases the board shows, top to bottom."""
        raise NotImplementedError

    def show_marks(self, case_ids: Iterable[str]) -> None:
        """Redraw these cases' rows (marked or not) and the status line's count."""
        raise NotImplementedError

    def redraw_titles(self, case_ids: Iterable[str]) -> None:
        """Redraw these cases' title cells (their ● unread marks)."""
        raise NotImplementedError

    def id_cell(self, case_id: str) -> Text:
        """The id cell of a row: reversed while the case is marked."""
        cell = cells.plain(case_id)
        if case_id in self.marked:
            cell.style = MARKED_STYLE  # the whole cell, padding included: visible in every theme
        return cell

    def go_to_case(self, case_id: str) -> None:
        """The cursor to the case (when the board shows it), and its screen."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TURNS:
            return TURNS[action](self)
        return super().check_action(action, parameters)

    # -------------------------------------------------------------- take it

    def action_take(self) -> None:
        actor = self.app.actor
        if self.marked:
            if self._may_write():
                self._confirm_bulk(c.Assign(case_id=self._first(), name=actor))
            return
        case = self._target(Action.ASSIGN)
        if case is None:
            return
        if case.internal_owner == actor:
            self.app.notify(f"{case.id} is already yours")
            return
        self._taking[case.id] = c.Assign(case_id=case.id, name=case.internal_owner, expect_version=case.version)
        self.app.perform(c.Assign(case_id=case.id, name=actor, expect_version=case.version), reply_to=self)

    @on(ActionDone)
    def _taken(self, message: ActionDone) -> None:
        """Our take was written: offer its undo against the version it wrote."""
        command = message.command
        if not isinstance(command, c.Assign) or command.case_id not in self._taking:
            return
        before = self._taking.pop(command.case_id)
        if message.ok and before.expect_version is not None:
            self.offer_undo(c.Assign, before.case_id, before.name, before.expect_version + 1)

    # ------------------------------------------------------------ bulk undo

    def undo_offered(self) -> bool:
        return super().undo_offered() or (self._bulk_undo is not None and self.app.now() < self._bulk_undo.until)

    def offer_undo(self, kind: type[OwnerCommand], case_id: str, previous: str | None, version: int) -> None:
        self._bulk_undo = None  # the latest change is the one `u` undoes
        super().offer_undo(kind, case_id, previous, version)

    def action_undo(self) -> None:
        bulk, self._bulk_undo = self._bulk_undo, None
        if bulk is None:
            super().action_undo()
            return
        self.refresh_bindings()
        if self.app.now() < bulk.until:
            self.app.perform_each(bulk.commands, reply_to=self, refused_are="not put back")

    def _offer_bulk_undo(self, done: Iterable[str]) -> None:
        """A bulk change of owners was written: `u` puts each case's previous owner back."""
        sent, self._bulk_sent = self._bulk_sent, {}
        undos = [sent[case_id] for case_id in done if case_id in sent]
        if not undos:
            return
        self._undo = None
        commands: list[OnCase] = list(undos)
        self._bulk_undo = BulkUndo(commands, self.app.now() + UNDO_FOR)
        self.refresh_bindings()
        what = OWNER_FIELDS[type(undos[0])][1]
        count = f"{len(undos)} case{'s' if len(undos) != 1 else ''}"
        self.app.notify(f"{what} changed on {count}. u puts each previous one back "
                        f"(for {UNDO_FOR.total_seconds():.0f} s)", title="Undo?", timeout=UNDO_FOR.total_seconds())

    # --------------------------------------------------------- unread marks

    def action_mark_read(self) -> None:
        gone = self.app.mark_read(self.shown_ids())
        self.app.notify(f"{gone} case{'s' if gone != 1 else ''} marked read" if gone else "Nothing shown is unread")

    @on(MarksChanged)
    def _marks_changed(self, message: MarksChanged) -> None:
        self.redraw_titles(message.case_ids)

    # ----------------------------------------------------------------- jump

    def action_jump(self) -> None:
        cases = self.app.state.cases
        names = [name for case in cases.values() for name in case_names(case)[:2]]
        self.app.push_screen(
            TextPrompt("Open a case", [Field("case", "Case id or ticket key:", "e.g. CW-1042 or ZD-48213",
                                             parse=lambda typed: find_case(typed, cases.values()),
                                             suggestions=sorted(names))],
                       lambda case: case, disposable=True),
            self._jumped)

    def _jumped(self, case_id: str | None) -> None:
        if case_id is not None:
            self.go_to_case(case_id)

    # ---------------------------------------------------------------- marks

    def action_mark(self) -> None:
        case = self.selected_case()
        if case is None:
            self.app.notify("No case selected", severity="warning")
            return
        if case.id in self.marked:
            del self.marked[case.id]
        else:
            self.marked[case.id] = None
        self.show_marks([case.id])
        table = self.focused
        if table is not None and hasattr(table, "action_cursor_down"):
            table.action_cursor_down()  # on to the next row, as a file manager does

    def action_mark_shown(self) -> None:
        added = [case_id for case_id in self.shown_ids() if case_id not in self.marked]
        self.marked.update(dict.fromkeys(added))
        self.show_marks(added)

    def action_clear_marks(self) -> None:
        cleared, self.marked = list(self.marked), {}
        self.show_marks(cleared)

    @on(BulkDone)
    def _bulk_done(self, message: BulkDone) -> None:
        """The cases done leave the marks; the refused stay marked, to look at or try again."""
        for case_id in message.done:
            self.marked.pop(case_id, None)
        self.show_marks(message.done)
        self._offer_bulk_undo(message.done)

    # --------------------------------------------------------- bulk actions

    def action_assign(self) -> None:
        if not self.marked:
            super().action_assign()
        elif self._may_write():
            self._ask_bulk(PersonPrompt(f"Internal owner of {self._marked_count()}", self._names(),
                                        lambda name: c.Assign(case_id=self._first(), name=name)))

    def action_comms(self) -> None:
        if not self.marked:
            super().action_comms()
        elif self._may_write():
            self._ask_bulk(PersonPrompt(f"Comms owner of {self._marked_count()}", self._names(),
                                        lambda name: c.AssignComms(case_id=self._first(), name=name)))

    def action_note(self) -> None:
        if not self.marked:
            super().action_note()
        elif self._may_write():
            self._ask_bulk(TextPrompt(f"The same note on {self._marked_count()}",
                                      [Field("text", "Note:", "ctrl+s submits", multiline=True)],
                                      lambda text: c.Note(case_id=self._first(), text=text)))

    def action_severity(self) -> None:
        if not self.marked:
            super().action_severity()
        elif self._may_write():
            policy = self.app.state.policy
            choices = [(s.value, f"{s.value}  {policy[s].label}  → route {policy[s].route}") for s in Severity]
            self._ask_bulk(ChoicePrompt(
                f"Severity of {self._marked_count()}", choices, None,
                lambda value, reason: c.ChangeSeverity(case_id=self._first(), severity=Severity(value),
                                                       reason=reason), reason=True))

    def action_status(self) -> None:
        if not self.marked:
            super().action_status()
        elif self._may_write():
            choices = [(s.value, s.value.replace("_", " ")) for s in Status if s is not Status.NEW]
            self._ask_bulk(ChoicePrompt(
                f"Status of {self._marked_count()}", choices, None,
                lambda value: c.ChangeStatus(case_id=self._first(), status=Status(value)), reason=False))

    def _may_write(self) -> bool:
        return not self.app.refuse_read_only()

    def _first(self) -> str:
        return next(iter(self.marked))

    def _marked_count(self) -> str:
        return f"{len(self.marked)} marked case{'s' if len(self.marked) != 1 else ''}"

    def _ask_bulk(self, form: Form[Any]) -> None:
        """The form closes with its command (made for the first marked case); the confirmation follows."""
        def chosen(command: Any) -> None:
            if isinstance(command, OnCase):
                self._confirm_bulk(command)
        self.app.push_screen(form, chosen)

    def _confirm_bulk(self, command: OnCase) -> None:
        """The same command on every marked case still open, each at the version the board shows."""
        cases = self.app.state.cases
        ids = [case_id for case_id in self.marked if case_id in cases]
        if not ids:
            self.app.notify("None of the marked cases is open any more", severity="warning")
            return
        commands = [command.model_copy(update={"case_id": case_id, "expect_version": cases[case_id].version})
                    for case_id in ids]
        what = visible(BULK_WORDS[type(command)](command))
        gone = len(self.marked) - len(ids)
        closed = f" ({gone} marked case{'s are' if gone != 1 else ' is'} no longer open)" if gone else ""

        def answered(yes: bool | None) -> None:
            if yes:
                self._bulk_sent = self._undos(commands)
                self.app.perform_each(commands, reply_to=self)

        self.app.push_screen(Confirm(f"{what} on {len(ids)} case{'s' if len(ids) != 1 else ''}",
                                     f"{what} on {', '.join(ids)}{closed}? Each case is its own change; "
                                     "a case that refuses stays marked."), answered)

    def _undos(self, commands: list[OnCase]) -> dict[str, OwnerCommand]:
        """The undo of each change of an owner: the owner the board shows back, against the version
        the change will write (other bulk commands have none)."""
        undos: dict[str, OwnerCommand] = {}
        for command in commands:
            if isinstance(command, OwnerCommand) and command.expect_version is not None:
                case = self.app.state.cases[command.case_id]
                previous = getattr(case, OWNER_FIELDS[type(command)][0])
                undos[command.case_id] = type(command)(case_id=command.case_id, name=previous,
                                                       expect_version=command.expect_version + 1)
        return undos
