# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""A member (bob, an agent) writes JSON into the projection rows that casewatch cannot decode or
that has the wrong shape, with raw SQL through his own login: every reader falls back to the log
for that case (or leaves out a row the log does not have), `db verify` lists the row and `db
rebuild` repairs it. Before, `cases`, `db verify` and `db rebuild` all failed the same way ("the
database is damaged") and a board went "reconnecting…" for good."""

from __future__ import annotations

import asyncio
import json

import pytest

from casewatch.core import commands as c
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.team.boards import HeadlessBoard
from tests.team.test_attacks import new_case, still_sound
from tests.team.test_team_mode import cw, team  # noqa: F401 - the fixture

_COPY = "INSERT INTO cases SELECT (jsonb_populate_record(c, '{\"id\": \"CW-77\"}')).* FROM cases c WHERE id = $1"

TAMPERING = {
    "listing-1e400": (("UPDATE cases SET listing = '{\"x\": 1e400}' WHERE id = $1",), "cases {case}: differs in listing"),
    "state-1e400": (("UPDATE cases SET state = '{\"a\": [1e400]}' WHERE id = $1",), "cases {case}: differs in state"),
    "facts-1e400": (("UPDATE cases SET facts = '{\"a\": 1e400}' WHERE id = $1",), "cases {case}: differs in facts"),
    "made-up-case": ((_COPY, "UPDATE cases SET state = '{\"a\": [1e400]}', listing = '{\"a\": 1e400}' "
                             "WHERE id = 'CW-77'"), "cases CW-77: not in the log"),
    "made-up-handoff": (("INSERT INTO handoffs (id, prepared_at, prepared_by, to_lead, packet, last_event_id) "
                         "VALUES (999, now(), 'alice', 'alice', '{\"a\": 1e400}', 1)",), "handoffs 999: not in the log"),
    "listing-title-object": (("UPDATE cases SET listing = jsonb_set(listing::jsonb, '{title}', '{\"a\": 1}')::json "
                              "WHERE id = $1",), "cases {case}: differs in listing"),
    "listing-clock-float": (("UPDATE cases SET listing = jsonb_set(listing::jsonb, '{clocks,1}', "
                             "'[null, 1e300, 0, null]')::json WHERE id = $1",), "cases {case}: differs in listing"),
    "state-year-1": (("UPDATE cases SET state = jsonb_set(state::jsonb, '{escalated_at}', "
                      "'\"0001-01-01T00:00:00Z\"')::json WHERE id = $1",), "cases {case}: differs in state"),
    "state-naive-time": (("UPDATE cases SET state = jsonb_set(state::jsonb, '{updated_at}', "
                          "'\"2026-01-01T00:00:00\"')::json WHERE id = $1",), "cases {case}: differs in state"),
    "state-of-another-case": (("UPDATE cases SET state = (SELECT state FROM cases WHERE id = 'CW-1001') "
                               "WHERE id = $1",), "cases {case}: differs in state"),
}


def tamper(team, statements: tuple[str, ...], case_id: str) -> None:
    for statement in statements:
        team.sql("bob", statement, *((case_id,) if "$1" in statement else ()))


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_a_projection_row_that_does_not_decode_is_read_from_the_log_listed_and_repaired(team, capsys, kind):
    statements, listed = TAMPERING[kind]
    new_case(team, capsys)
    case_id = new_case(team, capsys, "bob", "SEV3")
    tamper(team, statements, case_id)
    code, out, err = cw(capsys, "cases", "--json", "--db", team.url("alice"))
    assert code == 0, err
    shown = {row["id"]: row for row in json.loads(out)}
    assert len(shown) == len(json.loads(out)), out  # once each
    assert set(shown) == {"CW-1001", case_id} and shown[case_id]["title"] == "Checkout down", shown
    for who in ("alice", "bob"):
        code, out, err = cw(capsys, "--tz", "America/New_York", "case", "show", case_id, "--db", team.url(who))
        assert code == 0 and "Checkout down" in out, err
    code, _, err = cw(capsys, "metrics", "--db", team.url("alice"))
    assert code == 0, err
    code, out, err = cw(capsys, "db", "verify", "--db", team.url("alice"))
    assert code == 1 and listed.format(case=case_id) in out, out + err
    still_sound(team, capsys)  # bob's rebuild repairs it; verify then finds nothing
    assert team.sql("admin", "SELECT count(*) AS n FROM cases WHERE id = 'CW-77'")[0]["n"] == 0
    assert team.sql("admin", "SELECT count(*) AS n FROM handoffs")[0]["n"] == 0


def test_a_board_opens_and_stays_live_on_rows_that_do_not_decode(team, capsys):
    """The board reads open cases at start and every case a notification names: a tampered row
    is folded from the log both times."""
    case_id = new_case(team, capsys, "bob", "SEV3")
    team.sql("bob", "UPDATE cases SET state = '{\"a\": [1e400]}', listing = '{\"a\": 1e400}' WHERE id = $1", case_id)

    async def board() -> None:
        watcher = HeadlessBoard(await Store.open(resolve_target(team.url("alice"))))
        await watcher.start()
        try:
            assert await watcher.until(lambda: watcher.live, 10), watcher.feed.status
            assert watcher.cases[case_id].title == "Checkout down"
            async with await Store.open(resolve_target(team.url("bob"))) as writer:
                outcome = await writer.execute(c.Note(case_id=case_id, text="still here"), "bob")
            await asyncio.to_thread(team.sql, "bob", "UPDATE cases SET state = '{\"a\": 1e400}', "
                                    "version = version + 1 WHERE id = $1", case_id)
            assert await watcher.until(lambda: watcher.versions().get(case_id, 0) >= outcome.changed_case.version, 5)
            await asyncio.sleep(0.5)
            assert watcher.live and watcher.cases[case_id].title == "Checkout down", watcher.feed.status
        finally:
            await watcher.close()

    asyncio.run(board())
