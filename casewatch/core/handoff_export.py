"""A handoff as text: due times in two zones, Markdown to paste into chat or email, and JSON.

The Markdown is plain (no terminal markup) and its structure is ours alone: every piece of user
text goes through the escalation packet's escaping (core.packet), so it reads as typed and can open
no heading, list, link, table or HTML.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.durations import format_countdown
from casewatch.core.handoff import Handoff, Packet, PacketCase, PacketClock, PacketDiff, ShiftSummary
from casewatch.core.models import iso_z
from casewatch.core.packet import md_block, md_inline
from casewatch.core.zones import zone_label

FAR_AWAY = timedelta(days=6)  # beyond this a weekday alone is ambiguous: show the date
MAX_CHANGES = 8  # the per-case list of the shift's events stays short; the JSON has them all
CLOCK_NAMES = {
    ClockKind.OWNER: "owner",
    ClockKind.CUSTOMER_UPDATE: "customer update",
    ClockKind.INTERNAL_REVIEW: "internal review",
}

# ------------------------------------------------------------------ times in two zones


def local_time(at: datetime, tz: str, now: datetime, *, day: bool = True) -> str:
    """"Tue 09:30 JST": the wall time in `tz` (DST-correct), with its abbreviation; a date when far away."""
    local = at.astimezone(ZoneInfo(tz))
    label = zone_label(tz, at)
    if abs(at - now) >= FAR_AWAY:
        return local.strftime("%a %d %b %Y %H:%M ") + label
    return local.strftime("%a %H:%M " if day else "%H:%M ") + label


def relative(at: datetime, now: datetime) -> str:
    """"in 3h20m", "40m ago", "now"."""
    seconds = int((at - now).total_seconds())
    if seconds == 0:
        return "now"
    return f"in {format_countdown(seconds)}" if seconds > 0 else f"{format_countdown(-seconds)} ago"


def two_zones(at: datetime, first: str, second: str, now: datetime) -> str:
    """"Tue 09:30 JST · 18:30 CET". The second zone names its weekday only when its date differs
    from the first's, and is left out when it reads the same."""
    one = local_time(at, first, now)
    same_day = at.astimezone(ZoneInfo(first)).date() == at.astimezone(ZoneInfo(second)).date()
    two = local_time(at, second, now, day=not same_day)
    return one if one.endswith(two) else f"{one} · {two}"


def dual_time(at: datetime, first: str, second: str, now: datetime) -> str:
    """"Tue 09:30 JST · 18:30 CET · in 3h20m" (see `two_zones`)."""
    return f"{two_zones(at, first, second, now)} · {relative(at, now)}"


def shown_state(clock: PacketClock, now: datetime) -> ClockState:
    """The clock's state as of `now`: a clock that was running when the packet was made may be late since."""
    if clock.due is not None and clock.due <= now:
        return ClockState.BREACHED
    return clock.state


def clock_text(clock: PacketClock, zones: tuple[str, str], now: datetime) -> str:
    if clock.due is None:
        return f"paused, {format_countdown(clock.left_s or 0)} of working time left"
    return dual_time(clock.due, *zones, now)


# ------------------------------------------------------------------ Markdown

def _ids(items: list[str]) -> str:
    return ", ".join(md_inline(item) for item in items)


def _status_line(handoff: Handoff | None, packet: Packet, now: datetime, zones: tuple[str, str]) -> str:
    if handoff is None:
        return "preview, not sent"
    if handoff.accepted_at is not None:
        return f"accepted by {md_inline(packet.incoming.name)}, {dual_time(handoff.accepted_at, *zones, now)}"
    if handoff.superseded_by is not None:
        return f"replaced by handoff {handoff.superseded_by}"
    late = " — **overdue**" if handoff.overdue(now) else ""
    return (f"waiting for {md_inline(packet.incoming.name)} to accept "
            f"({format_countdown(int(handoff.waiting_for(now).total_seconds()))}){late}")


def _summary_lines(summary: ShiftSummary, zones: tuple[str, str], now: datetime) -> list[str]:
    def line(label: str, items: list[str]) -> str:
        return f"- **{label}:** {len(items)}" + (f" — {'; '.join(items)}" if items else "")

    return [
        line("Opened", [md_inline(i) for i in summary.opened]),
        line("Resolved", [md_inline(i) for i in summary.resolved]),
        line("Severity changes", [f"{md_inline(s.case_id)} {s.before} → {s.after} ({dual_time(s.at, *zones, now)})"
                                  for s in summary.severity_changes]),
        line("Clocks breached", [f"{md_inline(b.case_id)} {CLOCK_NAMES[b.kind]} ({dual_time(b.at, *zones, now)})"
                                 for b in summary.breaches]),
        line("Evidence returns", [f"{md_inline(r.case_id)} {_ids(r.items)} by {md_inline(r.actor)} "
                                  f"({dual_time(r.at, *zones, now)})" for r in summary.evidence_returns]),
    ]


