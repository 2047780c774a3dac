"""The fold decides each case event again: what its payload derives must be what `decide` derives.

A case event's payload holds what its command asked for (a title, a severity, an item's text) and
what `decide` derived from the case, roster and policy then (before-values, the route a new case
starts on, flags such as `route_review` and `return_cleared`, the evidence gate, an item's version,
`via`). Only the first is the author's to claim. So the fold rebuilds the command from the asked-for
part, decides it again as of the state before the event, and refuses the event when `decide` would
have refused it or a derived field differs (naming the field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, get_args

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from casewatch.core import commands as c
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.evidence import upgrade_set_payload
from casewatch.core.messages import EDITIONS, render_customer_update
from casewatch.core.models import (
    BACKFILL_THRESHOLD,
    Case,
    Event,
    EventType,
    EvidenceState,
    Role,
    Severity,
    SourceLink,
    Status,
)
from casewatch.core.rules import Context, check_via, decide, next_update_due
from casewatch.core.text import FreeText

Payload = Mapping[str, Any]

FIRST_RULES_UNTIL = datetime(2026, 11, 28, tzinfo=UTC)
"""The end of the day casewatch's first versions were current (2026-11-27, by the commits that
changed them): until b45363c (15:53 UTC) a creation named a route authority itself, and until
2cd699b (16:36 UTC) a text had no length limit. Team mode came after both (197daf5, 18:04 UTC), and
its server stamps `recorded_at` (a member cannot write an earlier one), so what only those first
versions wrote counts only in an event recorded before this: a personal database of that day keeps
its history, and a member's raw INSERT today gains nothing from it."""


Asked = tuple[type[c.Command], dict[str, Any]]
"""A command's type and what its author asked of it, as the payload logged it."""


def _asked(kind: type[c.Command], **asked: Any) -> Asked:
    return kind, asked


def _made(kind: type[c.Command], asked: Mapping[str, Any]) -> c.Command:
    """The command as its author asked it. A text an older version stored (with control characters,
    as today's checks refuse) is taken as it is: the fold judges what `decide` derived, and the
    timeline shows such text escaped anyway. Its length is judged before (`too_long`)."""
    try:
        return kind(**asked)
    except (ValidationError, CasewatchError):  # (a text check raises the latter through pydantic)
        return kind.model_construct(**asked)


def _free_texts(info: FieldInfo) -> Iterator[FreeText]:
    """The text checks of a command's field (inside `X | None` too)."""
    stack: list[Any] = [*info.metadata, info.annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, FreeText):
            yield item
        else:
            stack.extend(getattr(item, "__metadata__", ()))
            stack.extend(get_args(item))


@cache
def _text_checks(kind: type[c.Command]) -> tuple[tuple[str, tuple[FreeText, ...]], ...]:
    found = ((name, tuple(_free_texts(info))) for name, info in kind.model_fields.items())
    return tuple((name, checks) for name, checks in found if any(check.limit is not None for check in checks))


def too_long(kind: type[c.Command], asked: Mapping[str, Any]) -> str | None:
    """The first text asked of a `kind` command, as logged, longer than its field may hold (a limit
    casewatch has had since its text had limits, and never raised), as the fold names it; None when
    every text fits. Measured as logged, not as the command would trim it: what casewatch logs is
    checked text already."""
    for name, checks in _text_checks(kind):
        value = asked.get(name)
        if isinstance(value, str):
            for check in checks:
                if found := check.too_long(value):
                    return f"its {name} is {found}"
    return None


def _creation(case_id: str, p: Payload) -> Asked:
    if p.get("source") is not None:
        return _asked(c.ImportTicket, title=p["title"], customer=p["customer"], severity=Severity(p["severity"]),
                      source=SourceLink(**p["source"]), seen=p.get("seen") or {})
    return _asked(c.NewCase, title=p["title"], customer=p["customer"], severity=Severity(p["severity"]),
                  summary=p.get("summary", ""))


def _evidence(case_id: str, p: Payload) -> Asked:
    p = upgrade_set_payload(p)
    return _asked(c.SetEvidence, case_id=case_id, key=p["key"], state=EvidenceState(p["state"]), value=p.get("value"),
                  reason=p.get("reason"), via=p.get("via"))


def _update(case_id: str, p: Payload) -> Asked:
    seconds = p.get("next_update_in_s")
    if seconds is not None and type(seconds) is not int:
        raise InvalidInput(f"next_update_in_s {_short(seconds)} is not a number of seconds")
    return _asked(c.CustomerUpdate, case_id=case_id, known=p["known"], investigating=p["investigating"],
                  next_milestone=p["next_milestone"], next_update_in=None if seconds is None else f"{seconds}s",
                  via=p.get("via"))


