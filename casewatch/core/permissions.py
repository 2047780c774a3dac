"""Who may do what. Every caller (CLI, board, bots) goes through `check`; a denial names the rule."""

from __future__ import annotations

from enum import StrEnum

from casewatch.core.errors import PermissionDenied
from casewatch.core.models import Case, Person, Role


class Action(StrEnum):
    NEW = "new"
    NOTE = "note"
    EVIDENCE = "evidence"
    INVOLVE = "involve"
    UPDATE = "update"
    REVIEW = "review"
    STATUS = "status"
    SEVERITY = "severity"
    ROUTE = "route"
    RETURN = "return"
    CLOSE = "close"
    ASSIGN = "assign"
    COMMS = "comms"
    AUTHORITY = "authority"
    ADD_PERSON = "add_person"
    APPLY_POLICY = "apply_policy"
    START_SHIFT = "start_shift"
    SEED_DEMO = "seed_demo"
    IMPORT = "import"
    ACKNOWLEDGE = "acknowledge"


_ANYONE_WORKING = {Action.NEW, Action.NOTE, Action.EVIDENCE}
_LEAD_ONLY_RULES = {
    Action.ASSIGN: "naming the internal owner needs a lead",
    Action.COMMS: "naming the comms owner needs a lead",
    Action.AUTHORITY: "naming the route authority needs a lead",
    Action.ADD_PERSON: "changing the roster needs a lead",
    Action.APPLY_POLICY: "applying a policy needs a lead",
    Action.START_SHIFT: "starting a shift needs a lead",
    Action.SEED_DEMO: "seeding demo data needs a lead",
    Action.IMPORT: "importing cases from a tracker needs a lead",
    Action.ACKNOWLEDGE: "acknowledging an alert for the floor needs the shift lead",
}


def check(actor: Person, action: Action, case: Case | None = None, *, target: str | None = None) -> None:
    """Raise PermissionDenied unless `actor` may perform `action` (on `case`, involving `target`)."""
    name, role = actor.name, actor.role
    if role is Role.VIEWER:
        raise PermissionDenied(f"{name} is a viewer: viewers may not change anything")
    if role is Role.LEAD:
        return
    owns = case is not None and case.internal_owner == name
    if action in _ANYONE_WORKING:
        return
    if action is Action.INVOLVE:
        if target == name:
            return
        raise PermissionDenied(f"{name} may not involve others: agents and specialists may only involve themselves")
    if action is Action.UPDATE:
        if case is not None and case.comms_owner == name:
            return
        raise PermissionDenied(f"{name} may not log a customer update: it needs a lead or the case's comms owner")
    if action in (Action.REVIEW, Action.STATUS):
        if role is Role.SPECIALIST and owns:
            return
        what = "a review" if action is Action.REVIEW else "a status change"
        raise PermissionDenied(f"{name} may not log {what}: it needs a lead or the specialist who owns the case")
    if action is Action.ROUTE:
        if case is not None and case.route_authority == name:
            return
        raise PermissionDenied(f"{name} may not change the route: it needs a lead or the case's route authority")
    if action is Action.RETURN:
        if case is not None and (case.route_authority == name or _specialist_on(actor, case)):
            return
        raise PermissionDenied(f"{name} may not return {case.id if case else 'the case'}: it needs a lead, "
                               "the route authority or a specialist on the case")
    if action is Action.CLOSE:
        if case is not None and case.route_authority == name:
            return
        raise PermissionDenied(f"{name} may not close {case.id if case else 'the case'}: the post-case review "
                               "needs a lead or the case's route authority")
    if action is Action.SEVERITY:
        if case is not None and (case.route_authority == name or owns):
            return
        raise PermissionDenied(
            f"{name} may not change severity: it needs a lead, the route authority or the internal owner"
        )
    article = "an" if role is Role.AGENT else "a"
    raise PermissionDenied(f"{name} is {article} {role}: {_LEAD_ONLY_RULES[action]}")


def _specialist_on(actor: Person, case: Case) -> bool:
    """A specialist owning the case, involved on it, or of the team its route points at."""
    if actor.role is not Role.SPECIALIST:
        return False
    on_case = case.internal_owner == actor.name or any(p.name == actor.name for p in case.participants)
    return on_case or (actor.team is not None and case.route == f"specialist:{actor.team}")
