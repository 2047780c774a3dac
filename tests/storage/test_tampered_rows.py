"""The tampering of tests/team/test_tampered_rows.py on an SQLite file, where whoever may write the
file may write any text into the projection rows: every reader falls back to the log for that case
(or leaves out a row the log does not have), `db verify` lists the row, `db rebuild` repairs it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from casewatch.core import commands as c
from casewatch.core.models import Person, Role, Severity
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.storage.test_verify import cw
from tests.team.boards import HeadlessBoard

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")

_MADE_UP = ("INSERT INTO cases (id, severity, status, is_open, escalated_at, version, updated_at, updated_by, "
            "last_event_id, state, listing, facts) SELECT 'CW-77', severity, status, is_open, escalated_at, version, "
            "updated_at, updated_by, last_event_id, '{\"a\": [1e400]}', '{\"a\": 1e400}', facts FROM cases "
            "WHERE id = 'CW-1002'")

TAMPERING = {
    "listing-1e400": ("UPDATE cases SET listing = '{\"x\": 1e400}' WHERE id = 'CW-1002'", "cases CW-1002: differs"),
    "state-1e400": ("UPDATE cases SET state = '{\"a\": [1e400]}' WHERE id = 'CW-1002'", "cases CW-1002: differs"),
    "state-not-json": ("UPDATE cases SET state = 'not json' WHERE id = 'CW-1002'", "cases CW-1002: differs"),
    "facts-1e400": ("UPDATE cases SET facts = '{\"a\": 1e400}' WHERE id = 'CW-1002'", "cases CW-1002: differs"),
    "made-up-case": (_MADE_UP, "cases CW-77: not in the log"),
    "made-up-handoff": ("INSERT INTO handoffs (id, prepared_at, prepared_by, to_lead, packet, last_event_id) VALUES "
                        "(999, '2026-01-01 00:00:00.000000', 'dana', 'dana', '{\"a\": 1e400}', 1)",
                        "handoffs 999: not in the log"),
    "listing-title-object": ("UPDATE cases SET listing = json_set(listing, '$.title', json('{\"a\": 1}')) "
                             "WHERE id = 'CW-1002'", "cases CW-1002: differs in listing"),
    "listing-clock-float": ("UPDATE cases SET listing = json_set(listing, '$.clocks[1]', "
                            "json('[null, 1e300, 0, null]')) WHERE id = 'CW-1002'", "cases CW-1002: differs in listing"),
    "state-year-1": ("UPDATE cases SET state = json_set(state, '$.escalated_at', '0001-01-01T00:00:00Z') "
                     "WHERE id = 'CW-1002'", "cases CW-1002: differs in state"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_a_projection_row_that_does_not_decode_is_read_from_the_log_listed_and_repaired(capsys, tmp_path, kind):
    statement, listed = TAMPERING[kind]
    db = str(tmp_path / "casewatch.db")
    for title in ("Checkout down", "Slow search"):
        code, _, err = cw(capsys, db, "case", "new", "--title", title, "--customer", "Globex", "--severity", "SEV2")
        assert code == 0, err
    with sqlite3.connect(db) as conn:
        conn.execute(statement)
    code, out, err = cw(capsys, db, "cases", "--json")
    assert code == 0, err
    assert {row["id"]: row["title"] for row in json.loads(out)} == {"CW-1001": "Checkout down",
                                                                   "CW-1002": "Slow search"}
    code, out, err = cw(capsys, db, "--tz", "America/New_York", "case", "show", "CW-1002")
    assert code == 0 and "Slow search" in out, err
    assert cw(capsys, db, "metrics")[0] == 0
    code, out, err = cw(capsys, db, "db", "verify")
    assert code == 1 and listed in out, out + err
    code, out, err = cw(capsys, db, "db", "rebuild")
    assert code == 0, err
    code, out, err = cw(capsys, db, "db", "verify")
    assert code == 0, out + err


async def test_a_polling_board_opens_and_follows_a_case_whose_row_does_not_decode(tmp_path):
    target = resolve_target(str(tmp_path / "casewatch.db"))
    async with await Store.open(target, creator=LEAD) as store:
        case = (await store.execute(c.NewCase(title="Checkout down", customer="Globex", severity=Severity.SEV2),
                                    "dana")).changed_case
        spoil = f"UPDATE cases SET state = '{{\"a\": [1e400]}}', listing = 'not json' WHERE id = '{case.id}'"
        with sqlite3.connect(target.path) as conn:
            conn.execute(spoil)
        board = HeadlessBoard(await Store.open(target))
        await board.start()
        try:
            assert await board.until(lambda: board.live, 5) and board.cases[case.id].title == "Checkout down"
            outcome = await store.execute(c.Note(case_id=case.id, text="still here"), "dana")
            with sqlite3.connect(target.path) as conn:
                conn.execute(spoil)
            assert await board.until(lambda: board.versions()[case.id] == outcome.changed_case.version, 5)
            assert board.live and board.cases[case.id].title == "Checkout down"
        finally:
            await board.close()