def diff_lines(diff: PacketDiff, zones: tuple[str, str], now: datetime) -> list[str]:
    """What changed since a packet, as Markdown list items (a sentence when nothing did)."""
    if diff.empty:
        return ["Nothing changed since this packet was made."]
    lines = [f"- **New case:** {md_inline(c.id)} {c.severity} {md_inline(c.title)}" for c in diff.new_cases]
    lines += [f"- **No longer open:** {md_inline(case_id)}" for case_id in diff.closed]
    lines += [f"- **Severity:** {md_inline(s.case_id)} {s.before} → {s.after} ({dual_time(s.at, *zones, now)})"
              for s in diff.severity_changes]
    lines += [f"- **Breached:** {md_inline(b.case_id)} {CLOCK_NAMES[b.kind]} ({dual_time(b.at, *zones, now)})"
              for b in diff.breaches]
    return lines


def _case_lines(case: PacketCase, zones: tuple[str, str], now: datetime) -> list[str]:
    authority = md_inline(case.route_authority) if case.route_authority else "the shift lead (default)"
    lines = [
        f"### {md_inline(case.id)} · {case.severity} · {case.status} · {md_inline(case.title)}",
        "",
        f"- **Customer:** {md_inline(case.customer)}",
        f"- **Route:** {md_inline(case.route)} · **Owner:** {md_inline(case.internal_owner or 'none')} · "
        f"**Comms:** {md_inline(case.comms_owner or 'none')} · **Route authority:** {authority}",
    ]
    if case.clocks:
        lines.append("- **Clocks:**")
        lines += [f"  - {CLOCK_NAMES[c.kind]} **{shown_state(c, now)}**: {clock_text(c, zones, now)}"
                  for c in case.clocks]
    if case.missing_evidence:
        lines.append(f"- **Missing evidence:** {_ids(case.missing_evidence)}")
    if case.missing_roles:
        lines.append(f"- **Missing roles:** {_ids(case.missing_roles)}")
    if case.route_review:
        lines.append("- **Route review needed**")
    if case.returned:
        lines.append("- **Returned** for missing context")
    if case.last_update is not None:
        lines.append(f"- **Last customer update:** {dual_time(case.last_update.at, *zones, now)} · "
                     f"next milestone: {md_inline(case.last_update.next_milestone)}")
    else:
        lines.append("- **Last customer update:** none yet")
    if case.open_question:
        lines.append(f"- **Open question:** {md_inline(case.open_question)}")
    if case.changes:
        shown = case.changes[-MAX_CHANGES:]
        earlier = len(case.changes) - len(shown)
        lines.append("- **This shift:**" + (f" ({earlier} earlier not shown)" if earlier else ""))
        lines += [f"  - {local_time(c.at, zones[0], now)} {md_inline(c.actor)}: {md_inline(c.text)}" for c in shown]
    if case.note:
        lines.append(f"- **Note:** {md_inline(case.note)}")
    return lines


