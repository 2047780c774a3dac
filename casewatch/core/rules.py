"""The rules of every action: given a command, the case as it is, who acts and when, decide the event.

`decide` checks permissions and domain rules and returns the event to append, with before/after
values and any policy decision (route, route review) baked into its payload, so that replaying the
log never needs the policy of the day. Each command has one entry in `RULES`: the event type it
records and the handler that checks it and builds that event's payload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from typing import Any

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, NotFound, PermissionDenied
from casewatch.core.evidence import (
    apply_set,
    case_checklist,
    case_entry,
    case_readiness,
    checklist,
    decide_return,
    decide_set,
    readiness,
    returning_team,
    route_gate,
)
from casewatch.core.handoff import HandoffFacts, accept_payload, prepare_payload
from casewatch.core.messages import render_customer_update
from casewatch.core.models import Case, Event, EventType, Person, Role, Severity, Status, iso_z
from casewatch.core.permissions import Action, check
from casewatch.core.policy import Policy, parse_policy
from casewatch.core.reviews import already_reviewed, check_cause
from casewatch.core.stored import EARLIEST


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at besides the case: all passed in, nothing read."""

    actor: Person
    roster: Mapping[str, Person]
    policy: Policy
    occurred_at: datetime
    recorded_at: datetime
    shift_lead: str | None = None
    handoff: HandoffFacts = HandoffFacts()  # what a handoff command needs read for it
    logins: Mapping[str, str] = field(default_factory=dict)  # team mode: login -> person (read for a grant)


def _person(ctx: Context, name: str) -> Person:
    person = ctx.roster.get(name.strip())
    if person is None:
        raise NotFound(f"no person named {name.strip()!r} on the roster (see `casewatch people list`)")
    return person


def _not_viewer(person: Person, what: str) -> None:
    if person.role is Role.VIEWER:
        raise InvalidInput(f"{person.name} is a viewer and cannot be the {what}")


Payload = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """How one command is decided: the event type it records, and the handler that checks the
    command and returns that event's payload. Handlers of case commands take (command, case, ctx),
    the others (command, ctx)."""

    event: EventType
    handler: Callable[..., Payload]
    on_resolved: bool = False  # may act on a resolved case (the rest ask for a reopen first)


def decide(command: c.Command, case: Case | None, ctx: Context, *, new_case_id: str | None = None) -> Event:
    """Return the event `command` produces, or raise InvalidInput / NotFound / PermissionDenied.
    A `NewCase` needs the `new_case_id` the store reserved for it."""
    rule = RULES[type(command)]
    case_id: str | None = None
    if isinstance(command, c.OnCase) and case is None:
        raise NotFound(f"no case {command.case_id}")
    _check_when(case, ctx)
    if isinstance(command, c.OnCase):
        assert case is not None
        if case.status is Status.RESOLVED and not rule.on_resolved and resolved_by(case, ctx.occurred_at):
            raise InvalidInput(f"{case.id} is resolved: reopen it first (`casewatch case reopen {case.id}`)")
        payload, case_id = rule.handler(command, case, ctx), case.id
    else:
        if isinstance(command, c.OPENS_CASE) and new_case_id is None:
            raise ValueError("a new case needs the id the store reserved for it")
        payload, case_id = rule.handler(command, ctx), new_case_id
    if via := getattr(command, "via", None):
        check_via(via, case, ctx.actor)
        payload["via"] = via
    return Event(case_id=case_id, type=rule.event, actor=ctx.actor.name,
                 occurred_at=ctx.occurred_at, recorded_at=ctx.recorded_at, payload=payload)


def check_via(via: str, case: Case | None, actor: Person) -> None:
    """Only an import says it applied a tracker's change, and only on a case linked to that tracker:
    a `via` event is labelled "(via <source>)" and never written back to it."""
    check(actor, Action.IMPORT, case)
    if case is not None and (case.source is None or case.source.name != via):
        raise InvalidInput(f"{case.id} is not linked to a {via} ticket")


