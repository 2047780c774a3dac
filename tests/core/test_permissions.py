"""Every row of the permission table, allowed and denied."""

from datetime import UTC, datetime

import pytest

from casewatch.core.errors import PermissionDenied
from casewatch.core.models import Case, Person, Role, Severity
from casewatch.core.permissions import Action, check

T = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CASE = Case(id="CW-1", title="t", customer="c", severity=Severity.SEV2, route="support", escalated_at=T,
            updated_at=T, updated_by="x", last_occurred_at=T,
            internal_owner="spec-owner", comms_owner="agent-comms", route_authority="agent-authority")

lead = Person(name="lead", role=Role.LEAD)
agent = Person(name="agent", role=Role.AGENT)
agent_comms = Person(name="agent-comms", role=Role.AGENT)
agent_authority = Person(name="agent-authority", role=Role.AGENT)
specialist = Person(name="spec", role=Role.SPECIALIST)
spec_owner = Person(name="spec-owner", role=Role.SPECIALIST)
agent_owner = Person(name="agent-owner", role=Role.AGENT)
viewer = Person(name="viewer", role=Role.VIEWER)
viewer_authority = Person(name="agent-authority", role=Role.VIEWER)

ALLOWED, DENIED = True, False
TABLE = [
    # viewer: nothing, even when named on the case
    *[(viewer, action, None, DENIED, "viewers may not change anything") for action in Action],
    (viewer_authority, Action.ROUTE, None, DENIED, "viewers may not change anything"),
    # lead: everything
    *[(lead, action, "someone", ALLOWED, None) for action in Action],
    # agent: new, note, evidence, involve self; update only as comms owner
    (agent, Action.NEW, None, ALLOWED, None),
    (agent, Action.NOTE, None, ALLOWED, None),
    (agent, Action.EVIDENCE, None, ALLOWED, None),
    (agent, Action.INVOLVE, "agent", ALLOWED, None),
    (agent, Action.INVOLVE, "someone-else", DENIED, "may only involve themselves"),
    (agent, Action.UPDATE, None, DENIED, "needs a lead or the case's comms owner"),
    (agent_comms, Action.UPDATE, None, ALLOWED, None),
    (agent, Action.REVIEW, None, DENIED, "needs a lead or the specialist who owns the case"),
    (agent, Action.STATUS, None, DENIED, "needs a lead or the specialist who owns the case"),
    (agent, Action.ASSIGN, None, DENIED, "naming the internal owner needs a lead"),
    (agent, Action.COMMS, None, DENIED, "naming the comms owner needs a lead"),
    (agent, Action.AUTHORITY, None, DENIED, "naming the route authority needs a lead"),
    (agent, Action.ADD_PERSON, None, DENIED, "changing the roster needs a lead"),
    (agent, Action.APPLY_POLICY, None, DENIED, "applying a policy needs a lead"),
    (agent, Action.START_SHIFT, None, DENIED, "starting a shift needs a lead"),
    # specialist: what an agent may, plus review and status on cases they own
    (specialist, Action.NEW, None, ALLOWED, None),
    (specialist, Action.NOTE, None, ALLOWED, None),
    (specialist, Action.INVOLVE, "spec", ALLOWED, None),
    (specialist, Action.REVIEW, None, DENIED, "the specialist who owns the case"),
    (spec_owner, Action.REVIEW, None, ALLOWED, None),
    (specialist, Action.STATUS, None, DENIED, "the specialist who owns the case"),
    (spec_owner, Action.STATUS, None, ALLOWED, None),
    (spec_owner, Action.ASSIGN, None, DENIED, "needs a lead"),
    # route: a lead or the route authority
    (agent, Action.ROUTE, None, DENIED, "needs a lead or the case's route authority"),
    (agent_authority, Action.ROUTE, None, ALLOWED, None),
    (spec_owner, Action.ROUTE, None, DENIED, "route authority"),
    # severity: a lead, the route authority or the internal owner
    (agent, Action.SEVERITY, None, DENIED, "needs a lead, the route authority or the internal owner"),
    (agent_authority, Action.SEVERITY, None, ALLOWED, None),
    (spec_owner, Action.SEVERITY, None, ALLOWED, None),
]


@pytest.mark.parametrize(("actor", "action", "target", "allowed", "rule"), TABLE,
                         ids=[f"{row[0].name}-{row[1].value}-{'ok' if row[3] else 'denied'}" for row in TABLE])
def test_permission_table(actor, action, target, allowed, rule):
    if allowed:
        check(actor, action, CASE, target=target)
    else:
        with pytest.raises(PermissionDenied, match=rule):
            check(actor, action, CASE, target=target)


def test_agent_owner_may_not_review_only_specialists_may():
    case = CASE.model_copy(update={"internal_owner": "agent-owner"})
    with pytest.raises(PermissionDenied):
        check(agent_owner, Action.REVIEW, case)
