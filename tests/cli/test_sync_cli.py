"""`casewatch sync` end to end, in-process on a real SQLite file, against a Zendesk and a Jira on
127.0.0.1: pages joined by cursors, the never-undo rule across syncs, a tag removed, hostile text
shown escaped, a 401, a repeated cursor, a redirect elsewhere, and Jira's page tokens."""

from __future__ import annotations

import base64
import json

import pytest

from casewatch import paths
from tests.sources.trackers import Tracker, status, zd_page, zd_ticket

TOKEN = "s3cr3t-zd-token-value"


@pytest.fixture
def zendesk(httpserver, run_cli, monkeypatch):
    """A floor whose config names source zd on the local server; returns (run_cli, the tracker)."""
    tracker = Tracker(httpserver).serve_zendesk()
    write_config(f"""\
[sources.zd]
kind = "zendesk"
url = "{tracker.url}"
email = "lead@acme.com"
token_env = "CASEWATCH_ZD_TOKEN"
[sources.zd.people]
"ravi.k@example.com" = "ravi"
""")
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", TOKEN)
    assert run_cli("people", "add", "ravi", "--role", "agent", "--tz", "UTC")[0] == 0
    return run_cli, tracker


def write_config(text: str) -> None:
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


def cases_json(run_cli) -> list[dict]:
    code, out, _ = run_cli("cases", "--all", "--json")
    assert code == 0
    return json.loads(out)


def test_three_pages_joined_by_cursors_then_an_empty_page(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {
        "start": zd_page([zd_ticket(1), zd_ticket(2, tags=("billing",))], "c1"),
        "c1": zd_page([zd_ticket(3, priority="urgent")], "c2"),
        "c2": zd_page([zd_ticket(4, priority="low", assignee_id=None)], "c3"),
        "c3": zd_page([], "c3", end=True),
    }
    assert run_cli("sync") == (0, "zd: 3 new, 0 changed, 0 unchanged, 0 no longer escalated\n", "")
    assert [key for _, key, _ in tracker.seen] == ["start", "c1", "c2", "c3"]
    expected = "Basic " + base64.b64encode(f"lead@acme.com/token:{TOKEN}".encode()).decode()
    assert {auth for _, _, auth in tracker.seen} == {expected}
    found = {case["source"]["id"]: case for case in cases_json(run_cli)}
    assert sorted(found) == ["1", "3", "4"]  # ticket 2 carries no escalated tag
    assert (found["1"]["severity"], found["1"]["internal_owner"], found["1"]["customer"]) == ("SEV2", "ravi", "Acme Corp")
    assert found["3"]["severity"] == "SEV1"
    assert found["1"]["source"] == {"name": "zd", "kind": "zendesk", "id": "1",
                                    "url": f"{tracker.url}/agent/tickets/1"}
    tracker.pages["c3"] = zd_page([], "c3", end=True)
    assert run_cli("sync")[1] == "zd: 0 new, 0 changed, 0 unchanged, 0 no longer escalated\n"
    assert [key for _, key, _ in tracker.seen][4:] == ["c3"]  # resumed from the saved cursor
    assert run_cli("db", "verify")[0] == 0


def test_null_priority_assignee_and_organization(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(9, priority=None, assignee_id=None, organization_id=None)], "c1",
                                      end=True)}
    assert run_cli("sync")[0] == 0
    [case] = cases_json(run_cli)
    assert (case["severity"], case["internal_owner"], case["customer"]) == ("SEV3", None, "unknown")


def test_a_hostile_subject_is_stored_as_given_and_shown_escaped(zendesk):
    run_cli, tracker = zendesk
    hostile = "Refund \x1b[31mNOW\x1b]52;c;ZXZpbA==\x07 \u202eevil\u202c"
    tracker.pages = {"start": zd_page([zd_ticket(5, subject=hostile)], "c1", end=True)}
    assert run_cli("sync")[0] == 0
    [case] = cases_json(run_cli)
    assert case["title"] == hostile
    code, out, _ = run_cli("cases", "--all")
    assert code == 0 and "Refund" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e\u202c")


def test_a_priority_change_between_syncs_and_the_never_undo_rule(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(7, priority="high")], "c1", end=True)}
    assert run_cli("sync")[0] == 0
    [case] = cases_json(run_cli)
    assert run_cli("case", "severity", case["id"], "SEV1", "--reason", "whole region down")[0] == 0
    tracker.pages["c1"] = zd_page([zd_ticket(7, priority="high", status="pending",
                                             updated="2026-11-27T10:05:00Z")], "c2", end=True)
    assert run_cli("sync")[1] == "zd: 0 new, 1 changed, 0 unchanged, 0 no longer escalated\n"
    [case] = cases_json(run_cli)
    assert (case["severity"], case["status"]) == ("SEV1", "waiting_on_customer")  # the lead's SEV1 stays
    tracker.pages["c2"] = zd_page([zd_ticket(7, priority="low", status="pending",
                                             updated="2026-11-27T10:09:00Z")], "c3", end=True)
    assert run_cli("sync")[0] == 0
    [case] = cases_json(run_cli)
    assert case["severity"] == "SEV4"  # the tracker changed: applied
    code, out, _ = run_cli("case", "show", case["id"])
    assert code == 0 and "via zd" in out


