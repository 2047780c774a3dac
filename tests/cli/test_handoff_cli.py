"""`casewatch shift` and `casewatch handoff`: prepare, show, accept, list; exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def cw(run_cli):
    """`casewatch ...` in-process on a fresh database where dana (Berlin) leads and ken (Tokyo) is next."""
    run = run_cli
    run("people", "add", "dana", "--role", "lead", "--tz", "Europe/Berlin")
    run("people", "add", "ken", "--role", "lead", "--tz", "Asia/Tokyo")
    run("people", "add", "raj", "--role", "agent", "--tz", "Asia/Kolkata")
    assert run("shift", "start")[0] == 0
    return run


def test_shift_start_names_the_zone_and_shift_show_says_who_leads(cw):
    code, out, _ = cw("shift", "start", "--as", "ken", "--zone", "Europe/London")
    assert code == 0 and out == "shift started; shift lead dana → ken (Europe/London)\n"
    code, out, _ = cw("shift", "show")
    assert code == 0 and out.startswith("ken leads the shift since ") and "(Europe/London)" in out
    assert cw("shift", "start", "--zone", "Mars/Base")[0] == 2


def test_prepare_show_accept_list(cw):
    cw("case", "new", "--title", "Login fails [prod] | *all*", "--customer", "ACME", "--severity", "SEV1")
    cw("case", "new", "--title", "Exports slow", "--customer", "B", "--severity", "SEV3")
    code, out, err = cw("handoff", "prepare", "--to", "ken", "--note", "Watch CW-1001\n# not a heading",
                        "--case-note", "cw-1001", "rollback at 09:00")
    assert (code, err) == (0, "")
    assert out == ("handoff 1 prepared for ken: 2 open cases, 0 with breached clocks; "
                   "ken takes over with `casewatch handoff accept 1`\n")

    code, out, _ = cw("handoff", "show", "1")
    assert code == 0 and out.startswith("# Shift handoff 1: dana → ken\n")
    assert "### CW-1001 · SEV1 · new · Login fails \\[prod\\] \\| \\*all\\*" in out
    assert "- **Note:** rollback at 09:00" in out and "\\# not a heading" in out
    assert "JST · " in out and ("CET" in out or "CEST" in out)
    assert "## Changed since this packet was made\n\nNothing changed since this packet was made." in out

    code, out, _ = cw("handoff", "show", "1", "--format", "json", "--tz", "America/New_York")
    packet = json.loads(out)
    assert packet["zones"] == ["America/New_York", "Europe/Berlin"] and packet["status"] == "pending"
    assert [case["id"] for case in packet["cases"]] == ["CW-1001", "CW-1002"]
    assert packet["cases"][0]["note"] == "rollback at 09:00"
    assert packet["cases"][0]["clocks"][0]["due_local"][0].endswith(("-05:00", "-04:00"))

    cw("case", "new", "--title", "New outage", "--customer", "C", "--severity", "SEV1", "--as", "raj")
    code, out, _ = cw("handoff", "accept", "1", "--as", "ken")
    assert code == 0
    assert out.startswith("Changed since handoff 1 was prepared:\n- **New case:** CW-1003 SEV1 New outage\n")
    assert out.endswith("handoff 1 accepted: ken leads the shift from now (Asia/Tokyo)\n")

    code, out, _ = cw("handoff", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["ID", "STATUS", "PREPARED", "FROM", "TO", "CASES", "ACCEPTED"]
    assert lines[1].split()[:2] == ["1", "accepted"] and " dana  ken  2 " in lines[1]
    code, out, _ = cw("handoff", "list", "--json")
    assert [(h["id"], h["status"], h["cases"]) for h in json.loads(out)] == [(1, "accepted", 2)]

    code, out, _ = cw("case", "show", "CW-1002", "--json")
    shown = json.loads(out)
    assert shown["route_authority"] is None and shown["route_authority_shown"] == "ken (shift lead)"


@pytest.mark.parametrize(("args", "code", "message"), [
    (("handoff", "accept", "1", "--as", "raj"), 2, "handoff 1 is addressed to ken; raj may not accept it"),
    (("handoff", "accept", "1"), 2, "dana prepared handoff 1 and cannot accept it: ken must"),
    (("handoff", "accept", "9", "--as", "ken"), 2, "no handoff 9 (see `casewatch handoff list`)"),
    (("handoff", "show", "9"), 2, "no handoff 9 (see `casewatch handoff list`)"),
    (("handoff", "show", "1", "--tz", "Nowhere/X"), 2, "unknown time zone 'Nowhere/X'"),
    (("handoff", "prepare", "--to", "raj"), 2, "raj is an agent: the incoming shift lead must be a lead"),
    (("handoff", "prepare", "--to", "ken", "--as", "ken"), 2, "ken is not the shift lead (dana is)"),
    (("handoff", "accept", "one"), 2, "invalid int value: 'one'"),
])
def test_handoff_errors_are_one_line_with_true_exit_codes(cw, args, code, message):
    cw("handoff", "prepare", "--to", "ken")
    got, out, err = cw(*args)
    assert got == code and out == "" and message in err and err.count("\n") == 1


def test_accepting_twice_is_refused(cw):
    cw("handoff", "prepare", "--to", "ken")
    assert cw("handoff", "accept", "1", "--as", "ken")[0] == 0
    code, _, err = cw("handoff", "accept", "1", "--as", "ken")
    assert code == 2 and err == "casewatch: handoff 1 was already accepted by ken\n"


def test_preview_without_an_id_writes_nothing(cw):
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2")
    code, out, _ = cw("handoff", "show", "--to", "ken")
    assert code == 0 and out.startswith("# Shift handoff preview: dana → ken\n") and "preview, not sent" in out
    code, out, _ = cw("handoff", "show")
    assert code == 0 and "(not chosen yet)" in out
    assert cw("handoff", "list") == (0, "no handoffs yet\n", "")


def test_handoff_show_as_of_replays_the_log(cw):
    """A preview as of an instant holds the cases open then; a stored handoff shows its status then."""
    from datetime import UTC, datetime, timedelta

    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)

    def at(minutes: int) -> str:
        return (base + timedelta(minutes=minutes)).isoformat()

    assert cw("shift", "start", "--at", at(0))[0] == 0  # dana's shift, as it began three hours ago
    assert cw("case", "new", "--title", "Login", "--customer", "A", "--severity", "SEV2", "--at", at(10))[0] == 0
    assert cw("case", "new", "--title", "Export", "--customer", "B", "--severity", "SEV3", "--at", at(20))[0] == 0
    assert cw("case", "status", "CW-1001", "resolved", "--at", at(60))[0] == 0

    then = json.loads(cw("handoff", "show", "--as-of", at(30), "--format", "json")[1])
    assert then["as_of"] == at(30).replace("+00:00", "Z") and then["status"] == "preview"
    assert [case["id"] for case in then["cases"]] == ["CW-1001", "CW-1002"]
    later = json.loads(cw("handoff", "show", "--as-of", at(90), "--format", "json")[1])
    assert [case["id"] for case in later["cases"]] == ["CW-1002"]
    assert later["shift_started_at"] == at(0).replace("+00:00", "Z")
    assert later["summary"]["opened"] == ["CW-1001", "CW-1002"] and later["summary"]["resolved"] == ["CW-1001"]
    code, out, _ = cw("handoff", "show", "--as-of", at(30))
    assert code == 0 and "- **Replay:** as of " in out
    assert json.loads(cw("handoff", "show", "--format", "json")[1])["as_of"] is None

    assert cw("handoff", "prepare", "--to", "ken")[0] == 0
    prepared = json.loads(cw("handoff", "show", "1", "--format", "json")[1])["prepared_at"]
    assert cw("handoff", "accept", "1", "--as", "ken")[0] == 0
    assert json.loads(cw("handoff", "show", "1", "--format", "json")[1])["status"] == "accepted"
    as_prepared = json.loads(cw("handoff", "show", "1", "--format", "json", "--as-of", prepared)[1])
    assert as_prepared["status"] == "pending" and as_prepared["accepted_at"] is None
    code, _, err = cw("handoff", "show", "1", "--as-of", at(90))
    assert code == 2 and err.strip().endswith("no handoff 1 by then (see `casewatch handoff list`)")


def test_handoff_show_as_of_before_any_shift_or_in_the_future(cw):
    """Before the first event there is no shift to hand over: the preview's shift starts at the
    replayed instant, never after it; an instant in the future is refused."""
    from datetime import UTC, datetime, timedelta

    before = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    shown = json.loads(cw("handoff", "show", "--as-of", before.isoformat(), "--format", "json")[1])
    assert shown["shift_started_at"] == before.isoformat().replace("+00:00", "Z")
    later = (datetime.now(UTC) + timedelta(days=400)).replace(microsecond=0).isoformat()
    for args in (("handoff", "show"), ("cases",), ("metrics",)):
        code, _, err = cw(*args, "--as-of", later)
        assert code == 2 and err.strip().endswith("is in the future; a replay reaches now at most"), (args, err)
