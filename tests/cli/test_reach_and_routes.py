# ruff: noqa: F811 - `cw` is the CLI tests' fixture, shared from test_cli
"""Issue 9 from the command line: unknown teams refused (exit 2), conflicts that say what changed
and who changed it (exit 3), notes written through a newer version, and resolved cases listed."""

from __future__ import annotations

import json

from tests.cli.test_cli import cw  # noqa: F401


def new_case(cw, severity: str = "SEV3", title: str = "t") -> str:
    return cw("case", "new", "--title", title, "--customer", "Globex", "--severity", severity)[1].strip()


def test_an_unknown_team_is_exit_2_listing_the_known_teams_and_keeps_the_route_review(cw):
    cid = new_case(cw)
    cw("case", "severity", cid, "SEV1", "--reason", "outage")
    code, out, err = cw("case", "route", cid, "specialist:nosuch", "--reason", "x", "--override", "now")
    assert (code, out) == (2, "")
    assert err == "casewatch: unknown team 'nosuch' in route specialist:nosuch; known teams: identity\n"
    shown = json.loads(cw("case", "show", cid, "--json")[1])
    assert shown["route"] == "support" and any(f.startswith("route review needed") for f in shown["flags"])


def test_a_stale_state_dependent_command_is_exit_3_saying_what_changed_and_by_whom(cw):
    cid = new_case(cw)
    cw("case", "assign", cid, "raj", "--as", "dana")
    code, _, err = cw("case", "severity", cid, "SEV2", "--reason", "x", "--expect-version", "1")
    assert code == 3 and err.count("\n") == 1
    assert f"{cid} was changed by dana" in err and "internal owner: nobody → raj" in err


def test_a_note_is_written_against_a_newer_version(cw):
    cid = new_case(cw)
    cw("case", "assign", cid, "raj")
    assert cw("case", "note", cid, "still there", "--expect-version", "1") == (0, f"{cid} v3: note: still there\n", "")


def test_resolved_cases_are_listed_with_status_resolved_or_all(cw):
    kept, resolved = new_case(cw, title="kept open"), new_case(cw, title="fixed")
    cw("case", "status", resolved, "resolved")
    assert [c["id"] for c in json.loads(cw("cases", "--json")[1])] == [kept]
    assert [c["id"] for c in json.loads(cw("cases", "--status", "resolved", "--json")[1])] == [resolved]
    assert sorted(c["id"] for c in json.loads(cw("cases", "--all", "--json")[1])) == [kept, resolved]
    code, out, _ = cw("cases", "--status", "resolved")
    assert code == 0 and resolved in out and kept not in out
    assert cw("case", "reopen", resolved)[0] == 0
    assert [c["id"] for c in json.loads(cw("cases", "--status", "resolved", "--json")[1])] == []
    assert cw("cases", "--status", "resolved", "--all")[0] == 2
