"""Hostile text already in the database (from an older version or an import) never reaches a terminal
raw: not through `cases`, `case show`, `people list`, confirmations and errors, nor the board."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from casewatch.cli.main import main
from casewatch.core.models import Event, EventType, Person, Role
from casewatch.core.projection import apply
from casewatch.storage import convert
from casewatch.storage.schema import cases
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from tests.conftest import FrozenClock
from tests.tui.helpers import palette_hits, workers_done

ATTACKS = {
    "title": "Login \x1b]0;pwned\x07 fails\nCW-9999  SEV1  resolved  forged row",
    "customer": "AC\u200bME\x1b]52;c;ZXZpbA==\x07",
    "summary": "sum\x1b[1A\x1b[2Kforged timeline entry\x9b31m\ufeff\U000e0041",
    "name": "mall\u202eory\x1b[2J\u2060",
    "note": "note\x1b[2J\r\x1b[1A\x1b[2K2026-11-27 14:00 UTC  dana  forged\u061c\u200f",
}
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"  # all but newline
                 "\u061c\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")  # and invisible characters
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")


async def plant(location: str) -> None:
    """Write events as an older casewatch or an importer might have, past today's validation."""
    async with await Store.open(resolve_target(location), clock=FrozenClock(NOW), creator=LEAD) as store, \
            store._writer.begin() as conn:
        events = [
            Event(type=EventType.PERSON_ADDED, actor="dana", occurred_at=NOW, recorded_at=NOW,
                  payload={"name": ATTACKS["name"], "role": "agent", "tz": "UTC", "team": None, "before": None}),
            Event(type=EventType.CASE_CREATED, case_id="CW-1001", actor=ATTACKS["name"], occurred_at=NOW,
                  recorded_at=NOW, payload={
                      "title": ATTACKS["title"], "customer": ATTACKS["customer"], "summary": ATTACKS["summary"],
                      "severity": "SEV1", "route": "incident", "route_authority": None}),
        ]
        note = Event(type=EventType.NOTE_ADDED, case_id="CW-1001", actor=ATTACKS["name"], occurred_at=NOW,
                     recorded_at=NOW, payload={"text": ATTACKS["note"]})
        person, *case_events = [*events, note]
        await store._project(conn, await store._append(conn, person))
        case = None
        for event in case_events:
            stored = await store._append(conn, event)
            case = apply(case, stored)
        assert case is not None and stored.id is not None
        policy = await store._load_policy(conn)
        await conn.execute(insert(cases).values(id=case.id, **convert.case_values(case, stored.id, policy)))


@pytest.fixture
def planted(db_url, capsys):
    assert main(["people", "list", "--db", db_url, "--as", "dana"]) == 0  # a new database, dana its lead
    asyncio.run(plant(db_url))
    capsys.readouterr()
    return db_url


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args", [
    ["cases"], ["case", "show", "CW-1001"], ["people", "list"],
    ["case", "assign", "CW-1001", ATTACKS["name"]],  # a confirmation that names the person
    ["case", "note", "CW-1001", "seen"],
    ["case", "assign", "CW-1001", "ghost\x1b]0;x\x07"],  # an error that echoes its input
])
def test_planted_text_never_reaches_stdout_or_stderr_raw(planted, capsys, args):
    code, out, err = run(capsys, *args, "--db", planted, "--as", "dana")
    assert RAW.search(out) is None, out
    assert RAW.search(err) is None, err
    assert "\x1b" not in out + err and "\u202e" not in out + err
    if args == ["cases"]:
        assert code == 0 and len(out.splitlines()) == 2  # the header and one row: no forged row
        assert "\\x1b]0;pwned\\x07" in out and "\\n" in out
    if args == ["people", "list"]:
        assert len(out.splitlines()) == 3 and "mall\\u202eory\\x1b[2J\\u2060" in out
    if args[:2] == ["case", "show"]:
        timeline = out.split("timeline:\n", 1)[1].splitlines()
        assert len(timeline) == 2 and "forged" in timeline[1] and timeline[1].count("dana") == 1
    if "ghost" in args[-1]:
        assert code == 2 and err.count("\n") == 1


def test_the_filter_matches_text_with_its_invisible_characters_removed(planted, capsys):
    code, out, _ = run(capsys, "cases", "--filter", "acme", "--json", "--db", planted)
    assert code == 0 and [case["id"] for case in json.loads(out)] == ["CW-1001"]
    code, out, _ = run(capsys, "cases", "--filter", "AC\u200bME", "--db", planted)  # typed with one, too
    assert code == 0 and "CW-1001" in out


def test_json_keeps_the_exact_text(planted, capsys):
    code, out, _ = run(capsys, "case", "show", "CW-1001", "--json", "--db", planted)
    shown = json.loads(out)
    assert code == 0 and RAW.search(out) is None
    assert (shown["title"], shown["customer"], shown["summary"]) == (
        ATTACKS["title"], ATTACKS["customer"], ATTACKS["summary"])
    assert shown["timeline"][-1]["payload"]["text"] == ATTACKS["note"]
    _, out, _ = run(capsys, "people", "list", "--json", "--db", planted)
    assert ATTACKS["name"] in [p["name"] for p in json.loads(out)]


async def test_the_board_and_case_screen_render_no_control_character(tmp_path, frozen_clock):
    db = str(tmp_path / "board.db")
    await plant(db)
    app = CasewatchApp(resolve_target(db), "dana", zone="UTC", clock=frozen_clock, live=False)
    async with app.run_test(size=(200, 50)) as pilot:

        def screen_text() -> str:
            return "\n".join("".join(segment.text for segment in strip)
                             for strip in app.screen._compositor.render_strips())

        async def rendered(marker: str) -> str:
            """The screen once it shows `marker` (the app loads and lays out in its own time)."""
            for _ in range(100):
                await workers_done(app)
                await pilot.pause()
                if marker in (text := screen_text()):
                    return text
            return screen_text()

        board = await rendered("\\x1b]0;pwned\\x07")
        assert "\\x1b]0;pwned\\x07" in board  # the title is there, visibly escaped
        assert RAW.search(board) is None
        hits = await palette_hits(app, pilot, "ACME")  # found, though it is AC\u200bME
        assert any("CW-1001" in hit and "AC\\u200bME" in hit for hit in hits), hits
        assert not any(RAW.search(hit) for hit in hits), hits
        await pilot.press("escape")
        await pilot.press("slash", *"acme", "enter")
        filtered = await rendered("1 shown")
        assert "CW-1001" in filtered, filtered
        app.screen.open_case("CW-1001")
        case_screen = await rendered("forged")
        assert "forged" in case_screen and "mall\\u202eory" in case_screen
        assert RAW.search(case_screen) is None
