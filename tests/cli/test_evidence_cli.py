# ruff: noqa: F811 - `cw` is the CLI tests' fixture, shared from test_cli
"""`casewatch case evidence | packet | return | route --override`: output, exit codes, one-line errors."""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from tests.cli.test_cli import cw  # noqa: F401

ALL = ("impact", "identifiers", "timeline", "observed", "first_checks", "attachments", "open_question")


def new_case(cw) -> str:
    return cw("case", "new", "--title", "Export [prod] | 502", "--customer", "ACME", "--severity", "SEV2")[1].strip()


def test_set_an_item_with_state_value_and_reason(cw, tmp_path):
    cid = new_case(cw)
    assert cw("case", "evidence", cid, "timeline", "--state", "partial", "--value", "09:40 first 502\n09:55 call") == \
        (0, f"{cid} v2: evidence timeline: missing → partial\n", "")
    log = tmp_path / "log.txt"
    log.write_text("ERROR [b]x[/b]\r\nred", encoding="utf-8")  # a Windows line end becomes a newline
    assert cw("case", "evidence", cid, "logs", "--state", "done", "--value-file", str(log))[0] == 0  # old key
    assert cw("case", "evidence", cid, "identifiers", "--state", "na", "--reason", "none exist")[0] == 0
    code, out, _ = cw("case", "evidence", cid, "--json")
    items = {item["key"]: item for item in json.loads(out)}
    assert code == 0 and list(items) == list(ALL)
    assert set(items["timeline"]) == {"key", "label", "state", "value", "reason", "who", "when", "required",
                                      "version"}
    assert items["timeline"]["value"] == "09:40 first 502\n09:55 call" and items["timeline"]["who"] == "dana"
    assert items["attachments"]["value"] == "ERROR [b]x[/b]\nred" and items["attachments"]["state"] == "done"
    assert items["identifiers"]["reason"] == "none exist" and items["identifiers"]["when"].endswith("Z")


def test_bad_input_is_one_line_and_exit_2_with_nothing_written(cw, tmp_path):
    cid = new_case(cw)
    code, _, err = cw("case", "evidence", cid, "dna", "--state", "done")
    assert code == 2 and err.count("\n") == 1
    assert "no evidence item 'dna'; valid keys: impact, identifiers, timeline, observed, first_checks" in err
    assert cw("case", "evidence", cid, "impact", "--state", "na")[2] == \
        "casewatch: marking impact as na needs a reason (--reason)\n"
    assert "unknown evidence state 'finished'" in cw("case", "evidence", cid, "impact", "--state", "finished")[2]
    assert "--state is required" in cw("case", "evidence", cid, "impact")[2]
    assert cw("case", "evidence", cid, "impact", "--state", "done", "--value-file", str(tmp_path / "nope"))[0] == 2
    big = "x" * (64 * 1024 + 1)
    assert "65537 bytes; the limit is 65536" in cw("case", "evidence", cid, "impact", "--state", "done",
                                                   "--value", big)[2]
    assert json.loads(cw("case", "show", cid, "--json")[1])["version"] == 1


def test_stale_expect_version_is_exit_3(cw):
    cid = new_case(cw)
    cw("case", "evidence", cid, "impact", "--state", "partial")
    code, _, err = cw("case", "evidence", cid, "impact", "--state", "done", "--expect-version", "1")
    assert code == 3 and "nothing was written" in err


def test_gate_refuses_names_missing_then_lead_override_is_logged(cw):
    cid = new_case(cw)
    for key in ALL[:5]:
        cw("case", "evidence", cid, key, "--state", "done", "--value", "ok")
    code, _, err = cw("case", "route", cid, "specialist:identity", "--reason", "sso")
    assert code == 2 and "required evidence not ready: attachments, open_question" in err and err.count("\n") == 1
    cw("case", "authority", cid, "raj")  # raj may route the case, but only a lead may override
    code, _, err = cw("case", "route", cid, "specialist:identity", "--reason", "sso", "--override", "vip",
                      "--as", "raj")
    assert code == 2 and "raj may not override the evidence gate: it needs a lead" in err
    code, out, _ = cw("case", "route", cid, "specialist:identity", "--reason", "sso", "--override", "vip")
    assert code == 0 and "evidence gate overridden: vip (missing: attachments, open_question)" in out
    shown = json.loads(cw("case", "show", cid, "--json")[1])
    assert "evidence not ready: attachments, open_question" in shown["flags"]
    assert shown["evidence"]["gate_overrides"] == 1
    assert "gate overridden 1×" in cw("case", "show", cid)[1]


