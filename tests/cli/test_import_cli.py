"""`casewatch import csv` end to end, in-process on a real SQLite file: the summary, re-runs that
create nothing, the never-undo rule, bad rows, hostile text shown escaped everywhere, and a
database that verifies clean after all of it."""

from __future__ import annotations

import json

import pytest

from casewatch import paths

CONFIG = """\
[sources.sf]
kind = "csv"
default_severity = "SEV3"
ticket_url = "https://acme.my.salesforce.com/lightning/r/Case/{id}/view"
[sources.sf.severity]
"P1 - Critical" = "SEV1"
"P2 - High" = "SEV2"
[sources.sf.status]
"Waiting on Customer" = "waiting_on_customer"
[sources.sf.people]
"ravi.k@example.com" = "ravi"
"""
HEADER = "Case Number,Subject,Priority,Status,Account Name,Case Owner,Date/Time Opened\n"
ROWS = [
    "00001001,Checkout fails,P2 - High,New,Acme,ravi.k@example.com,11/26/2026 10:31 AM\n",
    "00001002,Login loop,P1 - Critical,Waiting on Customer,Globex,7712004,2026-11-26 09:00\n",
    "00001003,Slow search,,Working,Initech,,2026-11-26T08:00:00Z\n",
]


@pytest.fixture
def importing(run_cli, tmp_path):
    """A floor with a config naming source sf; returns (run_cli, a writer of CSV files)."""
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG, encoding="utf-8")
    assert run_cli("people", "add", "ravi", "--role", "agent", "--tz", "UTC")[0] == 0

    def csv(*rows: str, name: str = "cases.csv") -> str:
        path = tmp_path / name
        path.write_text(HEADER + "".join(rows), encoding="utf-8")
        return str(path)

    return run_cli, csv


def cases_json(run_cli) -> list[dict]:
    code, out, _ = run_cli("cases", "--all", "--json")
    assert code == 0
    return json.loads(out)


def test_an_import_creates_linked_cases_and_a_second_creates_nothing(importing):
    run_cli, csv = importing
    path = csv(*ROWS)
    assert run_cli("import", "csv", path, "--source", "sf", "--dry-run") == (
        0, "would create 3, update 0, leave 0 unchanged\n", "")
    assert cases_json(run_cli) == []
    assert run_cli("import", "csv", path, "--source", "sf")[1] == "created 3, updated 0, left 0 unchanged\n"
    found = {case["source"]["id"]: case for case in cases_json(run_cli)}
    assert {key: (c["severity"], c["status"], c["internal_owner"]) for key, c in found.items()} == {
        "00001001": ("SEV2", "new", "ravi"), "00001002": ("SEV1", "waiting_on_customer", None),
        "00001003": ("SEV3", "new", None)}
    assert found["00001001"]["source"] == {
        "name": "sf", "kind": "csv", "id": "00001001",
        "url": "https://acme.my.salesforce.com/lightning/r/Case/00001001/view"}
    assert found["00001001"]["escalated_at"] == "2026-11-26T10:31:00Z"
    assert run_cli("import", "csv", path, "--source", "sf")[1] == "created 0, updated 0, left 3 unchanged\n"
    assert len(cases_json(run_cli)) == 3
    code, out, _ = run_cli("case", "show", found["00001002"]["id"])
    assert "SF-00001002 in sf (csv)" in out and "assignee 7712004 is not mapped to anyone on the roster" in out
    assert "[backfilled]" in out and "(via sf)" in out
    first = found["00001001"]["id"]
    assert "- **Ticket:** SF-00001001 in sf (csv) https://acme.my.salesforce.com/lightning/r/Case/00001001/view" \
        in run_cli("case", "packet", first)[1]
    assert json.loads(run_cli("case", "packet", first, "--format", "json")[1])["source"] == found["00001001"]["source"]
    assert json.loads(run_cli("case", "show", first, "--json")[1])["source"] == found["00001001"]["source"]
    assert run_cli("db", "verify")[0] == 0


