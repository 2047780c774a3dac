"""The escalation packet: contents, Markdown that user text cannot break, JSON."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from casewatch.core.clocks import plan_clocks
from casewatch.core.evidence import DEFAULT_ITEMS, checklist
from casewatch.core.models import Case, EvidenceRecord, EvidenceState, Severity
from casewatch.core.packet import (
    LastUpdate,
    build_packet,
    case_packet,
    md_block,
    md_inline,
    packet_json,
    packet_markdown,
)
from casewatch.core.policy import default_policy
from casewatch.core.text import visible
from casewatch.core.views import authority_label

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = "# [b]x[/b] | *y* `z` <script> &amp; ~~s~~ ![i](u) [l]: /u\n1. one\n- two\n    code\n> q\n---\n```\n\x1b[31mred\u202e"


def make_case(**extra) -> Case:
    values = dict(id="CW-1001", title="Login fails [prod] | *SSO*", customer="Acme <Logistics>", severity=Severity.SEV2,
                  route="specialist:identity", internal_owner="mei", comms_owner="tom", route_authority="dana",
                  escalated_at=NOW - timedelta(hours=2), updated_at=NOW, updated_by="tom",
                  last_occurred_at=NOW - timedelta(minutes=5), last_customer_update_at=NOW - timedelta(minutes=30))
    return Case(**(values | extra))


RECORDS = {
    "impact": EvidenceRecord("impact", EvidenceState.DONE, "All SSO users of 3 tenants, since 09:10 UTC", by="tom",
                             at=NOW - timedelta(hours=1), version=2),
    "open_question": EvidenceRecord("open_question", EvidenceState.DONE, "Which IdP certificate rotated?", by="tom",
                                    at=NOW - timedelta(hours=1), version=1),
    "attachments": EvidenceRecord("attachments", EvidenceState.NA, reason="customer cannot share HAR", by="tom",
                                  at=NOW, version=1),
    "observed": EvidenceRecord("observed", EvidenceState.PARTIAL, HOSTILE, by="mei", at=NOW, version=3),
}


def packet(tz="Europe/Berlin", **extra):
    case = make_case(**extra)
    entries = checklist(DEFAULT_ITEMS, RECORDS, case.severity, case.route)
    update = LastUpdate(NOW - timedelta(minutes=30), "tom", "Hello Acme team,\n\nWhat we know: [b]SSO[/b] fails.")
    return build_packet(case, entries, plan_clocks(case, default_policy()).read(NOW), update, tz, NOW)


def headings(md: str) -> list[str]:
    tokens = GFM.parse(md)
    return ["".join(c.content for c in tokens[i + 1].children) for i, t in enumerate(tokens) if t.type == "heading_open"]


def test_markdown_has_the_question_first_then_case_clocks_items_and_last_update():
    md = packet_markdown(packet())
    assert headings(md) == [
        r"Escalation packet CW-1001: Login fails [prod] | *SSO*", "Open question", "Case", "Clocks", "Evidence",
        "Customer & business impact: done (required)", "Identifiers: missing (required)", "Timeline: missing (required)",
        "Observed vs expected: partial (required)", "First checks: missing (required)", "Attachments: na (required)",
        "Open question: done (required)", "Last customer update",
    ]
    assert md.index("Which IdP certificate rotated?") < md.index("## Case")
    assert "- **Internal owner:** mei\n- **Comms owner:** tom\n- **Route authority:** dana" in md
    # due times in UTC and in the viewer's zone, labelled
    assert re.search(r"\*\*Next customer update:\*\* due 2026-11-27 14:30 UTC \(2026-11-27 15:30 CET, Europe/Berlin\)", md)
    assert "Ready: 3/7 required items; not ready: identifiers, timeline, observed (partial), first\\_checks" in md
    assert "*Reason:* customer cannot share HAR" in md
    assert "What we know: \\[b\\]SSO\\[/b\\] fails." in md


def test_markdown_has_no_terminal_markup_or_control_characters():
    md = packet_markdown(packet())
    assert "\x1b" not in md and "\u202e" not in md
    assert "\\\\x1b\\[31mred\\\\u202e" in md  # shown visibly, escaped for Markdown


def test_hostile_text_renders_as_one_paragraph_of_its_own_lines():
    html = GFM.render(packet_markdown(packet()))
    assert "<script>" not in html and "<table>" not in html and "<code>" not in html and "<ol>" not in html
    assert "<blockquote>" not in html and "<hr" not in html and "<a " not in html and "<s>" not in html
    # the only list items are ours
    assert html.count("<li>") == 9 + 3


PINGS = "@everyone look, @HERE and @channel; <!channel> <!here> <!everyone> (dana@example.com stays)"


def test_channel_wide_mentions_are_broken_as_code_spans():
    """Pasted into Slack or Teams, the packet must not ping a whole channel."""
    md = packet_markdown(packet(title=f"Outage {PINGS}", summary=f"line one\n{PINGS}"))
    for mention in ("@everyone", "@HERE", "@channel", "<!channel>", "<!here>", "<!everyone>"):
        assert md.count(f"`{mention}`") == md.count(mention) >= 1, mention
    assert "dana@example.com" in md
    codes = [child.content for token in GFM.parse(md) if token.type == "inline"
             for child in token.children if child.type == "code_inline"]
    assert codes.count("@everyone") == codes.count("<!channel>") == md.count("`@everyone`") >= 2  # title and summary


def plain(md: str) -> str:
    """What a reader sees of one md_block: paragraph texts, lines split by hard breaks."""
    tokens = GFM.parse(md)
    assert {t.type for t in tokens} <= {"paragraph_open", "inline", "paragraph_close"}, [t.type for t in tokens]
    paragraphs = []
    for token in tokens:
        if token.type == "inline":
            kinds = {c.type for c in token.children}
            assert kinds <= {"text", "hardbreak"}, kinds
            paragraphs.append("".join(c.content if c.type == "text" else "\n" for c in token.children))
    return "\n\n".join(paragraphs)


def expected(text: str) -> str:
    lines = [line.rstrip() for line in visible(text, multiline=True).split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return "\n".join(line[: len(line) - len(line.lstrip(" "))].replace(" ", "\xa0") + line.lstrip(" ")
                     for line in out.split("\n"))


markdownish = st.text(alphabet=st.sampled_from(list("ab1. -+*_#>`~|[]()!<>&=:\\\n\t") + ["\x1b", "\u202e", "é"]),
                      max_size=80)


@settings(max_examples=400, deadline=None)
@given(markdownish)
def test_md_block_shows_any_text_literally(text):
    assert plain(md_block(text)) == expected(text)


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_md_inline_cannot_leave_its_line(text):
    md = f"- **Title:** {md_inline(text)}"
    tokens = GFM.parse(md)
    assert [t.type for t in tokens] == ["bullet_list_open", "list_item_open", "paragraph_open", "inline",
                                        "paragraph_close", "list_item_close", "bullet_list_close"]
    assert {c.type for c in tokens[3].children} <= {"text", "strong_open", "strong_close"}


def test_json_lists_everything_with_who_and_when():
    data = packet_json(packet(tz="UTC"))
    json.dumps(data)
    assert data["open_question"] == "Which IdP certificate rotated?"
    assert data["readiness"] == {"ready": 3, "required": 7,
                                 "missing": ["identifiers", "timeline", "observed", "first_checks"]}
    assert data["evidence"][0] == {"key": "impact", "label": "Customer & business impact", "state": "done",
                                   "value": "All SSO users of 3 tenants, since 09:10 UTC", "reason": None,
                                   "who": "tom", "when": "2026-11-27T13:00:00Z", "required": True, "version": 2}
    assert data["evidence"][3]["value"] == HOSTILE  # JSON keeps the text exactly; escaping is the reader's job
    assert data["clocks"]["customer_update"] == {"state": "running", "due": "2026-11-27T14:30:00Z"}
    assert data["last_customer_update"]["by"] == "tom"


def test_utc_viewer_gets_one_time():
    md = packet_markdown(packet(tz="UTC"))
    assert "due 2026-11-27 14:30 UTC (running)" in md


@pytest.mark.parametrize("shift_lead, shown", [(None, "any lead"), ("ken", "ken (shift lead)")])
def test_the_route_authority_reads_as_on_the_case_screen(shift_lead, shown):
    """Issue 9: the case screen said "any lead" where the packet said "-"."""
    case = make_case(route_authority=None)
    packet = case_packet(case, default_policy(), [], "UTC", NOW, shift_lead)
    assert packet.authority == authority_label(case, shift_lead) == shown
    assert f"- **Route authority:** {shown}\n" in packet_markdown(packet)
    assert packet_json(packet)["route_authority_shown"] == shown and packet_json(packet)["route_authority"] is None
