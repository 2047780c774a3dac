"""The rules of every action: given a command, the case as it is, who acts and when, decide the event.

`decide` checks permissions and domain rules and returns the event to append, with before/after
values and any policy decision (route, route review) baked into its payload, so that replaying the
log never needs the policy of the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.evidence import default_checklist
from casewatch.core.messages import render_customer_update
from casewatch.core.models import Case, Event, EventType, Person, Role, Status
from casewatch.core.permissions import Action, check
from casewatch.core.policy import Policy, parse_policy


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at besides the case: all passed in, nothing read."""

    actor: Person
    roster: Mapping[str, Person]
    policy: Policy
    occurred_at: datetime
    recorded_at: datetime
    shift_lead: str | None = None


def _person(ctx: Context, name: str) -> Person:
    person = ctx.roster.get(name.strip())
    if person is None:
        raise NotFound(f"no person named {name.strip()!r} on the roster (see `casewatch people list`)")
    return person


def _event(ctx: Context, kind: EventType, case_id: str | None, **payload) -> Event:
    return Event(
        case_id=case_id, type=kind, actor=ctx.actor.name,
        occurred_at=ctx.occurred_at, recorded_at=ctx.recorded_at, payload=payload,
    )


def _not_viewer(person: Person, what: str) -> None:
    if person.role is Role.VIEWER:
        raise InvalidInput(f"{person.name} is a viewer and cannot be the {what}")


def decide(command, case: Case | None, ctx: Context, *, new_case_id: str | None = None) -> Event:
    """Return the event `command` produces, or raise InvalidInput / NotFound / PermissionDenied."""
    handler = _HANDLERS[type(command)]
    if isinstance(command, c.OnCase) and case is None:
        raise NotFound(f"no case {command.case_id}")
    if isinstance(command, c.NewCase):
        return handler(command, ctx, new_case_id)
    if case is None:
        return handler(command, ctx)
    return handler(command, case, ctx)


def _new(cmd: c.NewCase, ctx: Context, case_id: str) -> Event:
    check(ctx.actor, Action.NEW)
    sp = ctx.policy[cmd.severity]
    authority = ctx.shift_lead or (ctx.actor.name if ctx.actor.role is Role.LEAD else None)
    return _event(
        ctx, EventType.CASE_CREATED, case_id,
        title=cmd.title, customer=cmd.customer, summary=cmd.summary.strip(), severity=cmd.severity.value,
        route=sp.route, route_authority=authority,
        evidence=[asdict(item) for item in default_checklist()],
    )


def _owner_like(kind: EventType, action: Action, field: str, what: str):
    """Naming someone to one of the case's three accountable roles."""
    def handler(cmd, case: Case, ctx: Context) -> Event:
        check(ctx.actor, action, case)
        person = _person(ctx, cmd.name)
        _not_viewer(person, what)
        before = getattr(case, field)
        if before == person.name:
            raise InvalidInput(f"{person.name} is already the {what} of {case.id}")
        return _event(ctx, kind, case.id, before=before, after=person.name, role=person.role.value)
    return handler


def _involve(cmd: c.Involve, case: Case, ctx: Context) -> Event:
    person = _person(ctx, cmd.name)
    check(ctx.actor, Action.INVOLVE, case, target=person.name)
    role = (cmd.role or person.role.value).strip().lower()
    if not role:
        raise InvalidInput("role must not be empty")
    if any(p.name == person.name and p.role == role for p in case.participants):
        raise InvalidInput(f"{person.name} is already on {case.id} as {role}")
    return _event(ctx, EventType.PARTICIPANT_INVOLVED, case.id, name=person.name, role=role)


def _severity(cmd: c.ChangeSeverity, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.SEVERITY, case)
    if cmd.severity == case.severity:
        raise InvalidInput(f"{case.id} is already {case.severity}")
    policy_route = ctx.policy[cmd.severity].route
    return _event(
        ctx, EventType.SEVERITY_CHANGED, case.id,
        before=case.severity.value, after=cmd.severity.value, reason=cmd.reason,
        policy_route=policy_route, route_review=policy_route != case.route,
    )


def _route(cmd: c.ChangeRoute, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.ROUTE, case)
    if cmd.route == case.route and not case.route_review_needed:
        raise InvalidInput(f"{case.id} is already on route {case.route}")
    return _event(ctx, EventType.ROUTE_CHANGED, case.id, before=case.route, after=cmd.route, reason=cmd.reason)