def test_a_tag_removed_leaves_the_case_with_a_timeline_line(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(8), zd_ticket(11)], "c1", end=True),
                     "c1": zd_page([zd_ticket(8, tags=("vip",), updated="2026-11-27T11:00:00Z")], "c2", end=True),
                     "c2": zd_page([zd_ticket(8, tags=("vip",), updated="2026-11-27T11:30:00Z")], "c3", end=True)}
    assert run_cli("sync")[0] == 0
    assert run_cli("sync")[1] == "zd: 0 new, 0 changed, 0 unchanged, 1 no longer escalated\n"
    assert run_cli("sync")[1] == "zd: 0 new, 0 changed, 1 unchanged, 0 no longer escalated\n"  # said once
    case = next(c for c in cases_json(run_cli) if c["source"]["id"] == "8")
    assert case["status"] != "resolved"
    code, out, _ = run_cli("case", "show", case["id"])
    assert out.count("no longer escalated in zd") == 1


def test_a_401_names_the_source_and_the_credential_and_never_the_token(zendesk):
    run_cli, tracker = zendesk
    tracker.failures = {"start": [status(401, body=json.dumps({"error": f"bad token {TOKEN}"}))]}
    code, out, err = run_cli("sync", "--json")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "zd" in err and "CASEWATCH_ZD_TOKEN" in err and "401" in err
    assert TOKEN not in err


