"""A case as a listing shows it (`casewatch cases`): the fields it prints and filters on, its
evidence readiness and its clocks, already planned.

Storage keeps one beside each case's row, written with it, so that listing thousands of cases
reads a few hundred bytes per case instead of validating whole states (evidence texts and all)
and doing the calendar work again. A listing is only as good as the policy it was planned under,
so it names that policy's version, and the case version it was made from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from casewatch.core.clocks import CaseClocks, ClockKind, ClockPlan, ClockState, plan_clocks
from casewatch.core.evidence import Readiness, case_readiness
from casewatch.core.models import Case, Severity, SourceLink, Status, iso_z
from casewatch.core.policy import Policy


class CaseListing(NamedTuple):
    """(A tuple, as clock plans are: a listing makes thousands at once.)"""

    id: str
    title: str
    customer: str
    severity: Severity
    status: Status
    route: str
    internal_owner: str | None
    comms_owner: str | None
    route_authority: str | None
    escalated_at: datetime
    version: int
    readiness: Readiness
    returned: bool  # the case stands returned for missing context
    gate_overrides: int
    clocks: CaseClocks
    policy_version: int  # the policy its clocks and readiness were planned under
    source: SourceLink | None = None  # the tracker ticket it is linked to


def list_case(case: Case, policy: Policy) -> CaseListing:
    return CaseListing(
        id=case.id, title=case.title, customer=case.customer, severity=case.severity, status=case.status,
        route=case.route, internal_owner=case.internal_owner, comms_owner=case.comms_owner,
        route_authority=case.route_authority, escalated_at=case.escalated_at, version=case.version,
        readiness=case_readiness(case, policy.evidence), returned=case.returned is not None,
        gate_overrides=case.gate_overrides, clocks=_stored_plans(plan_clocks(case, policy)),
        policy_version=policy.version, source=case.source,
    )


def _stored_plans(clocks: CaseClocks) -> CaseClocks:
    """The plans as a listing keeps them: without the business calendar (the board plans its own)."""
    if all(plan.calendar is None for plan in clocks):
        return clocks
    return CaseClocks(*(plan._replace(calendar=None) for plan in clocks))


def listing_json(listing: CaseListing) -> dict[str, Any]:
    """The stored form. A clock plan is [fixed state or null, due, warning, paused time left], in
    microseconds, in `ClockKind` order. `source` is there only for a linked case."""
    ready = listing.readiness
    linked = {"source": listing.source.as_json()} if listing.source else {}
    return linked | {
        "policy": listing.policy_version, "version": listing.version,
        "id": listing.id, "title": listing.title, "customer": listing.customer,
        "severity": listing.severity.value, "status": listing.status.value, "route": listing.route,
        "internal_owner": listing.internal_owner, "comms_owner": listing.comms_owner,
        "route_authority": listing.route_authority, "escalated_at": iso_z(listing.escalated_at),
        "ready": ready.ready, "required": ready.required, "missing": list(ready.missing),
        "partial": list(ready.partial),
        "returned": listing.returned, "gate_overrides": listing.gate_overrides,
        "clocks": [[plan.fixed.value if plan.fixed else None, plan.due_us, plan.warn_us, plan.paused_left_us]
                   for plan in listing.clocks],
    }


def planned_under(stored: dict[str, Any], policy_version: int, case_version: int) -> bool:
    """The stored listing was made from this version of its case, under this policy (else the
    case is listed from its state: the policy or the case moved on since it was written)."""
    return (isinstance(stored, dict)  # a row members can write: anything else is no listing at all
            and stored.get("policy") == policy_version and stored.get("version") == case_version)


def listing_from_json(stored: dict[str, Any]) -> CaseListing:
    """A listing read back as `listing_json` wrote it (storage checks `planned_under` first)."""
    return CaseListing(
        id=stored["id"], title=stored["title"], customer=stored["customer"], severity=Severity(stored["severity"]),
        status=Status(stored["status"]), route=stored["route"], internal_owner=stored["internal_owner"],
        comms_owner=stored["comms_owner"], route_authority=stored["route_authority"],
        escalated_at=datetime.fromisoformat(stored["escalated_at"]), version=stored["version"],
        readiness=Readiness(stored["ready"], stored["required"], tuple(stored["missing"]),
                            tuple(stored.get("partial", ()))),
        returned=stored["returned"], gate_overrides=stored["gate_overrides"],
        clocks=CaseClocks(*(ClockPlan(kind, _STATES[fixed], due, warn, left)
                            for kind, (fixed, due, warn, left) in zip(ClockKind, stored["clocks"], strict=True))),
        policy_version=stored["policy"], source=SourceLink(**stored["source"]) if "source" in stored else None,
    )


_STATES: dict[str | None, ClockState | None] = {None: None} | {state.value: state for state in ClockState}
