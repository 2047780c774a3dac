"""Plain-text output for terminals and pipes: case lists, case details, people, metrics.

Stored text is shown through `visible`: one value is one line, and no control character it may
hold (from an older database or an import) reaches the terminal."""

from __future__ import annotations

import csv
import io
import shlex
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from casewatch.core.breaches import Breach
from casewatch.core.clocks import CaseClocks, ClockKind, ClockReading, ClockState
from casewatch.core.durations import format_countdown
from casewatch.core.evidence import case_readiness
from casewatch.core.handoff import Handoff, HandoffStatus, Shift
from casewatch.core.listing import CaseListing
from casewatch.core.models import Case, Event, Person
from casewatch.core.policy import Policy
from casewatch.core.quarantine import Quarantined
from casewatch.core.reviews import ReviewRow
from casewatch.core.text import counted, is_handle, visible
from casewatch.core.views import case_flags, describe_event, linked_title
from casewatch.core.write_back import UNDELIVERED, Delivery
from casewatch.core.zones import zoned

STATE_MARK = {
    ClockState.RUNNING: "", ClockState.WARNING: "!", ClockState.BREACHED: "LATE ",
    ClockState.PAUSED: "paused ", ClockState.MET: "met", ClockState.STOPPED: "stopped",
}


def clock_text(reading: ClockReading, zone: ZoneInfo | None = None) -> str:
    mark = STATE_MARK[reading.state]
    if reading.remaining_s is None:  # met or stopped: nothing counts down
        return mark
    text = f"{mark}{format_countdown(reading.remaining_s)}"
    if reading.due is not None and zone is not None:
        text += reading.due.astimezone(zone).strftime(" (%a %H:%M)")
    return text


def case_table(rows: list[CaseListing], now: datetime) -> str:
    header = ("ID", "SEV", "STATUS", "OWNER", "COMMS", "OWNER-CLOCK", "NEXT-UPDATE", "NEXT-REVIEW", "EVID", "CUSTOMER",
              "TITLE")  # the customer too: `--filter acme` matches it, and two like titles differ by it
    lines: list[tuple[str, ...]] = [header]
    for case in rows:  # in board order: the nearest deadline of these three clocks first
        r = case.clocks.read(now)
        lines.append((
            case.id, case.severity.value, case.status.value, case.internal_owner or "-", case.comms_owner or "-",
            *(clock_text(r[kind]) for kind in ClockKind), f"{'↩' if case.returned else ''}{case.readiness}",
            case.customer, linked_title(case.source, case.title),
        ))
    lines = [tuple(visible(cell) for cell in line) for line in lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
        for line in lines
    )


def case_details(case: Case, clocks: CaseClocks, policy: Policy, events: list[Event], breaches: list[Breach],
                 now: datetime, tz: str, authority: str, shift_lead: str | None = None,
                 deliveries: Mapping[int, Delivery] | None = None) -> str:
    """`case show`: the fields, clocks, flags, breaches and timeline; an update or note written
    back to the ticket shows its delivery under it."""
    zone = ZoneInfo(tz)
    readings = clocks.read(now)
    ready = case_readiness(case, policy.evidence)
    sp = policy[case.severity]
    due_zone = policy.calendar_for(case.severity).zone or zone
    fields = [
        ("title", case.title),
        ("customer", case.customer),
        ("route", case.route),
        ("internal owner", case.internal_owner or "-"),
        ("comms owner", case.comms_owner or "-"),
        ("route authority", authority),
        ("participants", ", ".join(f"{p.name} ({p.role})" for p in case.participants) or "-"),
        ("escalated", zoned(case.escalated_at, zone, "%Y-%m-%d %H:%M")),
        ("evidence", f"{ready} required ready" + (f" (not ready: {ready.not_ready})" if ready.missing else "")
                     + (f"; gate overridden {case.gate_overrides}×" if case.gate_overrides else "")),
        ("summary", case.summary or "-"),
        *_ticket_fields(case),
    ]
    fields += [(f"{kind.value.replace('_', ' ')} clock", clock_text(readings[kind], due_zone)) for kind in ClockKind]
    lines = [f"{case.id}  {case.severity.value} ({sp.label})  {case.status.value}  v{case.version}"]
    lines += [f"  {label + ':':<23}{visible(value)}" for label, value in fields]
    for flag in case_flags(case, policy, shift_lead):
        lines.append(f"  ! {visible(flag)}")
    if any(d.undelivered for d in (deliveries or {}).values()):
        lines.append(f"  {UNDELIVERED}")
    lines.append(f"breaches: {len(breaches) or 'none'}")
    for breach in breaches:
        clock = breach.kind.value.replace("_", " ")
        lines.append(f"  {zoned(breach.at, zone, '%Y-%m-%d %H:%M')}  {clock} clock (due "
                     f"{breach.due.astimezone(zone):%H:%M}; {breach.severity.value}, policy v{breach.policy_version})")
    lines.append("timeline:")
    for event in events:
        mark = " [backfilled]" if event.backfilled else ""
        lines.append(f"  {zoned(event.occurred_at, zone, '%Y-%m-%d %H:%M')}  {visible(event.actor):<10} "
                     f"{visible(describe_event(event))}{mark}")
        delivery = (deliveries or {}).get(event.id or 0)
        if delivery is not None:
            lines.append(f"{'':30}delivery to {visible(delivery.source)} ticket {visible(delivery.ticket)}: "
                         f"{visible(delivery.label(tz))}")
    return "\n".join(lines)


