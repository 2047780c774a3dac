"""Single-key case actions shared by the board and the case screen.

Each action asks core whether the acting person may do it before opening a form (so nobody fills a
form only to be refused), builds the core command with the version the user saw, and hands it to
the app to perform. Naming an owner (`a`, `c`, and the board's `T`) offers an undo for a few
seconds: another event, made against the version our change wrote, so that a change by someone else
in between is a conflict that says who changed what, never an overwrite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from textual import on
from textual.binding import Binding

from casewatch.core import commands as c
from casewatch.core.commands import Command
from casewatch.core.durations import parse_duration
from casewatch.core.errors import CasewatchError
from casewatch.core.models import Case, Role, Severity, Status, parse_route
from casewatch.core.permissions import Action, check
from casewatch.core.reviews import already_reviewed, check_cause, parse_yes_no
from casewatch.core.rules import check_route, customer_message, known_teams
from casewatch.core.templates import fill, templates_for
from casewatch.tui.messages import ClockTick
from casewatch.tui.screens.base import CasewatchScreen
from casewatch.tui.screens.forms import ChoicePrompt, Confirm, Field, Form, PersonPrompt, TextPrompt, UpdateForm

CASE_BINDINGS = [
    Binding("a", "assign", "Owner", id="case.assign", tooltip="Assign the internal investigation owner"),
    Binding("c", "comms", "Comms", id="case.comms", tooltip="Assign the customer-communication owner"),
    Binding("s", "severity", "Severity", id="case.severity", tooltip="Change severity (with a reason)"),
    Binding("r", "route", "Route", id="case.route", tooltip="Change or confirm the route"),
    Binding("u", "update", "Update", id="case.update",
            tooltip="Log a structured customer update (for 10 s after naming an owner, u is Undo instead)"),
    Binding("v", "review", "Review", id="case.review", tooltip="Log an internal review"),
    Binding("t", "status", "Status", id="case.status", tooltip="Change status"),
    Binding("n", "note", "Note", id="case.note", tooltip="Add a note to the timeline"),
    Binding("C", "close", "Resolve & review", id="case.close", show=False,
            tooltip="Resolve the case with its post-case review: final severity, avoidable, cause, lesson"),
    Binding("e", "evidence", "Evidence", id="case.evidence", tooltip="Edit the evidence checklist"),
    Binding("p", "packet", "Packet", id="case.packet", show=False,
            tooltip="Preview the escalation packet and copy it"),
    Binding("A", "authority", "Authority", id="case.authority", show=False,
            tooltip="Set the route authority: who may change the route"),
    Binding("i", "involve", "Involve", id="case.involve", show=False, tooltip="Involve someone: add a participant"),
    Binding("N", "new_case", "New case", id="case.new", show=False, tooltip="Escalate a new case"),
    Binding("y", "copy_id", "Copy id", id="case.copy_id", show=False, tooltip="Copy the case id to the clipboard"),
]
UNDO_FOR = timedelta(seconds=10)
UNDO_TOOLTIP = ("Within 10 s of naming an owner (T, a or c): put the previous one back (a new event); the footer "
                "shows u Undo meanwhile")
OWNER_FIELDS: dict[type[c.Assign | c.AssignComms], tuple[str, str]] = {
    c.Assign: ("internal_owner", "internal owner"),
    c.AssignComms: ("comms_owner", "comms owner"),
}
"""The commands `u` can undo: the case field each sets and what it is called, one entry each."""
ON_THE_CASE = frozenset(binding.id for binding in CASE_BINDINGS if binding.id != "case.new")
"""The bindings that act on the screen's current case (a keymap replaces bindings, ids stay)."""


@dataclass(frozen=True)
class Undo:
    """What `u` sends, until when."""

    command: c.Assign | c.AssignComms
    until: datetime


