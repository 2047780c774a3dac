"""The fold decides each case event again: what its payload derives must be what `decide` derives.

A case event's payload holds what its command asked for (a title, a severity, an item's text) and
what `decide` derived from the case, roster and policy then (before-values, the route a new case
starts on, flags such as `route_review` and `return_cleared`, the evidence gate, an item's version,
`via`). Only the first is the author's to claim. So the fold rebuilds the command from the asked-for
part, decides it again as of the state before the event, and refuses the event when `decide` would
have refused it or a derived field differs (naming the field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from casewatch.core import commands as c
from casewatch.core.errors import CasewatchError
from casewatch.core.evidence import upgrade_set_payload
from casewatch.core.models import Case, Event, EventType, EvidenceState, Role, Severity, SourceLink, Status
from casewatch.core.rules import Context, check_via, decide

Payload = Mapping[str, Any]


def _made(kind: type[c.Command], **asked: Any) -> c.Command:
    """The command as its author asked it. A text an older version stored (longer, or with control
    characters, as today's checks refuse) is taken as it is: the fold judges what `decide` derived,
    and the timeline shows such text escaped anyway."""
    try:
        return kind(**asked)
    except (ValidationError, CasewatchError):  # (a text check raises the latter through pydantic)
        return kind.model_construct(**asked)


def _creation(case_id: str, p: Payload) -> c.Command:
    if p.get("source") is not None:
        return _made(c.ImportTicket, title=p["title"], customer=p["customer"], severity=Severity(p["severity"]),
                     source=SourceLink(**p["source"]), seen=p.get("seen") or {})
    return _made(c.NewCase, title=p["title"], customer=p["customer"], severity=Severity(p["severity"]),
                 summary=p.get("summary", ""))


def _evidence(case_id: str, p: Payload) -> c.Command:
    p = upgrade_set_payload(p)
    return _made(c.SetEvidence, case_id=case_id, key=p["key"], state=EvidenceState(p["state"]), value=p.get("value"),
                 reason=p.get("reason"), via=p.get("via"))


ASKED: dict[EventType, Callable[[str, Payload], c.Command]] = {
    EventType.CASE_CREATED: _creation,
    EventType.TITLE_CHANGED: lambda i, p: _made(c.Retitle, case_id=i, title=p["after"], via=p.get("via")),
    EventType.OWNER_ASSIGNED: lambda i, p: _made(c.Assign, case_id=i, name=p["after"], via=p.get("via")),
    EventType.COMMS_ASSIGNED: lambda i, p: _made(c.AssignComms, case_id=i, name=p["after"], via=p.get("via")),
    EventType.AUTHORITY_SET: lambda i, p: _made(c.SetAuthority, case_id=i, name=str(p["after"]), via=p.get("via")),
    EventType.PARTICIPANT_INVOLVED: lambda i, p: _made(c.Involve, case_id=i, name=str(p["name"]), role=p["role"],
                                                       via=p.get("via")),
    EventType.SEVERITY_CHANGED: lambda i, p: _made(c.ChangeSeverity, case_id=i, severity=Severity(p["after"]),
                                                   reason=p["reason"], via=p.get("via")),
    EventType.ROUTE_CHANGED: lambda i, p: _made(c.ChangeRoute, case_id=i, route=str(p["after"]), reason=p["reason"],
                                                override=p.get("override"), via=p.get("via")),
    EventType.STATUS_CHANGED: lambda i, p: _made(c.ChangeStatus, case_id=i, status=Status(p["after"]),
                                                 via=p.get("via")),
    EventType.CASE_REOPENED: lambda i, p: _made(c.Reopen, case_id=i, via=p.get("via")),
    EventType.CASE_CLOSED: lambda i, p: _made(
        c.CloseCase, case_id=i, final_severity=Severity(p["final_severity"]), avoidable=bool(p["avoidable"]),
        cause=p.get("cause"), lesson=p.get("lesson", ""), notes=p.get("notes", ""), via=p.get("via")),
    EventType.EVIDENCE_SET: _evidence,
    EventType.CASE_RETURNED: lambda i, p: _made(c.ReturnCase, case_id=i, missing=tuple(map(str, p["missing"])),
                                                reason=p["reason"], via=p.get("via")),
}
"""Per event type, the command that records it, rebuilt from what the payload asked for."""

DERIVED: dict[EventType, tuple[str, ...]] = {
    EventType.CASE_CREATED: ("route", "route_authority", "evidence", "via"),
    EventType.TITLE_CHANGED: ("before",),
    EventType.OWNER_ASSIGNED: ("before", "role"),
    EventType.COMMS_ASSIGNED: ("before", "role"),
    EventType.AUTHORITY_SET: ("before", "role"),
    EventType.PARTICIPANT_INVOLVED: ("name",),
    EventType.SEVERITY_CHANGED: ("before", "route_review"),
    EventType.ROUTE_CHANGED: ("before", "missing", "override"),
    EventType.STATUS_CHANGED: ("before",),
    EventType.CASE_REOPENED: ("before", "after"),
    EventType.CASE_CLOSED: ("before", "initial_severity"),
    EventType.EVIDENCE_SET: ("key", "before", "version", "return_cleared"),
    EventType.CASE_RETURNED: ("before", "after", "missing", "owner_cleared", "route_review"),
}
"""The fields `decide` derives, which the logged payload must repeat (a missing one counts as none)."""


def redecide_refusal(case: Case | None, event: Event, ctx: Context) -> str | None:
    """Why `decide`, given the state before `event`, would not have logged it as it is (None: it would)."""
    p = event.payload
    make = ASKED.get(event.type)
    try:
        if make is None:  # nothing derived but `via` (a note, a review, an update, what a tracker said)
            if p.get("via") is not None:
                check_via(str(p["via"]), case, ctx.actor)
            return None
        decided = decide(make(str(event.case_id), p), case, ctx, new_case_id=event.case_id).payload
    except CasewatchError as exc:
        return f"casewatch would have refused it: {str(exc).splitlines()[0][:200]}"
    if event.type is EventType.CASE_CREATED:
        decided = decided | _as_first_written(p, ctx)
    logged = upgrade_set_payload(p) if event.type is EventType.EVIDENCE_SET else p
    if event.type is EventType.EVIDENCE_SET and "state" not in p:
        decided = {k: v for k, v in decided.items() if k != "version"}  # the first checklist's events had none
    for key in DERIVED[event.type]:
        said, derived = logged.get(key), decided.get(key)
        if (said or None) != (derived or None):  # a missing key, None, false or empty: all say none
            return f"its {key} is not what casewatch derives ({_short(said)}, not {_short(derived)})"
    return None


def _as_first_written(p: Payload, ctx: Context) -> dict[str, Any]:
    """What the first rules derived for a creation: the route authority was the shift lead, else a
    creating lead; the checklist was listed with every item not done. A creation of that shape counts."""
    first: dict[str, Any] = {}
    if p.get("route_authority") in (ctx.shift_lead, ctx.actor.name if ctx.actor.role is Role.LEAD else None):
        first["route_authority"] = p.get("route_authority")
    listed = p.get("evidence")
    if isinstance(listed, list) and all(isinstance(item, dict) and not item.get("done") for item in listed):
        first["evidence"] = listed
    return first


def _short(value: Any) -> str:
    return repr(value)[:60]
