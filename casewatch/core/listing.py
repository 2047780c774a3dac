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

from casewatch.core.calendars import to_us
from casewatch.core.clocks import CaseClocks, ClockKind, ClockPlan, ClockState, plan_clocks
from casewatch.core.evidence import Readiness, case_readiness
from casewatch.core.models import Case, Severity, SourceLink, Status, iso_z
from casewatch.core.policy import Policy
from casewatch.core.stored import EARLIEST, LATEST, check_time


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
    """A listing read back as `listing_json` wrote it (storage checks `planned_under` first). The
    row is one members can write: any value of the wrong type or out of range is a ValueError
    (storage then lists the case from its state), never a listing that breaks whoever shows it."""
    if not isinstance(stored, dict):
        raise ValueError("a listing is a JSON object")
    escalated_at = datetime.fromisoformat(_text(stored, "escalated_at"))
    check_time(escalated_at, "escalated_at")
    plans = stored["clocks"]
    if not isinstance(plans, list) or len(plans) != len(ClockKind):
        raise ValueError(f"a listing has {len(ClockKind)} clocks")
    source = stored.get("source")
    return CaseListing(
        id=_text(stored, "id"), title=_text(stored, "title"), customer=_text(stored, "customer"),
        severity=Severity(stored["severity"]), status=Status(stored["status"]), route=_text(stored, "route"),
        internal_owner=_text(stored, "internal_owner", None), comms_owner=_text(stored, "comms_owner", None),
        route_authority=_text(stored, "route_authority", None), escalated_at=escalated_at,
        version=_count(stored["version"]),
        readiness=Readiness(_count(stored["ready"]), _count(stored["required"]), _texts(stored["missing"]),
                            _texts(stored.get("partial", []))),
        returned=_flag(stored["returned"]), gate_overrides=_count(stored["gate_overrides"]),
        clocks=CaseClocks(*(_plan(kind, plan) for kind, plan in zip(ClockKind, plans, strict=True))),
        policy_version=_count(stored["policy"]),
        source=None if source is None else SourceLink(
            name=_text(source, "name"), kind=_text(source, "kind"), id=_text(source, "id"),
            url=_text(source, "url", None)),
    )


def _plan(kind: ClockKind, stored: Any) -> ClockPlan:
    """A stored clock plan: a fixed state, or a due instant (paused: the time left), in range."""
    if not isinstance(stored, list) or len(stored) != 4:
        raise ValueError("a clock plan is [state, due, warning, left]")
    fixed, due, warn, left = _STATES[stored[0]], *(_instant(value) for value in stored[1:3]), stored[3]
    if left is not None and not (_is_int(left) and 0 <= left < _SPAN_US):
        raise ValueError(f"a clock's time left {left!r} is not a duration")
    if (fixed is None and due is None) or (fixed is ClockState.PAUSED and left is None):
        raise ValueError(f"the {kind} clock's plan is incomplete")
    return ClockPlan(kind, fixed, due, warn, left)


def _instant(value: Any) -> int | None:
    if value is not None and not (_is_int(value) and _EARLIEST_US <= value < _LATEST_US):
        raise ValueError(f"a clock's instant {value!r} is out of range")
    return value


def _is_int(value: Any) -> bool:
    return type(value) is int


def _count(value: Any) -> int:
    if not _is_int(value) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"{value!r} is not true or false")
    return value


_REQUIRED = object()


def _text(stored: Any, key: str, default: Any = _REQUIRED) -> Any:
    """The text under `key` (with a default, that or None may stand there instead)."""
    value = stored[key] if default is _REQUIRED else stored.get(key, default)
    if not isinstance(value, str) and (default is _REQUIRED or value is not None):
        raise ValueError(f"{key} is not text")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{value!r} is not a list of texts")
    return tuple(value)


_EARLIEST_US, _LATEST_US = to_us(EARLIEST), to_us(LATEST)
_SPAN_US = _LATEST_US - _EARLIEST_US
_STATES: dict[str | None, ClockState | None] = {None: None} | {
    state.value: state for state in (ClockState.PAUSED, ClockState.MET, ClockState.STOPPED)}
"""What a plan may hold as its fixed state (`plan_clocks` makes no other)."""
