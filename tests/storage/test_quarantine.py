"""SQLite folds the way the team server does: forged or damaged events written straight into the
file (an imported or damaged log) are quarantined, never become state through `db rebuild`, and
no reader crashes on them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from casewatch.cli.main import main


def now() -> str:
    """The CLI's clock is the real one: forged events come after what the test made."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def cw(capsys, db: str, *args: str, who: str = "dana") -> tuple[int, str, str]:
    code = main([*args, "--db", db, "--as", who])
    out, err = capsys.readouterr()
    return code, out, err


def settled(shown: str) -> dict:
    """`case show --json` without what the real clock moves (seconds remaining)."""
    found = json.loads(shown)
    for clock in found["clocks"].values():
        clock.pop("remaining_s")
    return found


def forge(db: str, case_id: str | None, kind: str, actor: str, payload, at: str | None = None) -> None:
    recorded = now()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO events (case_id, type, actor, occurred_at, recorded_at, payload) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (case_id, kind, actor, at or recorded, recorded, json.dumps(payload)))


def test_the_issues_forged_events_are_quarantined_on_sqlite(tmp_path, capsys):
    db = str(tmp_path / "cw.db")
    assert cw(capsys, db, "people", "add", "tom", "--role", "agent", "--tz", "UTC")[0] == 0
    assert cw(capsys, db, "people", "add", "lee", "--role", "lead", "--tz", "UTC")[0] == 0
    code, out, _ = cw(capsys, db, "case", "new", "--title", "Checkout down", "--customer", "Globex",
                      "--severity", "SEV1")
    case_id = out.strip()
    assert cw(capsys, db, "handoff", "prepare", "--to", "lee")[0] == 0
    code, before, _ = cw(capsys, db, "case", "show", case_id, "--json")
    forgeries = [
        (None, "person_renamed", "tom", {"before": "tom", "after": "dana"}),
        (None, "person_added", "tom", {"name": "tom", "role": "lead", "tz": "UTC", "before": None}),
        (None, "policy_applied", "tom", {"toml": "", "source": "30-day clocks"}),
        (None, "shift_started", "tom", {"lead": "tom", "tz": "UTC", "before": None}),
        (None, "handoff_accepted", "tom", {"id": 1, "lead": "tom", "tz": "UTC", "before": "dana"}),
        (case_id, "owner_assigned", "tom", {"before": None, "after": "tom", "role": "agent"}),
        (case_id, "case_created", "tom", {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"}),
        (case_id, "note_added", "tom", {"text": "before the case"}, "2001-01-01 00:00:00.000000"),
        ("CW-9999", "note_added", "tom", {"text": "no such case"}),
        (case_id, "made_up", "tom", {}),
        (None, "person_added", "dana", {"name": "carol", "tz": "UTC"}),
        (case_id, "customer_update_logged", "dana", {"known": "k", "investigating": "i", "next_milestone": "n"},
         "2099-01-01 00:00:00.000000"),
    ]
    for forgery in forgeries:
        forge(db, *forgery)
    code, out, err = cw(capsys, db, "db", "audit", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(q["type"], q["actor"]) for q in listed] == [(f[1], f[2]) for f in forgeries]
    assert [q["reason"] for q in listed[:6]] == [
        "tom was not a lead: person renamed needs a lead", "tom was not a lead: person added needs a lead",
        "tom was not a lead: policy applied needs a lead", "tom was not a lead: shift started needs a lead",
        "handoff 1 was addressed to lee, not tom", "tom is an agent: naming the internal owner needs a lead"]
    code, out, err = cw(capsys, db, "db", "verify")
    assert code == 0, out + err  # the projections already are the checked fold
    assert cw(capsys, db, "db", "rebuild")[0] == 0
    code, after, _ = cw(capsys, db, "case", "show", case_id, "--json")
    assert settled(after) == settled(before)
    code, out, _ = cw(capsys, db, "people", "list", "--json")
    assert {p["name"]: p["role"] for p in json.loads(out)} == {"dana": "lead", "lee": "lead", "tom": "agent"}
    for args in (("cases",), ("metrics",), ("shift", "show"), ("handoff", "list"), ("handoff", "show", "1"),
                 ("cases", "--as-of", now().replace(" ", "T")[:19] + "Z")):
        code, _, err = cw(capsys, db, *args)
        assert code == 0, (args, err)
    code, _, err = cw(capsys, db, "case", "assign", case_id, "lee", who="tom")
    assert code == 2 and "needs a lead" in err  # the forged promotion grants nothing
    code, out, _ = cw(capsys, db, "db", "audit")
    assert out.strip().endswith(f"{len(forgeries)} quarantined events (kept in the log, never applied)")


def test_events_no_state_can_take_are_quarantined_on_sqlite(tmp_path, capsys):
    """Each of these once made verify, rebuild or `case show` fail until someone deleted it."""
    db = str(tmp_path / "cw.db")
    code, out, _ = cw(capsys, db, "case", "new", "--title", "Checkout down", "--customer", "Globex",
                      "--severity", "SEV1")
    case_id = out.strip()
    created = {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"}
    zd = {"name": "zd", "kind": "zendesk", "id": "100"}
    forge(db, "CW-4000", "case_created", "dana", created | {"source": zd, "via": "zd"})
    forgeries = [
        (case_id, "ticket_seen", "dana", {"seen": "str"}),
        ("CW-abc", "case_created", "dana", created),
        ("CW-99999999999999999999", "case_created", "dana", created),
        ("CW-2147483647", "case_created", "dana", created),
        ("CW-5000", "case_created", "dana", created | {"source": zd}),
    ]
    for forgery in forgeries:
        forge(db, *forgery)
    deep = '{"text": "deep", "more": ' * 2000 + "{}" + "}" * 2000
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO events (case_id, type, actor, occurred_at, recorded_at, payload) "
                     "VALUES (?, 'note_added', 'dana', ?, ?, ?)", (case_id, now(), now(), deep))
    code, out, err = cw(capsys, db, "db", "audit", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [(q["case"], q["type"]) for q in listed] == [(f[0], f[1]) for f in forgeries] + [
        (case_id, "note_added")]
    assert "does not parse" in listed[-1]["reason"]
    assert cw(capsys, db, "db", "rebuild")[0] == 0
    code, out, err = cw(capsys, db, "db", "verify")
    assert code == 0, out + err
    for shown in (case_id, "CW-4000"):
        assert cw(capsys, db, "case", "show", shown)[0] == 0
    code, out, err = cw(capsys, db, "case", "new", "--title", "Next", "--customer", "Globex", "--severity", "SEV3")
    assert code == 0 and out.strip() == "CW-5001", err  # after every id the log holds, quarantined or not


def test_only_an_import_links_a_case_and_one_ticket_links_one_case_on_sqlite(tmp_path, capsys):
    """An agent's linked `case_created` claims no ticket (the import of that ticket still makes its
    case); another spelling of a held ticket, or a `javascript:` URL, is quarantined."""
    from casewatch import paths

    db = str(tmp_path / "cw.db")
    assert cw(capsys, db, "people", "add", "tom", "--role", "agent", "--tz", "UTC")[0] == 0
    created = {"title": "x", "customer": "y", "severity": "SEV4", "route": "support"}
    zd = {"name": "zd", "kind": "zendesk", "id": "123", "url": None}
    forge(db, "CW-1001", "case_created", "tom", created | {"source": zd})
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[sources.zd]\nkind = "zendesk"\n', encoding="utf-8")
    export = tmp_path / "export.csv"
    export.write_text("Id,Subject,Priority,Status,Organization,Created at\n"
                      "123,Checkout fails,high,open,Acme,2026-11-30T10:00:00Z\n", encoding="utf-8")
    code, out, err = cw(capsys, db, "import", "csv", str(export), "--source", "zd")
    assert code == 0 and "created 1" in out, (out, err)
    forge(db, "CW-1003", "case_created", "dana", created | {"source": zd | {"name": "ZD", "id": "00123"}})
    forge(db, "CW-1004", "case_created", "dana", created | {"source": zd | {"id": "7", "url": "javascript:alert(1)"}})
    code, out, err = cw(capsys, db, "db", "audit", "--json")
    listed = json.loads(out)
    assert [(q["case"], q["reason"]) for q in listed] == [
        ("CW-1001", "ticket 123 of zd is linked to another case"),  # the import's, tom's claiming nothing
        ("CW-1003", "ticket 00123 of ZD is linked to another case"),
        ("CW-1004", "its ticket link's URL is not an http(s) address")], listed
    assert cw(capsys, db, "db", "rebuild")[0] == 0
    code, out, _ = cw(capsys, db, "case", "show", "ZD-123", "--json")
    assert json.loads(out)["id"] == "CW-1002" and json.loads(out)["title"] == "Checkout fails"
    code, out, err = cw(capsys, db, "import", "csv", str(export), "--source", "zd")
    assert code == 0 and "unchanged" in out, (out, err)


def test_a_boards_audit_counts_from_its_last_mark_as_the_whole_log_does(tmp_path, capsys, monkeypatch):
    """The board's count reads only the cases that gained events since its last audit; at every step
    it equals a whole audit, and a new floor event or an unreadable mark sends it back to the whole log."""
    import asyncio

    from casewatch.storage import checked_log
    from casewatch.storage.audit_marks import load_mark, mark_path, save_mark
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    db = str(tmp_path / "cw.db")
    target = resolve_target(db)
    audit = checked_log.audit
    monkeypatch.setattr(checked_log, "audit", lambda conn: whole_audit(conn))
    assert cw(capsys, db, "people", "add", "tom", "--role", "agent", "--tz", "UTC")[0] == 0
    for title in ("one", "two", "three"):
        assert cw(capsys, db, "case", "new", "--title", title, "--customer", "c", "--severity", "SEV2")[0] == 0

    whole: list = []  # each call of the whole log's audit (the spy keeps what it does)

    async def whole_audit(conn):
        whole.append(True)
        return await audit(conn)

    async def count(reads: list) -> int:
        async with await Store.open(target) as store:
            before = load_mark(target)
            whole.clear()
            mark = await store.audit_since(before)
            reads.append(not whole)
            save_mark(target, mark)
            assert mark.count == len(await store.audit())
            return mark.count

    reads: list = []
    assert asyncio.run(count(reads)) == 0
    forge(db, "CW-1002", "owner_assigned", "tom", {"before": None, "after": "tom", "role": "agent"})
    assert cw(capsys, db, "case", "note", "CW-1001", "a note that counts")[0] == 0
    assert asyncio.run(count(reads)) == 1
    forge(db, "CW-1003", "made_up", "tom", {})
    assert cw(capsys, db, "case", "note", "CW-1002", "the forged owner's case moves on")[0] == 0
    assert asyncio.run(count(reads)) == 2
    assert asyncio.run(count(reads)) == 2  # nothing new: nothing re-read
    assert load_mark(target).quarantined == {"CW-1002": 1, "CW-1003": 1}
    assert cw(capsys, db, "case", "new", "--title", "four", "--customer", "c", "--severity", "SEV3")[0] == 0
    assert asyncio.run(count(reads)) == 2  # a new case is read alone
    forge(db, None, "person_added", "tom", {"name": "eve", "role": "lead", "tz": "UTC", "before": None})
    assert asyncio.run(count(reads)) == 3
    mark_path(target).write_text("{not json")
    assert load_mark(target) is None
    assert asyncio.run(count(reads)) == 3
    assert reads == [False, True, True, True, True, False, False]


def test_a_counted_event_type_with_wrongly_typed_fields_is_quarantined_and_every_reader_keeps_working(
        tmp_path, capsys):
    """From the third attack run: payloads with the keys their type needs but values the rules
    never write (an evidence record without `before`, a participant's role as an object, a next
    update in "abc" or 1e308 seconds) were folded in, and case show, handoffs, metrics, db verify
    and db rebuild failed for good."""
    db = str(tmp_path / "cw.db")
    assert cw(capsys, db, "people", "add", "lee", "--role", "lead", "--tz", "UTC")[0] == 0
    assert cw(capsys, db, "case", "new", "--title", "Checkout down", "--customer", "Globex", "--severity", "SEV1")[0] == 0
    update = {"known": "k", "investigating": "i", "next_milestone": "m"}
    forgeries = [
        ("evidence_set", {"key": "impact", "state": "done", "value": "x"}),
        ("participant_involved", {"name": "mallory", "role": {"r": [1]}}),
        ("evidence_set", {"key": "impact", "state": "done", "value": {"v": [1]}, "before": "missing"}),
        *(("customer_update_logged", update | {"next_update_in_s": bad}) for bad in ("abc", [1], 1e308, -1e308)),
    ]
    for kind, payload in forgeries:
        forge(db, "CW-1001", kind, "dana", payload)
    code, out, err = cw(capsys, db, "db", "audit", "--json")
    assert code == 0 and [q["type"] for q in json.loads(out)] == [kind for kind, _ in forgeries], out + err
    for args in (["case", "show", "CW-1001"], ["case", "show", "CW-1001", "--json"], ["cases", "--json"],
                 ["metrics"], ["handoff", "prepare", "--to", "lee"], ["handoff", "show"], ["db", "verify"],
                 ["db", "rebuild"], ["case", "note", "CW-1001", "still writable"]):
        code, out, err = cw(capsys, db, *args)
        assert code == 0 and "Traceback" not in err, (args, err)
    code, out, _ = cw(capsys, db, "case", "show", "CW-1001", "--json")
    shown = json.loads(out)
    assert "mallory" not in str(shown["participants"]) and "done" not in str(shown.get("evidence"))



def test_a_case_event_over_the_size_limit_is_quarantined_on_sqlite(tmp_path, capsys):
    """SQLite has no trigger (migration 0019 is PostgreSQL's): a 300 kB note written straight into
    the file is quarantined by the fold, and every reader goes on."""
    db = str(tmp_path / "cw.db")
    code, out, _ = cw(capsys, db, "case", "new", "--title", "Checkout down", "--customer", "Globex",
                      "--severity", "SEV1")
    case_id = out.strip()
    forge(db, case_id, "note_added", "dana", {"text": "x" * 300_000})
    code, out, _ = cw(capsys, db, "db", "audit", "--json")
    [listed] = json.loads(out)
    assert "its payload is too large (300012 bytes" in listed["reason"], listed
    code, out, err = cw(capsys, db, "case", "show", case_id, "--json")
    assert code == 0 and json.loads(out)["version"] == 1, err
    assert cw(capsys, db, "db", "verify")[0] == 0


async def test_the_store_refuses_to_send_a_case_event_the_server_would_refuse_for_its_size(tmp_path, frozen_clock):
    from casewatch.core import commands as c
    from casewatch.core.errors import InvalidInput
    from casewatch.core.models import Person, Role
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    lead = Person(name="dana", role=Role.LEAD, tz="UTC")
    async with await Store.open(resolve_target(str(tmp_path / "cw.db")), clock=frozen_clock, creator=lead) as store:
        made = await store.execute(c.NewCase(title="Checkout down", customer="Globex", severity="SEV1"), "dana")
        case_id = made.event.case_id
        assert case_id is not None
        with pytest.raises(InvalidInput, match=r"CW-1001: this note added is too large to record \(300\d\d\d bytes"):
            await store.execute(c.Note.model_construct(case_id=case_id, text="x" * 300_000), "dana")
        assert (await store.get_case(case_id)).version == 1


def test_logged_times_no_reader_can_decode_are_quarantined_and_shown_in_any_zone_on_sqlite(tmp_path, capsys):
    """Text that is no time, or year 1 (which New York's offset would carry out of range), in an
    imported or damaged log: quarantined, and audit, verify, rebuild and `case show` work in every zone."""
    db = str(tmp_path / "cw.db")
    code, out, _ = cw(capsys, db, "case", "new", "--title", "Checkout down", "--customer", "Globex",
                      "--severity", "SEV1")
    case_id = out.strip()
    for at in ("-infinity", "0044-03-15 12:00:00 BC", "0001-01-01 00:00:00.000000", "99999-01-01 00:00:00"):
        forge(db, case_id, "note_added", "dana", {"text": "et tu"}, at)
    forge(db, "CW-1002", "case_created", "dana", {"title": "Caesar", "customer": "Rome", "severity": "SEV2",
                                                  "route": "support"}, "0001-01-01 00:00:00.000000")
    for zone in ("America/New_York", "Pacific/Kiritimati"):
        code, out, err = cw(capsys, db, "--tz", zone, "db", "audit")
        assert code == 0 and "5 quarantined events" in out and "Traceback" not in err, (out, err)
        code, out, err = cw(capsys, db, "--tz", zone, "case", "show", case_id)
        assert code == 0 and "et tu" not in out, err
    code, out, err = cw(capsys, db, "db", "audit", "--json")
    assert all("out of range" in q["reason"] or "before 2000" in q["reason"] for q in json.loads(out)), out
    assert cw(capsys, db, "db", "rebuild")[0] == 0
    code, out, err = cw(capsys, db, "db", "verify")
    assert code == 0, out + err
    code, out, err = cw(capsys, db, "cases", "--json")
    assert code == 0 and [c["id"] for c in json.loads(out)] == [case_id], err
    code, out, err = cw(capsys, db, "cases", "--as-of", datetime.now(UTC).isoformat(), "--json")
    assert code == 0 and [c["id"] for c in json.loads(out)] == [case_id], err
    assert cw(capsys, db, "metrics")[0] == 0