def resolved_by(case: Case, at: datetime) -> bool:
    """Resolved at `at` already: a backfill into the time it was still open is its history, not a change."""
    return case.resolved_at is None or at >= case.resolved_at


def _check_when(case: Case | None, ctx: Context) -> None:
    """A backfilled time (`--at`) must fall inside the case's life and this century."""
    if ctx.occurred_at < EARLIEST:
        raise InvalidInput(f"--at {iso_z(ctx.occurred_at)} is before 2000-01-01; give the real time it happened")
    if case is not None and ctx.occurred_at < case.escalated_at:
        escalated = iso_z(case.escalated_at.replace(microsecond=0))
        raise InvalidInput(f"--at {iso_z(ctx.occurred_at)} is before {case.id} was escalated ({escalated}); "
                           "nothing happens to a case before that")


def _new(cmd: c.NewCase, ctx: Context) -> Payload:
    check(ctx.actor, Action.NEW)
    sp = ctx.policy[cmd.severity]
    return dict(
        title=cmd.title, customer=cmd.customer, summary=cmd.summary, severity=cmd.severity.value,
        route=sp.route, route_authority=None,
    )


def _import_ticket(cmd: c.ImportTicket, ctx: Context) -> Payload:
    check(ctx.actor, Action.IMPORT)  # a linked case claims its ticket: imports, which leads run
    return dict(title=cmd.title, customer=cmd.customer, summary="", severity=cmd.severity.value,
                route=ctx.policy[cmd.severity].route, route_authority=None, source=cmd.source.as_json(),
                seen=cmd.seen, via=cmd.source.name)


def _see_ticket(cmd: c.SeeTicket, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.IMPORT, case)  # what the tracker says: written by imports, which leads run
    if case.source is None:
        raise InvalidInput(f"{case.id} is not linked to a tracker ticket")
    return dict(seen=cmd.seen)


def _retitle(cmd: c.Retitle, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.IMPORT, case)  # the tracker renamed it: imports, which leads run
    if cmd.title == case.title:
        raise InvalidInput(f"{case.id} already has that title")
    return dict(before=case.title, after=cmd.title)


def _owner_like(action: Action, field: str, what: str) -> Callable[..., Payload]:
    """Naming someone to one of the case's three accountable roles."""
    def handler(cmd: c.Assign | c.AssignComms | c.SetAuthority, case: Case, ctx: Context) -> Payload:
        check(ctx.actor, action, case)
        before = getattr(case, field)
        if cmd.name is None:  # nobody: how an undo puts back a case that had no owner
            if before is None:
                raise InvalidInput(f"{case.id} has no {what}")
            return dict(before=before, after=None)
        person = _person(ctx, cmd.name)
        _not_viewer(person, what)
        if before == person.name:
            raise InvalidInput(f"{person.name} is already the {what} of {case.id}")
        return dict(before=before, after=person.name, role=person.role.value)
    return handler


def _involve(cmd: c.Involve, case: Case, ctx: Context) -> Payload:
    """A case role named like a roster role (`lead`) is that person's roster role, and a role the
    policy requires on cases is named by a lead: an agent declaring itself incident commander would
    silence the "missing role" warning while nobody leads the incident."""
    person = _person(ctx, cmd.name)
    check(ctx.actor, Action.INVOLVE, case, target=person.name)
    role = (cmd.role or person.role.value).strip().lower()
    if not role:
        raise InvalidInput("role must not be empty")
    if role in {r.value for r in Role} and role != person.role.value:
        raise InvalidInput(f"{person.name} is not a {role} on the roster, so cannot be on {case.id} as {role}")
    if role in required_roles(ctx.policy) and ctx.actor.role is not Role.LEAD:
        raise PermissionDenied(f"{ctx.actor.name} may not involve anyone as {role}: the policy requires that role "
                               "on cases, and a lead names who fills it")
    if any(p.name == person.name and p.role == role for p in case.participants):
        raise InvalidInput(f"{person.name} is already on {case.id} as {role}")
    return dict(name=person.name, role=role)


def required_roles(policy: Policy) -> set[str]:
    """The case roles the policy requires at any severity (`must_involve`)."""
    return {role.lower() for severity in Severity for role in policy[severity].must_involve}