class CaseActions(CasewatchScreen):
    """A screen with a current case (`selected_case`) and the single-key actions on it."""

    _undo: Undo | None = None  # the undo on offer (set by `offer_undo`)
    _undo_shown = False  # whether the footer shows `u Undo` (else `u Update`), as of its last refresh

    def selected_case(self) -> Case | None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`u` undoes while an undo is on offer, else it logs a customer update."""
        if action in ("undo", "update"):
            return self.undo_offered() == (action == "undo")
        return super().check_action(action, parameters)

    def undo_offered(self) -> bool:
        return self._undo is not None and self.app.now() < self._undo.until

    def offer_undo(self, kind: type[c.Assign | c.AssignComms], case_id: str, previous: str | None,
                   version: int) -> None:
        """Our change of an owner made `case_id` `version`: offer `u` to put `previous` back."""
        field, what = OWNER_FIELDS[kind]
        case = self.app.state.cases.get(case_id)
        now_named = getattr(case, field) if case is not None else None
        self._undo = Undo(kind(case_id=case_id, name=previous, expect_version=version), self.app.now() + UNDO_FOR)
        self.refresh_bindings()
        said = f"{case_id} is yours now" if kind is c.Assign and now_named == self.app.actor \
            else f"{case_id}: {what} {now_named or 'nobody'}"
        self.app.notify(f"{said}. u puts {previous or 'nobody'} back (for {UNDO_FOR.total_seconds():.0f} s)",
                        title="Undo?", timeout=UNDO_FOR.total_seconds())

    def refresh_bindings(self) -> None:
        self._undo_shown = self.undo_offered()  # what the footer shows from now on
        super().refresh_bindings()

    @on(ClockTick)
    def _undo_runs_out(self) -> None:
        """The footer's `u Undo` turns back into `u Update` when the offer runs out."""
        if self.undo_offered() != self._undo_shown:
            self.refresh_bindings()

    def action_undo(self) -> None:
        undo, self._undo = self._undo, None
        self.refresh_bindings()
        if undo is not None and self.app.now() < undo.until:
            self.app.perform(undo.command, reply_to=self)

    def _undoable(self, case: Case, kind: type[c.Assign | c.AssignComms]) -> Callable[[str], None]:
        """After a form named an owner of `case` (as the user saw it, at its version): the undo."""
        previous = getattr(case, OWNER_FIELDS[kind][0])
        return lambda case_id: self.offer_undo(kind, case_id, previous, case.version + 1)

    def action_copy_id(self) -> None:
        case = self.selected_case()
        if case is None:
            self.app.notify("No case selected", severity="warning")
            return
        self.app.copy_text(case.id, case.id)

    def _target(self, action: Action) -> Case | None:
        case = self.selected_case()
        if case is None:
            self.app.notify("No case selected", severity="warning")
            return None
        if self.app.refuse_read_only():
            return None
        me = self.app.me
        if me is None:
            self.app.notify(f"{self.app.actor} is not on the roster", severity="error")
            return None
        try:
            check(me, action, case)
        except CasewatchError as exc:
            self.app.notify(str(exc), title="Not allowed", severity="error")
            return None
        return case

    def _ask(self, form: Form[Command], then: Callable[[str], None] | None = None) -> None:
        """Open `form`; it stays open until its command is written (or the user leaves it). `then`
        gets the case written to, once it is."""
        form.writes = partial(self._submit, form)
        self.app.push_screen(form, lambda _: then(form.written) if then and form.written else None)

    def reveal_case(self, case_id: str) -> None:
        """Bring a case just escalated here into view (the board moves its cursor to it)."""

    def _submit(self, form: Form[Command], command: Command) -> None:
        if isinstance(command, c.ChangeStatus) and command.status is Status.RESOLVED:
            case = self.app.state.cases.get(command.case_id)
            title = f"{command.case_id} {case.title}" if case else command.case_id

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.app.perform(command, reply_to=form)
                else:
                    form.dismiss(None)

            self.app.push_screen(Confirm(f"Resolve {command.case_id}",
                                         f"Resolve {title}? It leaves the board."), confirmed)
        else:
            self.app.perform(command, copy_message=isinstance(command, c.CustomerUpdate), reply_to=form)

    def _names(self) -> list[str]:
        return [name for name, person in self.app.state.roster.items() if person.role is not Role.VIEWER]

    def action_assign(self) -> None:
        if case := self._target(Action.ASSIGN):
            self._ask(PersonPrompt(f"Internal owner of {case.id}", self._names(),
                                   lambda name: c.Assign(case_id=case.id, name=name, expect_version=case.version)),
                      self._undoable(case, c.Assign))

    def action_comms(self) -> None:
        if case := self._target(Action.COMMS):
            self._ask(PersonPrompt(f"Comms owner of {case.id}", self._names(),
                                   lambda name: c.AssignComms(case_id=case.id, name=name,
                                                              expect_version=case.version)),
                      self._undoable(case, c.AssignComms))

    def action_authority(self) -> None:
        if case := self._target(Action.AUTHORITY):
            self._ask(PersonPrompt(f"Route authority of {case.id}", self._names(),
                                   lambda name: c.SetAuthority(case_id=case.id, name=name,
                                                               expect_version=case.version)))

    def action_involve(self) -> None:
        case = self.selected_case()
        if case is None:
            self.app.notify("No case selected", severity="warning")
            return

        def build(name: str, role: str) -> Command:
            return c.Involve(case_id=case.id, name=name, role=role, expect_version=case.version)

        policy = self.app.state.policy
        roles = sorted({role for severity in Severity for role in policy[severity].must_involve})
        self._ask(PersonPrompt(f"Involve someone on {case.id}", self._names(), build, roles=roles))

    def action_severity(self) -> None:
        if case := self._target(Action.SEVERITY):
            policy = self.app.state.policy
            choices = [(s.value, f"{s.value}  {policy[s].label}  → route {policy[s].route}") for s in Severity]
            self._ask(ChoicePrompt(
                f"Severity of {case.id}", choices, case.severity.value,
                lambda value, reason: c.ChangeSeverity(case_id=case.id, severity=Severity(value), reason=reason,
                                                       expect_version=case.version), reason=True))

    def action_status(self) -> None:
        if case := self._target(Action.STATUS):
            choices = [(s.value, s.value.replace("_", " ")) for s in Status if s is not Status.NEW]
            self._ask(ChoicePrompt(
                f"Status of {case.id}", choices, case.status.value,
                lambda value: c.ChangeStatus(case_id=case.id, status=Status(value), expect_version=case.version),
                reason=False))

    def action_route(self) -> None:
        if case := self._target(Action.ROUTE):
            teams = known_teams(self.app.state.roster, self.app.state.policy)
            self._ask(TextPrompt(
                f"Route of {case.id} (now {case.route})",
                [Field("route", "Route:", "support, incident or specialist:TEAM",
                       parse=lambda text: check_route(parse_route(text), teams),
                       suggestions=["support", "incident", *(f"specialist:{t}" for t in teams)]),
                 Field("reason", "Reason:", "why"),
                 Field("override", "Override (leads):", "why it goes before the packet is complete", optional=True)],
                lambda route, reason, override: c.ChangeRoute(case_id=case.id, route=route, reason=reason,
                                                              override=override, expect_version=case.version)))

    def action_update(self) -> None:
        if (case := self._target(Action.UPDATE)) and (me := self.app.me):
            app = self.app

            def preview(values: Mapping[str, object]) -> str:
                delta = values["next_update_in"]
                return customer_message(case, app.state.policy, me, app.now(), str(values["known"] or "…"),
                                        str(values["investigating"] or "…"), str(values["next_milestone"] or "…"),
                                        delta if isinstance(delta, timedelta) else None)

            def build(known: str, investigating: str, next_milestone: str, next_update_in: timedelta | None) -> Command:
                return c.CustomerUpdate(
                    case_id=case.id, known=known, investigating=investigating, next_milestone=next_milestone,
                    next_update_in=f"{next_update_in.total_seconds():.0f}s" if next_update_in else None,
                    expect_version=case.version)

            self._ask(UpdateForm(
                f"Customer update for {case.id} ({case.customer})",
                [Field("known", "What we know:", "what is confirmed", multiline=True),
                 Field("investigating", "What we are investigating:", "the open question", multiline=True),
                 Field("next_milestone", "Next milestone:", "what the customer should expect next"),
                 Field("next_update_in", "Next update in (blank: policy cadence):", "e.g. 45m",
                       parse=parse_duration, optional=True)],
                build, preview,
                [(template.name, fill(template, case, app.state.policy, app.now(), me.tz)._asdict())
                 for template in templates_for(case, app.state.policy)]))

    def action_review(self) -> None:
        if case := self._target(Action.REVIEW):
            self._ask(TextPrompt(f"Internal review of {case.id}",
                                 [Field("notes", "Notes:", "what was decided (ctrl+s submits)", multiline=True)],
                                 lambda notes: c.Review(case_id=case.id, notes=notes, expect_version=case.version)))

    def action_close(self) -> None:
        if case := self._target(Action.CLOSE):
            if refusal := already_reviewed(case):
                self.app.notify(refusal, title="Not now", severity="warning", markup=False)
                return
            causes = self.app.state.policy.causes
            severities = [s.value for s in Severity]
            self._ask(TextPrompt(
                f"Close and review {case.id} (now {case.severity.value})",
                [Field("final_severity", "Final severity:", "what it turned out to be: SEV1 … SEV4",
                       parse=Severity.parse, suggestions=severities),
                 Field("avoidable", "Avoidable (yes/no):", "could support have resolved it without escalating?",
                       parse=parse_yes_no, suggestions=["yes", "no"]),
                 Field("cause", "Cause:", ", ".join(causes), parse=lambda text: check_cause(text, causes),
                       optional=True, suggestions=causes),
                 Field("lesson", "Lesson:", "what would have prevented it or made it faster", optional=True,
                       multiline=True),
                 Field("notes", "Notes:", "anything else (ctrl+s submits)", optional=True, multiline=True)],
                lambda final_severity, avoidable, cause, lesson, notes: c.CloseCase(
                    case_id=case.id, final_severity=final_severity, avoidable=avoidable, cause=cause,
                    lesson=lesson or "", notes=notes or "", expect_version=case.version)))

    def action_note(self) -> None:
        if case := self._target(Action.NOTE):
            self._ask(TextPrompt(f"Note on {case.id}", [Field("text", "Note:", "ctrl+s submits", multiline=True)],
                                 lambda text: c.Note(case_id=case.id, text=text, expect_version=case.version)))

    def action_evidence(self) -> None:
        from casewatch.tui.screens.evidence import EvidenceScreen

        if case := self.selected_case():
            self.app.push_screen(EvidenceScreen(case.id))
        else:
            self.app.notify("No case selected", severity="warning")

    def action_packet(self) -> None:
        from casewatch.tui.screens.packet import PacketScreen

        if case := self.selected_case():
            self.app.push_screen(PacketScreen(case.id))
        else:
            self.app.notify("No case selected", severity="warning")

    def action_new_case(self) -> None:
        if self.app.refuse_read_only():  # a replay or the wall: no form to fill only to be refused
            return
        self._ask(TextPrompt(
            "Escalate a new case",
            [Field("title", "Title:", "what is broken"), Field("customer", "Customer:"),
             Field("severity", "Severity:", "SEV1–SEV4", parse=Severity.parse,
                   suggestions=[s.value for s in Severity]),
             Field("summary", "Summary (optional):", "ctrl+s submits", optional=True, multiline=True)],
            lambda title, customer, severity, summary: c.NewCase(
                title=title, customer=customer, severity=severity, summary=summary or "")), self.reveal_case)
