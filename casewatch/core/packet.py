"""The escalation packet: what a receiving team needs, to paste into a tracker or a chat.

`build_packet` gathers it; `packet_markdown` and `packet_json` render it. The Markdown is plain
CommonMark/GFM: every piece of user text is escaped so that it reads as typed and cannot open a
heading, list, table, code block, link or HTML, and control characters are shown visibly. A
mention of a whole channel (`@everyone`, `@here`, `@channel`, Slack's `<!channel>`, `<!here>`,
`<!everyone>`) becomes a code span, so pasting the export into Slack or Teams pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from casewatch.core.clocks import ClockKind, ClockReading, ClockState, plan_clocks
from casewatch.core.evidence import ChecklistEntry, Readiness, case_checklist, readiness
from casewatch.core.models import Case, Event, EventType, iso_z
from casewatch.core.policy import Policy
from casewatch.core.text import visible
from casewatch.core.views import authority_label

CLOCK_LABELS = {
    ClockKind.OWNER: "Owner named by",
    ClockKind.CUSTOMER_UPDATE: "Next customer update",
    ClockKind.INTERNAL_REVIEW: "Next internal review",
}


@dataclass(frozen=True)
class LastUpdate:
    at: datetime
    by: str
    message: str


@dataclass(frozen=True)
class Packet:
    case: Case
    entries: list[ChecklistEntry]
    readiness: Readiness
    clocks: dict[ClockKind, ClockReading]
    last_update: LastUpdate | None
    tz: str
    generated_at: datetime
    authority: str = "any lead"  # who may change the route, as the case screen says it (views.authority_label)

    @property
    def open_question(self) -> str:
        return next((e.record.value for e in self.entries if e.key == "open_question"), "")


def build_packet(case: Case, entries: list[ChecklistEntry], clocks: dict[ClockKind, ClockReading],
                 last_update: LastUpdate | None, tz: str, now: datetime, shift_lead: str | None = None) -> Packet:
    return Packet(case, entries, readiness(entries), clocks, last_update, tz, now, authority_label(case, shift_lead))


def case_packet(case: Case, policy: Policy, events: Iterable[Event], tz: str, now: datetime,
                shift_lead: str | None = None) -> Packet:
    """The packet of a case as it stands at `now`, for a viewer in `tz` (the CLI and the board);
    `shift_lead` is who may change the route when the case names no route authority."""
    updates = [e for e in events if e.type is EventType.CUSTOMER_UPDATE_LOGGED]
    last = max(updates, key=lambda e: (e.occurred_at, e.id or 0), default=None)
    update = None if last is None else LastUpdate(last.occurred_at, last.actor, last.payload.get("message", ""))
    return build_packet(case, case_checklist(case, policy.evidence), plan_clocks(case, policy).read(now), update,
                        tz, now, shift_lead)


# ----------------------------------------------------------------------------- text safety

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#!])")
_LINE_START = re.compile(r"^([-+=>:])|^(\d{1,9})([.)])")


_CHANNEL_MENTION = re.compile(r"@(?:everyone|here|channel)|<!(?:everyone|here|channel)>", re.IGNORECASE)


def _md_text(text: str) -> str:
    """Inline syntax escaped, and each channel-wide mention broken as a code span (a code span, not
    an invisible character, which `visible` would show escaped)."""
    parts, start = [], 0
    for mention in _CHANNEL_MENTION.finditer(text):
        parts += [_INLINE_SPECIAL.sub(r"\\\1", text[start:mention.start()]), f"`{mention.group()}`"]
        start = mention.end()
    return "".join(parts) + _INLINE_SPECIAL.sub(r"\\\1", text[start:])


def md_inline(text: str) -> str:
    """One line of user text, safe anywhere inside a Markdown line (newlines become spaces)."""
    return _md_text(visible(text, multiline=True).replace("\n", " ")).strip()


def md_block(text: str) -> str:
    """Multi-line user text as Markdown paragraphs that show exactly its lines. Line-start
    syntax is escaped, indentation is kept with non-breaking spaces, lines end in hard breaks."""
    paragraphs: list[list[str]] = [[]]
    for raw in visible(text, multiline=True).split("\n"):
        line = raw.rstrip()
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        body = line.lstrip(" ")
        indent = "&nbsp;" * (len(line) - len(body))
        body = _md_text(body)
        body = _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", body)
        paragraphs[-1].append(indent + body)
    return "\n\n".join("\\\n".join(lines) for lines in paragraphs if lines)


# ----------------------------------------------------------------------------- rendering

def _when(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return "-"
    utc_text = f"{at:%Y-%m-%d %H:%M} UTC"
    if at.astimezone(zone).tzname() == "UTC":
        return utc_text
    return f"{utc_text} ({at.astimezone(zone):%Y-%m-%d %H:%M %Z}, {zone.key})"


def _clock_line(reading: ClockReading, zone: ZoneInfo) -> str:
    if reading.state in (ClockState.MET, ClockState.STOPPED, ClockState.PAUSED):
        return reading.state.value
    return f"due {_when(reading.due, zone)} ({reading.state.value})"


def packet_markdown(packet: Packet) -> str:
    case, zone = packet.case, ZoneInfo(packet.tz)
    question = packet.open_question.strip()
    lines = [
        f"# Escalation packet {md_inline(case.id)}: {md_inline(case.title)}",
        "",
        "## Open question",
        "",
        md_block(question) if question else "*Not stated yet.*",
        "",
        "## Case",
        "",
        f"- **Title:** {md_inline(case.title)}",
        f"- **Customer:** {md_inline(case.customer)}",
        f"- **Severity:** {case.severity.value}",
        f"- **Route:** {md_inline(case.route)}",
        f"- **Status:** {case.status.value}",
        f"- **Internal owner:** {md_inline(case.internal_owner or '-')}",
        f"- **Comms owner:** {md_inline(case.comms_owner or '-')}",
        f"- **Route authority:** {md_inline(packet.authority)}",
        f"- **Escalated:** {_when(case.escalated_at, zone)}",
        *_ticket_lines(case),
        "",
        "## Clocks",
        "",
    ]
    lines += [f"- **{CLOCK_LABELS[kind]}:** {_clock_line(packet.clocks[kind], zone)}" for kind in ClockKind]
    ready = packet.readiness
    missing = f"; not ready: {ready.not_ready}" if ready.missing else ""
    lines += ["", "## Evidence", "", f"Ready: {ready} required items{md_inline(missing)}", ""]
    for entry in packet.entries:
        need = " (required)" if entry.required else ""
        lines += [f"### {md_inline(entry.item.label)}: {entry.state.value}{need}", ""]
        record = entry.record
        if record.value.strip():
            lines += [md_block(record.value), ""]
        if record.reason:
            lines += [f"*Reason:* {md_inline(record.reason)}", ""]
        if record.by is not None:
            lines += [f"*Last changed by {md_inline(record.by)}, {_when(record.at, zone)}*", ""]
    lines += ["## Last customer update", ""]
    update = packet.last_update
    if update is None:
        lines += ["*None sent yet.*", ""]
    else:
        lines += [f"*Sent by {md_inline(update.by)}, {_when(update.at, zone)}*", "", md_block(update.message), ""]
    lines.append(f"*Generated {_when(packet.generated_at, zone)}*")
    return "\n".join(lines) + "\n"


def _ticket_lines(case: Case) -> list[str]:
    """The linked ticket, its URL as text (a tracker's URL is not ours to make a link of)."""
    if case.source is None:
        return []
    link = case.source
    url = f" {md_inline(link.url)}" if link.url else ""
    return [f"- **Ticket:** {md_inline(link.key)} in {md_inline(link.name)} ({link.kind}){url}"]


def packet_json(packet: Packet) -> dict[str, Any]:
    case, update = packet.case, packet.last_update
    return {
        "id": case.id,
        "open_question": packet.open_question,
        "title": case.title,
        "customer": case.customer,
        "severity": case.severity.value,
        "route": case.route,
        "status": case.status.value,
        "internal_owner": case.internal_owner,
        "comms_owner": case.comms_owner,
        "route_authority": case.route_authority,
        "route_authority_shown": packet.authority,
        "source": case.source.as_json() if case.source else None,
        "clocks": {kind.value: {"state": r.state.value, "due": iso_z(r.due)} for kind, r in packet.clocks.items()},
        "readiness": {"ready": packet.readiness.ready, "required": packet.readiness.required,
                      "missing": list(packet.readiness.missing)},
        "evidence": [evidence_json(e) for e in packet.entries],
        "last_customer_update": None if update is None else
        {"at": iso_z(update.at), "by": update.by, "message": update.message},
        "tz": packet.tz,
        "generated_at": iso_z(packet.generated_at),
    }


def evidence_json(entry: ChecklistEntry) -> dict[str, Any]:
    """One item as `casewatch case evidence ID --json` and the packet list it."""
    r = entry.record
    return {"key": entry.key, "label": entry.item.label, "state": r.state.value, "value": r.value,
            "reason": r.reason or None, "who": r.by, "when": iso_z(r.at), "required": entry.required,
            "version": r.version}
