"""Single-key case actions shared by the board and the case screen.

Each action asks core whether the acting person may do it before opening a form (so nobody fills a
form only to be refused), builds the core command with the version the user saw, and hands it to
the app to perform.
"""

from __future__ import annotations

from textual.binding import Binding

from casewatch.core import commands as c
from casewatch.core.durations import parse_duration
from casewatch.core.errors import CasewatchError
from casewatch.core.models import Case, Severity, Status, parse_route
from casewatch.core.permissions import Action, check
from casewatch.core.rules import customer_message
from casewatch.tui.screens.forms import ChoicePrompt, PersonPrompt, TextPrompt, UpdateForm

CASE_BINDINGS = [
    Binding("a", "assign", "Owner", id="case.assign", tooltip="Name the internal investigation owner"),
    Binding("c", "comms", "Comms", id="case.comms", tooltip="Name the customer-communication owner"),
    Binding("s", "severity", "Severity", id="case.severity", tooltip="Change severity (with a reason)"),
    Binding("r", "route", "Route", id="case.route", tooltip="Change or confirm the route"),
    Binding("u", "update", "Update", id="case.update", tooltip="Log a structured customer update"),
    Binding("v", "review", "Review", id="case.review", tooltip="Log an internal review"),
    Binding("t", "status", "Status", id="case.status", tooltip="Change status"),
    Binding("n", "note", "Note", id="case.note", tooltip="Add a note to the timeline"),
    Binding("e", "evidence", "Evidence", id="case.evidence", tooltip="Edit the evidence checklist"),
    Binding("p", "packet", "Packet", id="case.packet", show=False,
            tooltip="Preview the escalation packet and copy it"),
    Binding("A", "authority", "Authority", id="case.authority", show=False,
            tooltip="Name who may change the route"),
    Binding("i", "involve", "Involve", id="case.involve", show=False, tooltip="Add a participant"),
    Binding("N", "new_case", "New case", id="case.new", show=False, tooltip="Escalate a new case"),
]


class CaseActions:
    """Mixed into screens that have a current case (`selected_case`)."""

    def selected_case(self) -> Case | None:
        raise NotImplementedError

    def _target(self, action: Action, **kwargs) -> Case | None:
        case = self.selected_case()
        if case is None:
            self.app.notify("No case selected", severity="warning")
            return None
        me = self.app.me
        if me is None:
            self.app.notify(f"{self.app.actor} is not on the roster", severity="error")
            return None
        try:
            check(me, action, case, **kwargs)
        except CasewatchError as exc:
            self.app.notify(str(exc), title="Not allowed", severity="error")
            return None
        return case

    def _ask(self, form) -> None:
        self.app.push_screen(form, self._submit)

    def _submit(self, command) -> None:
        if command is not None:
            self.app.perform(command, copy_message=isinstance(command, c.CustomerUpdate))

    def _names(self) -> list[str]:
        return [name for name, person in self.app.state.roster.items() if person.role.value != "viewer"]

    def action_assign(self) -> None:
        if case := self._target(Action.ASSIGN):
            self._ask(PersonPrompt(f"Internal owner of {case.id}", self._names(),
                                   lambda name: c.Assign(case_id=case.id, name=name, expect_version=case.version)))

    def action_comms(self) -> None:
        if case := self._target(Action.COMMS):
            self._ask(PersonPrompt(f"Comms owner of {case.id}", self._names(),
                                   lambda name: c.AssignComms(case_id=case.id, name=name,
                                                              expect_version=case.version)))

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
        self._ask(PersonPrompt(f"Involve someone on {case.id}", self._names(),
                               lambda name, role: c.Involve(case_id=case.id, name=name, role=role or None,
                                                            expect_version=case.version), role=True))

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
            teams = sorted({p.team for p in self.app.state.roster.values() if p.team})
            self._ask(TextPrompt(
                f"Route of {case.id} (now {case.route})",
                [("route", "Route:", "support, incident or specialist:TEAM"), ("reason", "Reason:", "why"),
                 ("override", "Override (leads):", "why it goes before the packet is complete")],
                lambda route, reason, override: c.ChangeRoute(
                    case_id=case.id, route=parse_route(route), reason=reason, override=override or None,
                    expect_version=case.version),
                parsers={"route": parse_route},
                suggestions={"route": ["support", "incident"] + [f"specialist:{t}" for t in teams]},
                optional=("override",)))

    def action_update(self) -> None:
        if case := self._target(Action.UPDATE):
            app = self.app

            def preview(known: str, investigating: str, next_milestone: str, next_update_in: str) -> str:
                delta = parse_duration(next_update_in) if next_update_in else None
                return customer_message(case, app.state.policy, app.me, app.now(), known or "…",
                                        investigating or "…", next_milestone or "…", delta)

            self._ask(UpdateForm(
                f"Customer update for {case.id} ({case.customer})",
                lambda known, investigating, next_milestone, next_update_in: c.CustomerUpdate(
                    case_id=case.id, known=known, investigating=investigating, next_milestone=next_milestone,
                    next_update_in=next_update_in or None, expect_version=case.version),
                preview, parsers={"next_update_in": parse_duration}))

    def action_review(self) -> None:
        if case := self._target(Action.REVIEW):
            self._ask(TextPrompt(f"Internal review of {case.id}", [("notes", "Notes:", "what was decided")],
                                 lambda notes: c.Review(case_id=case.id, notes=notes, expect_version=case.version)))

    def action_note(self) -> None:
        if case := self._target(Action.NOTE):
            self._ask(TextPrompt(f"Note on {case.id}", [("text", "Note:", "")],
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
        self._ask(TextPrompt(
            "Escalate a new case",
            [("title", "Title:", "what is broken"), ("customer", "Customer:", ""),
             ("severity", "Severity:", "SEV1–SEV4"), ("summary", "Summary (optional):", "")],
            lambda title, customer, severity, summary: c.NewCase(
                title=title, customer=customer, severity=Severity.parse(severity), summary=summary),
            parsers={"severity": Severity.parse}, suggestions={"severity": [s.value for s in Severity]},
            optional=("summary",)))
