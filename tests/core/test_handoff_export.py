"""The handoff as Markdown and JSON: what a reader sees, and that no user text can change its structure."""

import json
import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from casewatch.core import commands as c
from casewatch.core.handoff import Handoff, LeadRef, Shift, build_packet, diff_since
from casewatch.core.handoff_export import packet_json, packet_markdown
from casewatch.core.models import Severity
from casewatch.core.policy_history import PolicyHistory
from tests.core.floor import Floor

T0 = datetime(2026, 10, 24, 6, 0, tzinfo=UTC)  # Saturday; Berlin leaves summer time the next night
SHIFT = Shift(lead="anna", tz="Europe/Berlin", started_at=T0)
KEN = LeadRef(name="ken", tz="Asia/Tokyo")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def floor_with(title: str, note: str) -> Floor:
    """`model_construct` skips today's text checks: hostile text as an older version or an import
    could have stored it, which the exports must still show safely."""
    floor = Floor()
    cid = floor.do(c.NewCase.model_construct(title=title, customer=title, severity=Severity.SEV1), "agent",
                   at=at(10)).id
    floor.do(c.Note.model_construct(case_id=cid, text=note), at=at(12))
    floor.do(c.CustomerUpdate.model_construct(case_id=cid, known=note, investigating="i", next_milestone=note),
             at=at(14))
    floor.do(c.NewCase(title="Quiet SEV4", customer="B", severity=Severity.SEV4), "agent", at=at(20))
    return floor


def render(title: str, note: str, now: datetime | None = None) -> str:
    floor = floor_with(title, note)
    now = now or at(30)
    p = build_packet(cases=floor.cases.values(), events=floor.log, policy=floor.policy, policies=PolicyHistory.only(floor.policy), shift=SHIFT,
                     incoming=KEN, now=now, note=note, case_notes={"CW-1": note})
    return packet_markdown(p, now, handoff=Handoff(id=3, packet=p))


def structure(markdown: str) -> list[tuple[str, str, int]]:
    """The Markdown's block and inline structure, without its text."""
    found = []
    for token in MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(markdown):
        found.append((token.type, token.tag, token.level))
        found += [(child.type, child.tag, child.level) for child in token.children or []
                  if child.type not in ("text", "hardbreak")]  # the note keeps its lines
    return found


def test_markdown_reads_as_a_handoff():
    md = render("Checkout down", "Rollback at 09:00")
    assert md.startswith("# Shift handoff 3: anna → ken\n")
    assert "- **Status:** waiting for ken to accept (0s)" in md
    assert "### CW-1 · SEV1 · new · Checkout down" in md
    # Due times in Tokyo and Berlin (summer time still), and how far away from "now".
    assert "  - customer update **warning**: Sat 15:34 JST · 08:34 CEST · in 4m" in md
    assert "  - owner **breached**: Sat 15:25 JST · 08:25 CEST · 5m ago" in md
    assert "- **Last customer update:** Sat 15:14 JST · 08:14 CEST · 16m ago · next milestone: Rollback at 09:00" in md
    assert "- **Note:** Rollback at 09:00" in md and "## Note\n\nRollback at 09:00\n" in md
    assert md.index("CW-1 ·") < md.index("CW-2 ·")
    assert "- **Opened:** 2 — CW-1; CW-2" in md


def test_markdown_times_cross_the_dst_change_correctly():
    now = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)  # 02:50 CEST; at 01:00 UTC the clocks go back to 02:00 CET
    md = render("t", "n", now)
    # The SEV4 escalated at 06:20 UTC on Saturday gets its review clock due after the change.
    assert "Sat 15:14 JST · 08:14 CEST" in md  # the last update, before the change
    assert "Sun 09:50 JST · 02:50 CEST · now" in md  # the prepared time, just before
    p_after = render("t", "n", datetime(2026, 10, 25, 1, 50, tzinfo=UTC))
    assert "Sun 10:50 JST · 02:50 CET · now" in p_after  # the same wall time an hour later, in winter time