def test_a_repeated_cursor_stops_and_keeps_what_committed(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1"), "c1": zd_page([zd_ticket(2)], "c1")}
    code, out, err = run_cli("sync")
    assert code == 4 and "twice" in err and err.count("\n") == 1
    assert sorted(c["source"]["id"] for c in cases_json(run_cli)) == ["1", "2"]
    assert [key for _, key, _ in tracker.seen] == ["start", "c1"]


def test_a_page_of_the_wrong_shape_is_one_line_naming_the_source(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1"), "c1": {"tickets": "nope"}}
    code, _, err = run_cli("sync")
    assert code == 4 and err.startswith("casewatch: source zd:") and "tickets" in err
    assert [c["source"]["id"] for c in cases_json(run_cli)] == ["1"]


def test_a_redirect_to_another_host_is_refused_without_sending_the_token(zendesk, httpserver):
    run_cli, tracker = zendesk
    elsewhere = httpserver.url_for("/x").replace("localhost", "127.0.0.1")
    assert elsewhere != httpserver.url_for("/x")
    tracker.failures = {"start": [status(302, {"Location": elsewhere})]}
    code, _, err = run_cli("sync")
    assert code == 4 and "refused a redirect" in err
    assert [path for path, _, _ in tracker.seen] == ["/api/v2/incremental/tickets/cursor.json"]


def test_dry_run_writes_nothing(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True)}
    assert run_cli("sync", "--dry-run")[1] == "zd: would be 1 new, 0 changed, 0 unchanged, 0 no longer escalated\n"
    assert cases_json(run_cli) == []


def test_jira_pages_by_token_until_is_last(httpserver, run_cli, monkeypatch):
    tracker = Tracker(httpserver).serve_jira()
    write_config(f"""\
[sources.sup]
kind = "jira"
url = "{tracker.url}"
email = "lead@acme.com"
token_env = "CASEWATCH_JIRA_TOKEN"
jql = 'project = SUP AND labels = escalated'
[sources.sup.status]
"Waiting for support" = "investigating"
""")
    monkeypatch.setenv("CASEWATCH_JIRA_TOKEN", "jira-token")

    def issue(key: str, priority: str, status: str, category: str, updated: str) -> dict:
        return {"id": "1", "key": key, "fields": {
            "summary": f"{key} broken", "priority": {"name": priority},
            "status": {"name": status, "statusCategory": {"key": category}}, "assignee": None,
            "components": [{"name": "Globex"}], "labels": ["escalated"],
            "created": "2026-11-27T10:55:03.512+0100", "updated": updated},
            "changelog": {"histories": [{"created": "2026-11-20T00:00:00.000+0100", "items": []}]}}
    tracker.pages = {
        "start": {"issues": [issue("SUP-1", "Highest", "Triage", "new", "2026-11-27T11:00:00.000+0100")],
                  "nextPageToken": "t1", "isLast": False},
        "t1": {"issues": [issue("SUP-1", "Highest", "Triage", "new", "2026-11-27T11:00:00.000+0100"),
                          issue("SUP-2", "Medium", "Waiting for support", "indeterminate",
                                "2026-11-27T11:05:00.000+0100")], "nextPageToken": "t2", "isLast": False},
        "t2": {"issues": [issue("SUP-3", "Low", "Fixed", "done", "2026-11-27T11:10:00.000+0100")], "isLast": True},
    }
    assert run_cli("sync", "sup") == (0, "sup: 3 new, 0 changed, 0 unchanged, 0 no longer escalated\n", "")
    assert tracker.jql[0].startswith("(project = SUP AND labels = escalated) AND updated >= -")
    assert tracker.jql[0].endswith("ORDER BY updated ASC")
    found = {case["source"]["id"]: case for case in cases_json(run_cli)}
    assert {key: (c["severity"], c["status"]) for key, c in found.items()} == {
        "SUP-1": ("SEV1", "new"), "SUP-2": ("SEV3", "investigating"), "SUP-3": ("SEV4", "resolved")}
    assert found["SUP-1"]["escalated_at"].startswith("2026-11-27T10:00:00")  # updated +0100, in UTC
    assert found["SUP-1"]["source"]["url"] == f"{tracker.url}/browse/SUP-1"
    left = issue("SUP-2", "Medium", "Waiting for support", "indeterminate", "2026-11-27T11:20:00.000+0100")
    tracker.pages = {"dropped": {"issues": [left], "isLast": True}, "start": {"issues": [], "isLast": True}}
    assert run_cli("sync", "sup")[1] == "sup: 0 new, 0 changed, 0 unchanged, 1 no longer escalated\n"
    assert 'key in ("SUP-1", "SUP-2") AND NOT (project = SUP AND labels = escalated)' in tracker.jql[3]
    assert run_cli("case", "show", found["SUP-2"]["id"])[1].count("no longer escalated in sup") == 1


def test_an_error_from_the_tracker_is_shown_without_the_token(zendesk):
    run_cli, tracker = zendesk
    tracker.failures = {"start": [status(400, body=f"invalid request for lead@acme.com/token:{TOKEN}")]}
    code, out, err = run_cli("sync", "--json")
    assert (code, out) == (4, "")
    assert "HTTP 400" in err and "[token]" in err and TOKEN not in err


def test_config_refuses_plain_http_elsewhere_and_a_token_file_others_may_read(run_cli, tmp_path):
    write_config('[sources.zd]\nkind = "zendesk"\nurl = "http://acme.zendesk.com"\n')
    code, _, err = run_cli("sync")
    assert code == 2 and "https://" in err and err.count("\n") == 1
    token = tmp_path / "token"
    token.write_text("abc\n")
    token.chmod(0o644)
    write_config(f'[sources.zd]\nkind = "zendesk"\nurl = "https://127.0.0.1:1"\nemail = "a@b.c"\n'
                 f'token_file = "{token}"\n')
    code, _, err = run_cli("sync")
    assert code == 2 and "may be read by others" in err and "chmod 600" in err


def test_a_failing_source_leaves_the_others_to_sync(zendesk, httpserver, monkeypatch):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True)}
    write_config(paths.config_path().read_text() + f"""
[sources.zz]
kind = "zendesk"
url = "{tracker.url}"
email = "lead@acme.com"
token_env = "CASEWATCH_ZZ_TOKEN"
""")
    code, out, err = run_cli("sync")
    assert code == 2 and out == "zd: 1 new, 0 changed, 0 unchanged, 0 no longer escalated\n"
    assert err == "casewatch: source zz: the environment variable CASEWATCH_ZZ_TOKEN (its token_env) is not set\n"


def test_a_tracker_that_keeps_rate_limiting_ends_the_pass(zendesk):
    run_cli, tracker = zendesk
    tracker.failures = {"start": [status(429, {"Retry-After": "0"})] * 20}
    code, _, err = run_cli("sync")
    assert code == 4 and "still rate limited after 10 waits" in err
    assert len(tracker.seen) == 11


def test_a_token_file_only_its_owner_may_read_is_used(zendesk, tmp_path, monkeypatch):
    run_cli, tracker = zendesk
    token = tmp_path / "zd.token"
    token.write_text("from-the-file\n")
    token.chmod(0o600)
    write_config(paths.config_path().read_text().replace('token_env = "CASEWATCH_ZD_TOKEN"', f'token_file = "{token}"'))
    tracker.pages = {"start": zd_page([], "c1", end=True)}
    assert run_cli("sync")[0] == 0
    assert tracker.seen[0][2] == "Basic " + base64.b64encode(b"lead@acme.com/token:from-the-file").decode()


def test_a_ticket_listed_twice_in_a_page_makes_one_case_as_last_listed(zendesk):
    run_cli, tracker = zendesk
    tracker.pages = {"start": zd_page([zd_ticket(6, priority="low"), zd_ticket(6, priority="urgent",
                                                                               updated="2026-11-27T10:01:00Z")],
                                      "c1", end=True)}
    assert run_cli("sync")[1] == "zd: 1 new, 0 changed, 0 unchanged, 0 no longer escalated\n"
    [case] = cases_json(run_cli)
    assert case["severity"] == "SEV1"