ASKED: dict[EventType, Callable[[str, Payload], Asked]] = {
    EventType.CASE_CREATED: _creation,
    EventType.TITLE_CHANGED: lambda i, p: _asked(c.Retitle, case_id=i, title=p["after"], via=p.get("via")),
    EventType.OWNER_ASSIGNED: lambda i, p: _asked(c.Assign, case_id=i, name=p["after"], via=p.get("via")),
    EventType.COMMS_ASSIGNED: lambda i, p: _asked(c.AssignComms, case_id=i, name=p["after"], via=p.get("via")),
    EventType.AUTHORITY_SET: lambda i, p: _asked(c.SetAuthority, case_id=i, name=str(p["after"]), via=p.get("via")),
    EventType.PARTICIPANT_INVOLVED: lambda i, p: _asked(c.Involve, case_id=i, name=str(p["name"]), role=p["role"],
                                                        via=p.get("via")),
    EventType.SEVERITY_CHANGED: lambda i, p: _asked(c.ChangeSeverity, case_id=i, severity=Severity(p["after"]),
                                                    reason=p["reason"], via=p.get("via")),
    EventType.ROUTE_CHANGED: lambda i, p: _asked(c.ChangeRoute, case_id=i, route=str(p["after"]), reason=p["reason"],
                                                 override=p.get("override"), via=p.get("via")),
    EventType.STATUS_CHANGED: lambda i, p: _asked(c.ChangeStatus, case_id=i, status=Status(p["after"]),
                                                  via=p.get("via")),
    EventType.CASE_REOPENED: lambda i, p: _asked(c.Reopen, case_id=i, via=p.get("via")),
    EventType.CASE_CLOSED: lambda i, p: _asked(
        c.CloseCase, case_id=i, final_severity=Severity(p["final_severity"]), avoidable=bool(p["avoidable"]),
        cause=p.get("cause"), lesson=p.get("lesson", ""), notes=p.get("notes", ""), via=p.get("via")),
    EventType.EVIDENCE_SET: _evidence,
    EventType.CASE_RETURNED: lambda i, p: _asked(c.ReturnCase, case_id=i, missing=tuple(map(str, p["missing"])),
                                                 reason=p["reason"], via=p.get("via")),
    EventType.NOTE_ADDED: lambda i, p: _asked(c.Note, case_id=i, text=p["text"], via=p.get("via")),
    EventType.REVIEW_LOGGED: lambda i, p: _asked(c.Review, case_id=i, notes=p["notes"], via=p.get("via")),
    EventType.CUSTOMER_UPDATE_LOGGED: _update,
}
"""Per event type, the command that records it, rebuilt from what the payload asked for."""

DERIVED: dict[EventType, tuple[str, ...]] = {
    EventType.CASE_CREATED: ("route", "route_authority", "evidence", "via", "seen"),
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
    EventType.NOTE_ADDED: (),
    EventType.REVIEW_LOGGED: (),
    EventType.CUSTOMER_UPDATE_LOGGED: ("next_update_in_s", "next_update_due", "message"),
}
"""The fields `decide` derives, which the logged payload must repeat (a missing one counts as none;
a value counts only as the same type too: `1` is not `true`)."""


def redecide_refusal(case: Case | None, event: Event, ctx: Context) -> str | None:
    """Why `decide`, given the state before `event`, would not have logged it as it is (None: it would)."""
    p = event.payload
    make = ASKED.get(event.type)
    try:
        if make is None:  # nothing derived but `via` (what a tracker said, an acknowledgement)
            if p.get("via") is not None:
                check_via(str(p["via"]), case, ctx.actor)
            return None
        kind, asked = make(str(event.case_id), p)
        if event.recorded_at >= FIRST_RULES_UNTIL and (found := too_long(kind, asked)):
            return found
        command = _made(kind, asked)
        decided = decide(command, case, ctx, new_case_id=event.case_id).payload
    except CasewatchError as exc:
        return f"casewatch would have refused it: {str(exc).splitlines()[0][:200]}"
    if event.type is EventType.CASE_CREATED:
        decided = decided | _as_first_written(p, ctx)
    elif event.type is EventType.CUSTOMER_UPDATE_LOGGED:
        decided = _as_written_update(decided, p, command, case, ctx)
    logged = upgrade_set_payload(p) if event.type is EventType.EVIDENCE_SET else p
    if event.type is EventType.EVIDENCE_SET and "state" not in p:
        decided = {k: v for k, v in decided.items() if k != "version"}  # the first checklist's events had none
    for key in DERIVED[event.type]:
        said, derived = logged.get(key), decided.get(key)
        if not same(said, derived):
            return f"its {key} is not what casewatch derives ({_short(said)}, not {_short(derived)})"
    return None


def same(said: Any, derived: Any) -> bool:
    """A logged value is the derived one: equal and of the same kind all the way down (`1` is not
    `true`, `1.0` not `1`, which JSON and Python's `==` would let pass: a stored `1` where the state
    holds a flag is not what casewatch writes). At the top, a missing key, None, false or empty all
    say none."""
    if _none(said) and _none(derived):
        return True
    return identical(said, derived)