def customer_message(case: Case, policy: Policy, sender: Person, at: datetime, known: str, investigating: str,
                     next_milestone: str, next_update_in: timedelta | None = None) -> str:
    """The message a customer update sends; the board previews exactly this while the form is filled."""
    cadence = next_update_in or policy[case.severity].customer_update_every
    return render_customer_update(
        case_id=case.id, title=case.title, customer=case.customer, known=known, investigating=investigating,
        next_milestone=next_milestone, next_update_due=policy.calendar_for(case.severity).add(at, cadence),
        sender=sender.name, tz=sender.tz,
    )


def _update(cmd: c.CustomerUpdate, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.UPDATE, case)
    delta = cmd.next_update_delta
    message = customer_message(case, ctx.policy, ctx.actor, ctx.occurred_at, cmd.known, cmd.investigating,
                               cmd.next_milestone, delta)
    return _event(
        ctx, EventType.CUSTOMER_UPDATE_LOGGED, case.id,
        known=cmd.known, investigating=cmd.investigating, next_milestone=cmd.next_milestone,
        next_update_in_s=int(delta.total_seconds()) if delta else None, message=message,
    )


def _review(cmd: c.Review, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.REVIEW, case)
    return _event(ctx, EventType.REVIEW_LOGGED, case.id, notes=cmd.notes)


def _status(cmd: c.ChangeStatus, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.STATUS, case)
    if cmd.status is Status.NEW:
        raise InvalidInput("a case cannot be moved back to new")
    if case.status is Status.RESOLVED:
        raise InvalidInput(f"{case.id} is resolved: reopen it first (`casewatch case reopen {case.id}`)")
    if cmd.status == case.status:
        raise InvalidInput(f"{case.id} is already {case.status}")
    return _event(ctx, EventType.STATUS_CHANGED, case.id, before=case.status.value, after=cmd.status.value)


def _reopen(cmd: c.Reopen, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.STATUS, case)
    if case.status is not Status.RESOLVED:
        raise InvalidInput(f"{case.id} is not resolved, so it cannot be reopened")
    return _event(ctx, EventType.CASE_REOPENED, case.id, before=Status.RESOLVED.value, after=Status.INVESTIGATING.value)


def _note(cmd: c.Note, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.NOTE, case)
    return _event(ctx, EventType.NOTE_ADDED, case.id, text=cmd.text)


def _evidence(cmd: c.SetEvidence, case: Case, ctx: Context) -> Event:
    check(ctx.actor, Action.EVIDENCE, case)
    item = next((i for i in case.evidence if i.key == cmd.key), None)
    if item is None:
        keys = ", ".join(i.key for i in case.evidence)
        raise NotFound(f"{case.id} has no evidence item {cmd.key!r} (items: {keys})")
    if item.done == cmd.done:
        raise InvalidInput(f"evidence {cmd.key!r} on {case.id} is already {'done' if cmd.done else 'not done'}")
    return _event(ctx, EventType.EVIDENCE_SET, case.id, key=item.key, label=item.label,
                  before=item.done, after=cmd.done)


def _add_person(cmd: c.AddPerson, ctx: Context) -> Event:
    check(ctx.actor, Action.ADD_PERSON)
    before = ctx.roster.get(cmd.name)
    return _event(
        ctx, EventType.PERSON_ADDED, None, name=cmd.name, role=cmd.role.value, tz=cmd.tz, team=cmd.team,
        before=before.model_dump(mode="json") if before else None,
    )


def _apply_policy(cmd: c.ApplyPolicy, ctx: Context) -> Event:
    check(ctx.actor, Action.APPLY_POLICY)
    parse_policy(cmd.toml, cmd.source_name)
    return _event(ctx, EventType.POLICY_APPLIED, None, toml=cmd.toml, source=cmd.source_name)


def _start_shift(cmd: c.StartShift, ctx: Context) -> Event:
    check(ctx.actor, Action.START_SHIFT)
    return _event(ctx, EventType.SHIFT_STARTED, None, lead=ctx.actor.name, before=ctx.shift_lead)


_HANDLERS = {
    c.NewCase: _new,
    c.Assign: _owner_like(EventType.OWNER_ASSIGNED, Action.ASSIGN, "internal_owner", "internal owner"),
    c.AssignComms: _owner_like(EventType.COMMS_ASSIGNED, Action.COMMS, "comms_owner", "comms owner"),
    c.SetAuthority: _owner_like(EventType.AUTHORITY_SET, Action.AUTHORITY, "route_authority", "route authority"),
    c.Involve: _involve,
    c.ChangeSeverity: _severity,
    c.ChangeRoute: _route,
    c.CustomerUpdate: _update,
    c.Review: _review,
    c.ChangeStatus: _status,
    c.Reopen: _reopen,
    c.Note: _note,
    c.SetEvidence: _evidence,
    c.AddPerson: _add_person,
    c.ApplyPolicy: _apply_policy,
    c.StartShift: _start_shift,
}