def _ticket_fields(case: Case) -> list[tuple[str, str]]:
    """The linked ticket and what its tracker said at the last import."""
    if case.source is None:
        return []
    link = case.source
    seen = "; ".join(f"{name} {value!r}" for name, value in case.source_seen.items() if value)
    return [("ticket", f"{link.key} in {link.name} ({link.kind})"), ("ticket url", link.url or "-"),
            ("tracker last said", seen or "-")]


def people_table(roster: dict[str, Person]) -> str:
    """The roster; a name from before names were handles is marked, with the command that fixes it."""
    lines: list[tuple[str, ...]] = [("NAME", "DISPLAY NAME", "ROLE", "TEAM", "TIME ZONE", "")]
    lines += [(*(visible(cell) for cell in (p.name, p.display_name or "-", p.role.value, p.team or "-", p.tz)),
               _legacy_mark(p.name)) for p in roster.values()]
    widths = [max(len(line[i]) for line in lines) for i in range(6)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)).rstrip() for line in lines)


def _table(lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def quarantine_table(found: list[Quarantined], tz: str) -> str:
    """`db audit`: each quarantined event, its time in the viewer's zone; the log's text shown literally."""
    zone = ZoneInfo(tz)
    lines: list[tuple[str, ...]] = [("ID", "CASE", "ACTOR", "TYPE", f"OCCURRED ({tz})", "REASON")]
    lines += [(str(q.id), visible(q.case_id or "-"), _clip(q.actor, 40), _clip(q.type, 30),
               zoned(q.occurred_at, zone, "%Y-%m-%d %H:%M"), _clip(q.reason, 160)) for q in found]
    return _table(lines)


def shift_line(shift: Shift | None, pending: Handoff | None, now: datetime, tz: str) -> str:
    """Who leads, in which zone, since when; and the handoff waiting for its incoming lead."""
    if shift is None:
        text = "nobody has started a shift yet (`casewatch shift start`)"
    else:
        since = zoned(shift.started_at, ZoneInfo(tz), "%a %d %b %H:%M")
        local = zoned(now, ZoneInfo(shift.tz), "%H:%M")
        age = format_countdown(int(shift.age(now).total_seconds()))
        text = f"{shift.lead} leads the shift since {since} ({age}); their time {local} ({shift.tz})"
    if pending is not None:
        waited = format_countdown(int(pending.waiting_for(now).total_seconds()))
        late = " — overdue" if pending.overdue(now) else ""
        text += (f"\nhandoff {pending.id} from {pending.packet.outgoing.name} to {pending.packet.incoming.name} "
                 f"waiting {waited}{late}")
    return text


def prepared_line(handoff: Handoff) -> str:
    packet = handoff.packet
    breached = sum(1 for case in packet.cases if case.breached)
    return (f"handoff {handoff.id} prepared for {packet.incoming.name}: {counted(len(packet.cases), 'open case')}, "
            f"{breached} with breached clocks; {packet.incoming.name} takes over with "
            f"`casewatch handoff accept {handoff.id}`")


def handoff_table(handoffs: list[Handoff], now: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)

    def when(at: datetime | None) -> str:
        return zoned(at, zone, "%a %d %b %H:%M") if at else "-"

    lines: list[tuple[str, ...]] = [("ID", "STATUS", "PREPARED", "FROM", "TO", "CASES", "ACCEPTED")]
    for h in handoffs:
        status = h.status.value
        if h.status is HandoffStatus.PENDING:
            status += f" {format_countdown(int(h.waiting_for(now).total_seconds()))}"
        lines.append((str(h.id), status, when(h.packet.prepared_at), h.packet.outgoing.name, h.packet.incoming.name,
                      str(len(h.packet.cases)), when(h.accepted_at)))
    return _table(lines)


METRIC_RATES = (("UPDATE-MISS", "customer_update_miss_rate"), ("REWORK", "escalation_rework_rate"),
                ("SEV-MISMATCH", "severity_mismatch_rate"), ("AVOIDABLE", "avoidable_escalation_rate"))


def _metric_scopes(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(scope, group, metrics): the whole window, then each initial severity, then each shift lead."""
    return ([("all", "", report)] + [("severity", k, v) for k, v in report["by_severity"].items()]
            + [("lead", k, v) for k, v in report["by_lead"].items()])


def _rate_text(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "- 0/0"
    return f"{rate['rate']:.1%} {rate['numerator']}/{rate['denominator']}"


def metrics_table(report: dict[str, Any]) -> str:
    """One line per scope: time to named owner (nearest-rank median and p90), then each rate with n/d."""
    header = ("SCOPE", "OWNED", "OWNER-MEDIAN", "OWNER-P90", "WITHOUT-OWNER", *(label for label, _ in METRIC_RATES))
    lines = [header]
    for scope, group, m in _metric_scopes(report):
        owner = m["time_to_named_owner"]
        lines.append((
            visible(f"{scope} {group}".strip()).replace("\n", " "), str(owner["count"]),
            "-" if owner["median_s"] is None else format_countdown(owner["median_s"]),
            "-" if owner["p90_s"] is None else format_countdown(owner["p90_s"]), str(owner["unowned"]),
            *(_rate_text(m[key]) for _, key in METRIC_RATES),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def metrics_csv(report: dict[str, Any]) -> str:
    """The table as CSV, for spreadsheets: owner times in seconds, each rate as numerator, denominator, rate."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scope", "group", "owner_count", "owner_median_s", "owner_p90_s", "without_owner",
                     *(key if part == "rate" else f"{key}_{part}"  # the rate is the metric's own name
                       for _, key in METRIC_RATES for part in ("numerator", "denominator", "rate"))])
    for scope, group, m in _metric_scopes(report):
        owner = m["time_to_named_owner"]
        writer.writerow([scope, _cell(group), owner["count"], owner["median_s"], owner["p90_s"], owner["unowned"],
                         *(m[key][part] for _, key in METRIC_RATES for part in ("numerator", "denominator", "rate"))])
    return out.getvalue()


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: never a formula, no control characters."""
    text = visible(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _legacy_mark(name: str) -> str:
    if is_handle(name):
        return ""
    return f"! not a handle: casewatch people rename {shlex.quote(visible(name))} NEW (lower-case a-z 0-9 . _ -)"


def _clip(text: str, width: int) -> str:
    text = visible(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def reviews_table(rows: list[ReviewRow], by_cause: dict[str, int], tz: str) -> str:
    """The reviews, newest first, then the avoidable escalations counted by cause."""
    if not rows:
        return "no post-case reviews (`casewatch case close ID --final-severity SEVn --avoidable yes|no`)"
    zone = ZoneInfo(tz)
    lines: list[tuple[str, ...]] = [("REVIEWED", "CASE", "SEVERITY", "AVOIDABLE", "CAUSE", "BY", "TITLE", "LESSON")]
    for row in rows:
        severity = row.initial_severity.value
        if row.final_severity is not row.initial_severity:
            severity += f"→{row.final_severity.value}"
        lines.append((zoned(row.at, zone, "%Y-%m-%d %H:%M"), row.case_id, severity,
                      "yes" if row.avoidable else "no", row.cause or "-", visible(row.by), _clip(row.title, 40),
                      _clip(row.lesson, 60) or "-"))
    text = _table(lines)
    if by_cause:
        total = sum(by_cause.values())
        text += f"\n\navoidable escalations by cause ({total} of {len(rows)} reviewed):\n"
        text += _table([(cause, str(count)) for cause, count in by_cause.items()])
    return text