def _severity(cmd: c.ChangeSeverity, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.SEVERITY, case)
    if cmd.severity == case.severity:
        raise InvalidInput(f"{case.id} is already {case.severity}")
    policy_route = ctx.policy[cmd.severity].route
    return dict(before=case.severity.value, after=cmd.severity.value, reason=cmd.reason,
                policy_route=policy_route, route_review=policy_route != case.route)


def known_teams(roster: Mapping[str, Person], policy: Policy) -> list[str]:
    """The specialist teams a route may name: the roster's `--team` values and the policy's `teams`."""
    return sorted({p.team for p in roster.values() if p.team} | set(policy.teams))


def check_route(route: str, teams: Sequence[str]) -> str:
    """`route` (already parsed) if it names a known team; else InvalidInput listing the teams, so
    a typo such as `specialist:databse` is refused before it clears anything."""
    team = route.split(":", 1)[1] if route.startswith("specialist:") else None
    if team is None or team in teams:
        return route
    close = get_close_matches(team, teams, n=1)
    hint = f" (did you mean specialist:{close[0]}?)" if close else ""
    known = ", ".join(teams) if teams else "none: give someone a --team with `casewatch people add`, or list " \
                                          "them under teams in the policy"
    raise InvalidInput(f"unknown team {team!r} in route {route}{hint}; known teams: {known}")


def _route(cmd: c.ChangeRoute, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.ROUTE, case)
    check_route(cmd.route, known_teams(ctx.roster, ctx.policy))
    if cmd.route == case.route and not case.route_review_needed:
        raise InvalidInput(f"{case.id} is already on route {case.route}")
    ready = case_readiness(case, ctx.policy.evidence, cmd.route)
    gate = route_gate(case.id, cmd.route, ready, cmd.override, ctx.actor)
    return dict(before=case.route, after=cmd.route, reason=cmd.reason, **gate)


def next_update_due(case: Case, policy: Policy, at: datetime, next_update_in: timedelta | None = None) -> datetime:
    """When the customer will hear from us again after an update at `at` (the case's calendar)."""
    cadence = next_update_in or policy[case.severity].customer_update_every
    return policy.calendar_for(case.severity).add(at, cadence)


def customer_message(case: Case, policy: Policy, sender: Person, at: datetime, known: str, investigating: str,
                     next_milestone: str, next_update_in: timedelta | None = None) -> str:
    """The message a customer update sends; the board previews exactly this while the form is filled."""
    return render_customer_update(
        case_id=case.id, title=case.title, customer=case.customer, known=known, investigating=investigating,
        next_milestone=next_milestone, next_update_due=next_update_due(case, policy, at, next_update_in),
        sender=sender.name, tz=sender.tz, sent_at=at,
    )


def _update(cmd: c.CustomerUpdate, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.UPDATE, case)
    delta = cmd.next_update_delta
    message = customer_message(case, ctx.policy, ctx.actor, ctx.occurred_at, cmd.known, cmd.investigating,
                               cmd.next_milestone, delta)
    due = next_update_due(case, ctx.policy, ctx.occurred_at, delta)
    return dict(known=cmd.known, investigating=cmd.investigating, next_milestone=cmd.next_milestone,
                next_update_in_s=int(delta.total_seconds()) if delta else None, message=message,
                next_update_due=due.astimezone(UTC).isoformat())


def _review(cmd: c.Review, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.REVIEW, case)
    return dict(notes=cmd.notes)


def _status(cmd: c.ChangeStatus, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.STATUS, case)
    if cmd.status is Status.NEW:
        raise InvalidInput("a case cannot be moved back to new")
    if case.status is Status.RESOLVED:
        raise InvalidInput(f"{case.id} is resolved: reopen it first (`casewatch case reopen {case.id}`)")
    if cmd.status == case.status:
        raise InvalidInput(f"{case.id} is already {case.status}")
    return dict(before=case.status.value, after=cmd.status.value)