def test_incident_is_not_blocked(cw):
    cid = new_case(cw)
    code, out, _ = cw("case", "route", cid, "incident", "--reason", "spreading")
    assert code == 0 and "missing evidence: impact" in out


def test_return_by_the_specialist(cw):
    cid = new_case(cw)
    for key in ALL:
        cw("case", "evidence", cid, key, "--state", "done", "--value", "ok")
    cw("case", "route", cid, "specialist:identity", "--reason", "sso")
    cw("case", "assign", cid, "mei")
    code, out, _ = cw("case", "return", cid, "--missing", "timeline,reproduction", "--reason", "no times",
                      "--as", "mei")
    assert code == 0 and "returned from specialist:identity to support for missing timeline, observed" in out
    assert "mei no longer owns it" in out
    summary = json.loads(cw("cases", "--json")[1])[0]
    assert summary["route"] == "support" and summary["internal_owner"] is None
    assert summary["evidence"] == {"ready": 5, "required": 7, "missing": ["timeline", "observed"], "returned": True,
                                   "gate_overrides": 0}
    assert "↩5/7" in cw("cases")[1]
    code, _, err = cw("case", "return", cid, "--missing", "impact", "--reason", "again", "--as", "mei")
    assert code == 2 and "already with support" in err


def test_packet_markdown_and_json(cw):
    cid = new_case(cw)
    cw("case", "evidence", cid, "open_question", "--state", "done", "--value", "Why # does | [it] fail?")
    cw("case", "evidence", cid, "observed", "--state", "partial", "--value", "1. open\n- click\n```\n<b>boom</b>")
    code, out, err = cw("case", "packet", cid, "--tz", "Asia/Kolkata")
    assert code == 0 and err == ""
    assert out.startswith(f"# Escalation packet {cid}: Export \\[prod\\] \\| 502\n\n## Open question\n\n"
                          "Why \\# does \\| \\[it\\] fail?\n")
    assert "IST, Asia/Kolkata" in out
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<ol>" not in html and "<code>" not in html and "<b>" not in html and "<table>" not in html
    code, out, _ = cw("case", "packet", cid, "--format", "json")
    packet = json.loads(out)
    assert packet["open_question"] == "Why # does | [it] fail?" and packet["readiness"]["ready"] == 1
    assert [item["key"] for item in packet["evidence"]] == list(ALL)
    assert cw("case", "packet", "CW-9999")[0] == 2


def test_a_return_from_incident_raises_the_route_review_flag(cw):
    """Issue 25, item 3: returning a SEV1 from incident moved it to support and cleared "route review
    needed", silently. The return goes ahead (the incident team lacks context) and raises the flag:
    SEV1's policy route is incident, so a lead decides where the case goes next."""
    cid = cw("case", "new", "--title", "Outage", "--customer", "ACME", "--severity", "SEV1")[1].strip()
    code, out, _ = cw("case", "return", cid, "--missing", "timeline", "--reason", "no times")
    assert code == 0 and "returned from incident to support" in out
    assert "route review needed (policy says incident)" in out
    shown = json.loads(cw("case", "show", cid, "--json")[1])
    assert shown["route"] == "support" and "route review needed (policy says incident)" in shown["flags"]
    sev2 = new_case(cw)  # SEV2's policy route is support: a return from a specialist team needs no review
    cw("case", "route", sev2, "specialist:identity", "--reason", "sso", "--override", "urgent")
    cw("case", "return", sev2, "--missing", "timeline", "--reason", "no times")
    assert not any("route review" in flag for flag in json.loads(cw("case", "show", sev2, "--json")[1])["flags"])


def test_partial_items_are_not_ready_and_a_text_edit_says_so(cw):
    """Issue 25, items 8 and 9: the gate named a partly filled item "missing", and a text-only edit
    of a done item logged "evidence impact: done → done"."""
    cid = new_case(cw)
    for key in ALL:
        cw("case", "evidence", cid, key, "--state", "done", "--value", "ok")
    cw("case", "evidence", cid, "timeline", "--state", "partial", "--value", "09:40 first 502")
    code, _, err = cw("case", "route", cid, "specialist:identity", "--reason", "sso")
    assert code == 2 and "required evidence not ready: timeline (partial) " in err, err
    code, out, _ = cw("case", "evidence", cid, "impact", "--state", "done", "--value", "all EU tenants")
    assert code == 0 and "evidence impact: value edited" in out and "done → done" not in out, out