def test_the_board_decides_until_the_tracker_changes(importing):
    run_cli, csv = importing
    run_cli("import", "csv", csv(ROWS[0]), "--source", "sf")
    [case] = cases_json(run_cli)
    assert run_cli("case", "severity", case["id"], "SEV1", "--reason", "customer down")[0] == 0
    assert run_cli("import", "csv", csv(ROWS[0]), "--source", "sf")[1] == "created 0, updated 0, left 1 unchanged\n"
    assert cases_json(run_cli)[0]["severity"] == "SEV1"  # the tracker still says P2: the board's SEV1 stands
    lowered = ROWS[0].replace("P2 - High", "P1 - Critical")
    run_cli("case", "severity", case["id"], "SEV3", "--reason", "calmer")
    code, out, _ = run_cli("import", "csv", csv(lowered), "--source", "sf", "--dry-run")
    assert out == f"would create 0, update 1 ({case['id']}: severity SEV3 → SEV1), leave 0 unchanged\n"
    run_cli("import", "csv", csv(lowered), "--source", "sf")
    assert cases_json(run_cli)[0]["severity"] == "SEV1"
    code, out, _ = run_cli("case", "show", case["id"], "--json")
    timeline = json.loads(out)["timeline"]
    assert timeline[-2]["summary"].endswith("(via sf)") and timeline[-2]["actor"] == "dana"
    assert run_cli("db", "verify")[0] == 0


def test_bad_rows_refuse_the_whole_file_unless_skip_bad(importing):
    run_cli, csv = importing
    path = csv(ROWS[0], ",no id,P2 - High,New,Acme,,2026-11-26 09:00\n", "00001009,x,P2 - High,New,A,,31/31/2026\n")
    code, out, err = run_cli("import", "csv", path, "--source", "sf")
    assert (code, out) == (2, "") and cases_json(run_cli) == []  # no "would …" line before the refusal
    assert err == f"casewatch: {path}: 2 bad rows (line 3: no id; line 4: created at '31/31/2026' is not a date); " \
                  "nothing was imported (--skip-bad imports the good rows and lists the bad ones)\n"
    code, out, err = run_cli("import", "csv", path, "--source", "sf", "--dry-run")  # as the real run would: 2
    assert code == 2 and cases_json(run_cli) == []
    assert out == "with --skip-bad: would create 1, update 0, leave 0 unchanged, refuse 2 (line 3: no id; line 4: " \
                  "created at '31/31/2026' is not a date)\n"
    assert err == f"casewatch: {path}: 2 bad rows (line 3: no id; line 4: created at '31/31/2026' is not a date); " \
                  "the whole file would be refused (--skip-bad imports the good rows and lists the bad ones)\n"
    code, out, _ = run_cli("import", "csv", path, "--source", "sf", "--dry-run", "--json")
    assert code == 2 and json.loads(out)["whole_file_refused"] is True
    code, out, _ = run_cli("import", "csv", path, "--source", "sf", "--dry-run", "--skip-bad")
    assert (code, out) == (0, "would create 1, update 0, leave 0 unchanged, refuse 2 (line 3: no id; line 4: "
                              "created at '31/31/2026' is not a date)\n")
    code, out, _ = run_cli("import", "csv", path, "--source", "sf", "--skip-bad", "--json")
    report = json.loads(out)
    assert code == 0 and (report["created"], report["refused"]) == (1, 2)
    assert report["refused_lines"] == [{"line": 3, "reason": "no id"},
                                       {"line": 4, "reason": "created at '31/31/2026' is not a date"}]
    assert len(cases_json(run_cli)) == 1


HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil\x1b[2J\u2066"


def test_hostile_text_in_every_column_is_stored_as_given_and_shown_escaped(importing):
    run_cli, csv = importing
    subject = HOSTILE + "s" * (1024 * 1024)
    row = ",".join(f'"{value}"' for value in (
        "H-1" + HOSTILE, subject, "P2 - High" + HOSTILE, "New" + HOSTILE, "Acme" + HOSTILE, "u" + HOSTILE,
        "2026-11-26 09:00")) + "\n"
    code, out, err = run_cli("import", "csv", csv(row), "--source", "sf", "--map", "Case Number=id")
    assert code == 0 and out.startswith("created 1"), err
    [case] = cases_json(run_cli)
    assert case["title"] == subject[:199] + "…" and case["customer"] == "Acme" + HOSTILE
    assert case["source"]["id"] == "H-1" + HOSTILE and case["severity"] == "SEV3"
    shown = [run_cli("cases")[1], run_cli("case", "show", case["id"])[1], run_cli("case", "packet", case["id"])[1],
             run_cli("import", "csv", csv(row), "--source", "sf", "--dry-run")[1]]
    for text in shown:
        assert not any(ch in text for ch in "\x1b\x07\u202e\u2066"), text[:300]
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07\\u202eevil" in shown[1]
    assert "the tracker's subject was cut to 200 characters" in shown[1]
    assert run_cli("db", "verify")[0] == 0


def test_a_source_not_in_the_config_and_a_bad_config_are_one_line(importing, tmp_path):
    run_cli, csv = importing
    code, _, err = run_cli("import", "csv", csv(ROWS[0]), "--source", "zd")
    assert code == 2 and err.startswith("casewatch: no source 'zd' in ") and err.count("\n") == 1
    config = paths.config_path()
    config.write_text(CONFIG.replace('"P2 - High" = "SEV2"', '"P2 - High" = "SEV9"'), encoding="utf-8")
    code, _, err = run_cli("import", "csv", csv(ROWS[0]), "--source", "sf")
    assert code == 2 and err == (f"casewatch: {config}:7: sources.sf.severity.P2 - High: unknown severity 'SEV9': "
                                 "expected one of SEV1, SEV2, SEV3, SEV4\n")
    config.write_text(CONFIG.replace('= "ravi"', '= "nobody"'), encoding="utf-8")
    code, _, err = run_cli("import", "csv", csv(ROWS[0]), "--source", "sf")
    assert code == 2 and err == (f"casewatch: {config}:11: sources.sf.people.ravi.k@example.com: no person 'nobody' "
                                 "on the roster (see `casewatch people list`)\n")


def test_a_linked_ticket_key_names_its_case_in_every_command(importing):
    """`case show SF-00001001` as the palette and the filter take it; nothing or several named: one line."""
    run_cli, csv = importing
    config = paths.config_path()
    config.write_text(CONFIG + '[sources.hd]\nkind = "csv"\ndefault_severity = "SEV3"\n', encoding="utf-8")
    assert run_cli("import", "csv", csv(*ROWS), "--source", "sf")[0] == 0
    found = {case["source"]["id"]: case["id"] for case in cases_json(run_cli)}
    first, second = found["00001001"], found["00001002"]
    assert json.loads(run_cli("case", "show", "SF-00001001", "--json")[1])["id"] == first
    assert json.loads(run_cli("case", "show", "sf-00001002", "--json")[1])["id"] == second
    assert json.loads(run_cli("case", "show", first.lower(), "--json")[1])["id"] == first
    code, out, err = run_cli("case", "note", "SF-00001001", "seen by the key")
    assert code == 0 and out.startswith(f"{first} v"), err
    code, out, err = run_cli("case", "comms", "SF-00001001,00001002", "ravi")  # bulk: each named its own way
    assert code == 0 and out.count("\n") == 2 and second in out, err
    assert run_cli("case", "packet", "00001002", "--format", "json")[0] == 0
    assert run_cli("case", "evidence", "SF-00001002", "--json")[0] == 0
    assert run_cli("shift", "start")[0] == 0
    assert run_cli("people", "add", "mei", "--role", "lead", "--tz", "UTC")[0] == 0
    code, out, err = run_cli("handoff", "prepare", "--to", "mei", "--case-note", "SF-00001001", "watch it")
    assert code == 0, err
    assert "watch it" in run_cli("handoff", "show", "1")[1]
    assert run_cli("import", "csv", csv(ROWS[0], name="hd.csv"), "--source", "hd")[0] == 0
    assert run_cli("case", "show", "HD-00001001", "--json")[0] == 0
    code, out, err = run_cli("case", "show", "00001001")  # the bare id of tickets of two sources
    assert (code, out) == (2, "") and err.count("\n") == 1 and "several cases" in err and first in err, err
    code, out, err = run_cli("case", "show", "ZD-48220")
    assert (code, out, err) == (2, "", "casewatch: no case ZD-48220 (nor a case linked to a ticket of that key)\n")
    code, _, err = run_cli("case", "note", "ZD-48220,SF-00001001", "both")
    assert code == 2 and err.count("\n") == 1 and "ZD-48220: not done: no case ZD-48220" in err