def _reopen(cmd: c.Reopen, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.STATUS, case)
    if case.status is not Status.RESOLVED:
        raise InvalidInput(f"{case.id} is not resolved, so it cannot be reopened")
    return dict(before=Status.RESOLVED.value, after=Status.INVESTIGATING.value)


def _close(cmd: c.CloseCase, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.CLOSE, case)
    if refusal := already_reviewed(case):
        raise InvalidInput(refusal)
    if cmd.cause is not None:
        check_cause(cmd.cause, ctx.policy.causes)
    return dict(before=case.status.value, initial_severity=case.severity.value,
                final_severity=cmd.final_severity.value, avoidable=cmd.avoidable, cause=cmd.cause,
                lesson=cmd.lesson, notes=cmd.notes)


def _note(cmd: c.Note, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.NOTE, case)
    return dict(text=cmd.text)


def _evidence(cmd: c.SetEvidence, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.EVIDENCE, case)
    entry = case_entry(case, ctx.policy.evidence, cmd.key)
    payload = decide_set(case.id, entry, cmd.state, cmd.value, cmd.reason, cmd.expect_item_version)
    if case.returned is not None:  # the return mark goes once the packet is complete again
        after = apply_set(case.evidence, payload, ctx.actor.name, ctx.occurred_at)
        payload["return_cleared"] = readiness(checklist(ctx.policy.evidence, after, case.severity, case.route)).complete
    return payload


def _return(cmd: c.ReturnCase, case: Case, ctx: Context) -> Payload:
    check(ctx.actor, Action.RETURN, case)
    owner = ctx.roster.get(case.internal_owner) if case.internal_owner else None
    payload = decide_return(case.id, case.route, case_checklist(case, ctx.policy.evidence), cmd.missing,
                            cmd.reason, owner, returning_team(case.route, ctx.actor))
    policy_route = ctx.policy[case.severity].route
    if policy_route != payload["after"]:  # back with support on a severity that belongs elsewhere: a lead decides
        payload |= {"policy_route": policy_route, "route_review": True}
    return payload


def _acknowledge(cmd: c.AcknowledgeAlert, case: Case, ctx: Context) -> Payload:
    """Only the shift lead speaks for the floor: another lead's acknowledgement stays on their board."""
    check(ctx.actor, Action.ACKNOWLEDGE, case)
    if ctx.shift_lead != ctx.actor.name:
        leads = f"{ctx.shift_lead} leads the shift" if ctx.shift_lead else "nobody leads the shift"
        raise PermissionDenied(f"{ctx.actor.name} is not the shift lead ({leads}): acknowledging an alert for "
                               "the floor needs the shift lead")
    return dict(clock=cmd.clock.value, state=cmd.state, lead=ctx.actor.name)


def _add_person(cmd: c.AddPerson, ctx: Context) -> Payload:
    check(ctx.actor, Action.ADD_PERSON)
    before = ctx.roster.get(cmd.name)
    if before is not None and before.role is Role.LEAD and cmd.role is not Role.LEAD and not any(
            p.role is Role.LEAD for p in ctx.roster.values() if p.name != cmd.name):
        raise InvalidInput(f"{cmd.name} is the last lead: a roster needs at least one lead, so make someone "
                           "else a lead first")
    return dict(name=cmd.name, role=cmd.role.value, tz=cmd.tz, team=cmd.team, display_name=cmd.display_name or None,
                before=before.model_dump(mode="json") if before else None)


def _rename_person(cmd: c.RenamePerson, ctx: Context) -> Payload:
    check(ctx.actor, Action.ADD_PERSON)
    person = _person(ctx, cmd.old)
    if cmd.new in ctx.roster:
        raise InvalidInput(f"{cmd.new!r} is already on the roster; choose another name")
    return dict(before=person.name, after=cmd.new)


def _grant_login(cmd: c.GrantLogin, ctx: Context) -> Payload:
    check(ctx.actor, Action.ADD_PERSON)
    person = _person(ctx, cmd.name)
    return dict(login=cmd.login, person=person.name, before=ctx.logins.get(cmd.login))