HOSTILE = "# Head\n- item\n1. one\n> quote\n| a | b |\n[link](http://x) ![i](y) <b>html</b> *em* _u_ `code` ~~s~~ &amp; \x1b]0;x\x07\u202e ===\n    indented\n```"


def same_lines(text: str) -> str:
    """Plain text with the blank and non-blank lines of `text`: the handoff note keeps its paragraphs."""
    def blank(line: str) -> bool:  # control characters are shown as escapes, so they are not blank
        return all(ch == "\t" or (ch.isspace() and unicodedata.category(ch) not in ("Cc", "Zl", "Zp")) for ch in line)

    return "\n".join("" if blank(line) else "x" for line in text.replace("\r\n", "\n").split("\n"))


def test_user_text_cannot_change_the_markdown_structure():
    assert structure(render(HOSTILE, HOSTILE)) == structure(render("plain", same_lines(HOSTILE)))


def test_user_text_shows_as_typed_with_control_characters_visible():
    md = render(HOSTILE, HOSTILE)
    assert "\x1b" not in md and "\x07" not in md and "\u202e" not in md
    assert "\\\\x1b\\]0;x\\\\x07\\\\u202e" in md  # visible, then escaped for Markdown
    html = MarkdownIt("commonmark").render(md)
    assert "[link](http://x)" in html and "&lt;b&gt;html&lt;/b&gt; *em* _u_ `code`" in html
    assert "&amp;amp;" in html


def test_channel_wide_mentions_in_a_handoff_are_broken_as_code_spans():
    md = render("Down for @everyone <!here>", "ping @here and <!channel>\nthen @channel")
    for mention in ("@everyone", "@here", "<!here>", "<!channel>", "@channel"):
        assert md.count(mention) >= 1 and md.count(mention) == md.count(f"`{mention}`"), mention


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_keeps_the_structure(text):
    if not text.strip():
        return  # commands refuse blank titles
    assert structure(render(text, text)) == structure(render("plain", same_lines(text)))


def test_json_has_one_object_per_case_with_every_field():
    floor = floor_with("Checkout down", "Rollback at 09:00")
    now = at(30)
    p = build_packet(cases=floor.cases.values(), events=floor.log, policy=floor.policy, policies=PolicyHistory.only(floor.policy), shift=SHIFT,
                     incoming=KEN, now=now, note="n", case_notes={"CW-2": "quiet"})
    floor.do(c.NewCase(title="Later", customer="C", severity=Severity.SEV2), "agent", at=at(40))
    diff = diff_since(p, floor.cases.values(), floor.log, PolicyHistory.only(floor.policy), at(45))
    data = json.loads(json.dumps(packet_json(p, at(45), handoff=Handoff(id=3, packet=p), diff=diff)))
    assert (data["id"], data["status"], data["incoming"], data["zones"]) == (
        3, "pending", {"name": "ken", "tz": "Asia/Tokyo"}, ["Asia/Tokyo", "Europe/Berlin"])
    assert [case["id"] for case in data["cases"]] == ["CW-1", "CW-2"]
    first = data["cases"][0]
    assert set(first) == {
        "id", "title", "customer", "severity", "status", "route", "internal_owner", "comms_owner",
        "route_authority", "clocks", "missing_evidence", "missing_roles", "route_review", "returned",
        "last_customer_update", "open_question", "changes", "note"}
    assert first["clocks"][0] == {
        "clock": "owner", "state": "breached", "due": "2026-10-24T06:25:00Z",
        "due_local": ["2026-10-24T15:25:00+09:00", "2026-10-24T08:25:00+02:00"], "due_in_s": -1200,
        "paused_left_s": None, "text": "Sat 15:25 JST · 08:25 CEST · 20m ago"}
    assert first["last_customer_update"] == {"at": "2026-10-24T06:14:00Z", "next_milestone": "Rollback at 09:00"}
    assert [ch["summary"] for ch in first["changes"]][1] == "note: Rollback at 09:00"
    assert data["cases"][1]["note"] == "quiet"
    assert data["changes_since"]["new_cases"] == [{"id": "CW-3", "severity": "SEV2", "title": "Later"}]
    assert data["summary"]["opened"] == ["CW-1", "CW-2"]