def _none(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str | list | tuple | dict) and not value)


def identical(a: Any, b: Any) -> bool:
    """Equal, and of the same kind all the way down (bool, int, float, str, list or tuple, dict; else
    the same type): `==` with `True == 1` and `1 == 1.0` left out."""
    kind = type(a)
    if kind is type(b) and kind in _SCALARS:  # most of what the fold compares: decided first
        return bool(a == b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(identical, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(identical(a[key], b[key]) for key in a)
    return _kind(a) is _kind(b) and bool(a == b)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _kind(value: Any) -> type:
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return kind
    return type(value)


def _as_first_written(p: Payload, ctx: Context) -> dict[str, Any]:
    """What the first rules derived for a creation, where it counts.

    The checklist was listed with every item not done: that names no item done, so it counts
    whenever. The route authority was the shift lead, else a creating lead: the very name those
    rules gave counts only where its author could name a route authority anyway (a lead: it grants
    nothing the CLI does not), or where the event was recorded while those rules were current
    (`FIRST_RULES_UNTIL`, which a member's raw INSERT cannot claim). An agent's creation naming
    the shift lead today is refused: it would make the route authority someone a lead never named,
    who stays it after a handoff."""
    first: dict[str, Any] = {}
    named = ctx.shift_lead or (ctx.actor.name if ctx.actor.role is Role.LEAD else None)
    then = ctx.actor.role is Role.LEAD or ctx.recorded_at < FIRST_RULES_UNTIL
    if named is not None and then and same(p.get("route_authority"), named):
        first["route_authority"] = named
    listed = p.get("evidence")
    if isinstance(listed, list) and all(isinstance(item, dict) and not item.get("done") for item in listed):
        first["evidence"] = listed
    return first


DECIDED_WITHIN = BACKFILL_THRESHOLD
"""How far the time a writer decided at may lie from a time the server stamped (team mode stamps
`occurred_at` as it records the event, after the writer rendered the update by its own clock, which
may be a little off): five minutes, as far as a time may be off before casewatch calls it
backfilled. A forger gains no more than that on the due time it promises."""


def _as_written_update(decided: dict[str, Any], p: Payload, command: c.Command, case: Case | None,
                       ctx: Context) -> dict[str, Any]:
    """What `decide` derives for a customer update, as its writer could have: the due time from the
    time the writer decided at, which is `occurred_at` unless the server stamped that (then within
    `DECIDED_WITHIN` of it, as the writer's clock said); the message as casewatch rendered it then
    from the update's own fields, due time and sender, in one of the renderings it has had
    (`messages.EDITIONS`). Updates from before write-back (855d97e) logged no `next_update_due`;
    their message says the due time, which must be one such a time gives. Anything else (a due
    time in 2099, other words) is not what casewatch derives."""
    if case is None or not isinstance(command, c.CustomerUpdate) or all(
            key in p and same(p[key], decided.get(key)) for key in ("next_update_due", "message")):
        return decided
    written = dict(decided)
    delta = command.next_update_delta
    at = ctx.occurred_at
    times = (at - DECIDED_WITHIN, at, at + DECIDED_WITHIN) if at == ctx.recorded_at else (at,)
    earliest, latest = (next_update_due(case, ctx.policy, when, delta) for when in (times[0], times[-1]))
    logged = p.get("next_update_due")
    if "next_update_due" not in p:
        written.pop("next_update_due", None)
        dues = list(_dues(case, ctx, times, delta))
    elif isinstance(logged, str) and (due := _time(logged)) is not None and earliest <= due <= latest:
        written["next_update_due"], dues = logged, [due]
    else:
        return written
    message = p.get("message")
    if not isinstance(message, str) or message == decided.get("message"):
        return written
    texts = [p[key] if isinstance(p[key], str) else getattr(command, key)  # as logged: older text was not trimmed
             for key in ("known", "investigating", "next_milestone")]
    for due in dues:
        for sent_at in times:
            for edition in range(1, EDITIONS + 1):
                if message == render_customer_update(
                        case_id=case.id, title=case.title, customer=case.customer, known=texts[0],
                        investigating=texts[1], next_milestone=texts[2], next_update_due=due,
                        sender=ctx.actor.name, tz=ctx.actor.tz, sent_at=sent_at, edition=edition):
                    written["message"] = message
                    return written
    return written


def _dues(case: Case, ctx: Context, times: tuple[datetime, ...], delta: timedelta | None) -> Iterator[datetime]:
    """The due times a writer deciding at any time from the first of `times` to the last could have
    rendered, to the minute (a message names the minute): a minute later, the due time is a minute
    later in the calendar's time, so one a minute covers every minute a message could name."""
    when = times[0]
    while when <= times[-1]:
        yield next_update_due(case, ctx.policy, when, delta)
        when += timedelta(minutes=1)


def _time(text: str) -> datetime | None:
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _short(value: Any) -> str:
    return repr(value)[:60]