def _apply_policy(cmd: c.ApplyPolicy, ctx: Context) -> Payload:
    """A severity's route must name a team the floor knows, as a route a lead sets must: every
    case escalated at that severity would start on it."""
    check(ctx.actor, Action.APPLY_POLICY)
    policy = parse_policy(cmd.toml, cmd.source_name)
    teams = known_teams(ctx.roster, policy)
    for severity in Severity:
        try:
            check_route(policy[severity].route, teams)
        except InvalidInput as exc:
            raise InvalidInput(f"{cmd.source_name}: [severities.{severity.value}] {exc}") from None
    return dict(toml=cmd.toml, source=cmd.source_name)


def _start_shift(cmd: c.StartShift, ctx: Context) -> Payload:
    check(ctx.actor, Action.START_SHIFT)
    return dict(lead=ctx.actor.name, tz=cmd.tz or ctx.actor.tz, before=ctx.shift_lead)


def _prepare_handoff(cmd: c.PrepareHandoff, ctx: Context) -> Payload:
    return prepare_payload(ctx.actor, _person(ctx, cmd.to), ctx.shift_lead, ctx.handoff)


def _accept_handoff(cmd: c.AcceptHandoff, ctx: Context) -> Payload:
    return accept_payload(cmd.handoff_id, ctx.actor, ctx.shift_lead, ctx.handoff)


RULES: dict[type[c.Command], Rule] = {
    c.NewCase: Rule(EventType.CASE_CREATED, _new),
    c.ImportTicket: Rule(EventType.CASE_CREATED, _import_ticket),
    c.SeeTicket: Rule(EventType.TICKET_SEEN, _see_ticket, on_resolved=True),
    c.Retitle: Rule(EventType.TITLE_CHANGED, _retitle, on_resolved=True),  # the tracker renamed it
    c.Assign: Rule(EventType.OWNER_ASSIGNED, _owner_like(Action.ASSIGN, "internal_owner", "internal owner")),
    c.AssignComms: Rule(EventType.COMMS_ASSIGNED, _owner_like(Action.COMMS, "comms_owner", "comms owner")),
    c.SetAuthority: Rule(EventType.AUTHORITY_SET, _owner_like(Action.AUTHORITY, "route_authority", "route authority")),
    c.Involve: Rule(EventType.PARTICIPANT_INVOLVED, _involve),
    c.ChangeSeverity: Rule(EventType.SEVERITY_CHANGED, _severity),
    c.ChangeRoute: Rule(EventType.ROUTE_CHANGED, _route),
    c.CustomerUpdate: Rule(EventType.CUSTOMER_UPDATE_LOGGED, _update),
    c.Review: Rule(EventType.REVIEW_LOGGED, _review),
    c.ChangeStatus: Rule(EventType.STATUS_CHANGED, _status, on_resolved=True),  # it says to reopen
    c.Reopen: Rule(EventType.CASE_REOPENED, _reopen, on_resolved=True),
    c.CloseCase: Rule(EventType.CASE_CLOSED, _close, on_resolved=True),  # the review of a resolved case
    c.Note: Rule(EventType.NOTE_ADDED, _note, on_resolved=True),
    c.SetEvidence: Rule(EventType.EVIDENCE_SET, _evidence),
    c.ReturnCase: Rule(EventType.CASE_RETURNED, _return),
    c.AcknowledgeAlert: Rule(EventType.ALERT_ACKNOWLEDGED, _acknowledge),
    c.AddPerson: Rule(EventType.PERSON_ADDED, _add_person),
    c.RenamePerson: Rule(EventType.PERSON_RENAMED, _rename_person),
    c.GrantLogin: Rule(EventType.LOGIN_GRANTED, _grant_login),
    c.ApplyPolicy: Rule(EventType.POLICY_APPLIED, _apply_policy),
    c.StartShift: Rule(EventType.SHIFT_STARTED, _start_shift),
    c.PrepareHandoff: Rule(EventType.HANDOFF_PREPARED, _prepare_handoff),
    c.AcceptHandoff: Rule(EventType.HANDOFF_ACCEPTED, _accept_handoff),
}