def packet_markdown(packet: Packet, now: datetime, *, handoff: Handoff | None = None,
                    diff: PacketDiff | None = None, zones: tuple[str, str] | None = None,
                    replayed: bool = False) -> str:
    """The whole handoff as Markdown; `handoff` is None for a preview, `diff` adds what changed since;
    `replayed` marks it as the log's replay up to `now` (`--as-of`)."""
    zones = zones or (packet.incoming.tz, packet.outgoing.tz)
    out, inc = packet.outgoing, packet.incoming
    title = f"handoff {handoff.id}" if handoff else "handoff preview"
    to = md_inline(inc.name) if inc.name else "(not chosen yet)"
    shift_for = format_countdown(int((packet.prepared_at - packet.shift_started_at).total_seconds()))
    lines = [
        f"# Shift {title}: {md_inline(out.name)} → {to}",
        "",
        f"- **From:** {md_inline(out.name)} ({md_inline(out.tz)}), shift since "
        f"{local_time(packet.shift_started_at, out.tz, now)} ({shift_for})",
        f"- **To:** {to} ({md_inline(inc.tz)})",
        f"- **Prepared:** {dual_time(packet.prepared_at, *zones, now)}",
        f"- **Status:** {_status_line(handoff, packet, now, zones)}",
        f"- **Times in:** {md_inline(zones[0])} · {md_inline(zones[1])}",
    ]
    if replayed:
        lines.insert(2, f"- **Replay:** as of {dual_time(now, *zones, now)}, from the log up to that instant")
    if packet.note:
        lines += ["", "## Note", "", md_block(packet.note)]
    if diff is not None:
        lines += ["", "## Changed since this packet was made", "", *diff_lines(diff, zones, now)]
    lines += ["", "## Shift summary", "", *_summary_lines(packet.summary, zones, now)]
    lines += ["", f"## Open cases ({len(packet.cases)})"]
    for case in packet.cases:
        lines += ["", *_case_lines(case, zones, now)]
    if not packet.cases:
        lines += ["", "No open cases."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ JSON


def _local_iso(at: datetime | None, tz: str) -> str | None:
    return None if at is None else at.astimezone(ZoneInfo(tz)).isoformat()


def _clock_json(clock: PacketClock, zones: tuple[str, str], now: datetime) -> dict[str, Any]:
    return {
        "clock": clock.kind.value, "state": shown_state(clock, now).value, "due": iso_z(clock.due),
        "due_local": [_local_iso(clock.due, zone) for zone in zones],
        "due_in_s": None if clock.due is None else int((clock.due - now).total_seconds()),
        "paused_left_s": clock.left_s, "text": clock_text(clock, zones, now),
    }


def _case_json(case: PacketCase, zones: tuple[str, str], now: datetime) -> dict[str, Any]:
    return {
        "id": case.id, "title": case.title, "customer": case.customer, "severity": case.severity.value,
        "status": case.status.value, "route": case.route, "internal_owner": case.internal_owner,
        "comms_owner": case.comms_owner, "route_authority": case.route_authority,
        "clocks": [_clock_json(c, zones, now) for c in case.clocks],
        "missing_evidence": case.missing_evidence, "missing_roles": case.missing_roles,
        "route_review": case.route_review, "returned": case.returned,
        "last_customer_update": None if case.last_update is None else {
            "at": iso_z(case.last_update.at), "next_milestone": case.last_update.next_milestone},
        "open_question": case.open_question,
        "changes": [{"at": iso_z(c.at), "actor": c.actor, "summary": c.text} for c in case.changes],
        "note": case.note,
    }


def packet_json(packet: Packet, now: datetime, *, handoff: Handoff | None = None,
                diff: PacketDiff | None = None, zones: tuple[str, str] | None = None,
                replayed: bool = False) -> dict[str, Any]:
    """The handoff as one JSON object with one object per case; times in UTC plus both zones."""
    zones = zones or (packet.incoming.tz, packet.outgoing.tz)
    s = packet.summary
    return {
        "as_of": iso_z(now) if replayed else None,
        "id": handoff.id if handoff else None,
        "status": handoff.status.value if handoff else "preview",
        "prepared_at": iso_z(packet.prepared_at),
        "accepted_at": iso_z(handoff.accepted_at) if handoff else None,
        "superseded_by": handoff.superseded_by if handoff else None,
        "outgoing": packet.outgoing.model_dump(), "incoming": packet.incoming.model_dump(),
        "shift_started_at": iso_z(packet.shift_started_at), "zones": list(zones), "note": packet.note,
        "summary": {
            "opened": s.opened, "resolved": s.resolved,
            "severity_changes": [{"case_id": c.case_id, "at": iso_z(c.at), "before": c.before.value,
                                  "after": c.after.value} for c in s.severity_changes],
            "breaches": [{"case_id": b.case_id, "clock": b.kind.value, "at": iso_z(b.at)} for b in s.breaches],
            "evidence_returns": [{"case_id": r.case_id, "at": iso_z(r.at), "actor": r.actor, "items": r.items}
                                 for r in s.evidence_returns],
        },
        "changes_since": None if diff is None else {
            "new_cases": [c.model_dump(mode="json") for c in diff.new_cases],
            "closed": diff.closed,
            "severity_changes": [{"case_id": c.case_id, "at": iso_z(c.at), "before": c.before.value,
                                  "after": c.after.value} for c in diff.severity_changes],
            "breaches": [{"case_id": b.case_id, "clock": b.kind.value, "at": iso_z(b.at)} for b in diff.breaches],
        },
        "cases": [_case_json(case, zones, now) for case in packet.cases],
    }
