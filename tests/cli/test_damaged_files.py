"""A damaged database is never a traceback: every command on it exits 2 with one line naming the
file and what to do (`casewatch db verify`, a backup), or works when the damage missed what it reads.

Bytes are flipped at seeded random offsets in a few pages of copies of a seeded database (SQLite),
and a stored row is overwritten with what casewatch could never have written (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from casewatch.cli.main import main
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from casewatch.tui.screens.board import BoardScreen

COMMANDS = [["cases"], ["case", "show", "CW-1001"], ["metrics"], ["handoff", "show", "1"], ["db", "verify"]]
COPIES = 8
SEED = 20261207


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    """A database with cases, a shift and a handoff, its log checkpointed into the file."""
    db = tmp_path_factory.mktemp("damaged") / "healthy.db"
    for args in (["seed-demo", "--cases", "30", "--seed", "7"], ["people", "add", "ken", "--role", "lead", "--tz",
                                                                  "UTC"],
                 ["shift", "start"], ["handoff", "prepare", "--to", "ken"]):
        assert main([*args, "--db", str(db), "--as", "dana"]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


def damaged_copies(healthy: Path, where: Path) -> list[Path]:
    """COPIES copies, each with bytes flipped at random offsets in one random page past the first."""
    rng = random.Random(SEED)
    data, page = healthy.read_bytes(), 4096
    copies = []
    for number in range(COPIES):
        flipped = bytearray(data)
        start = rng.randrange(1, len(data) // page) * page
        for _ in range(rng.choice((4, 16, 64))):
            flipped[start + rng.randrange(page)] ^= 1 << rng.randrange(8)
        copy = where / f"copy{number}.db"
        copy.write_bytes(bytes(flipped))
        copies.append(copy)
    return copies


def test_commands_on_a_damaged_file_exit_2_in_one_line_or_work(healthy, tmp_path, capsys):
    refused = 0
    for copy in damaged_copies(healthy, tmp_path):
        for args in COMMANDS:
            code, _, err = run(capsys, *args, "--db", str(copy), "--as", "dana")  # a traceback fails the test
            assert code in (0, 1, 2), (copy.name, args, code, err)
            if code == 0:
                continue
            assert err.count("\n") == 1 and err.startswith("casewatch: "), (copy.name, args, err)
            if code == 2:
                assert f"database {copy} is damaged (" in err and "`casewatch db verify`" in err, err
                assert "restore it from a backup" in err
                refused += 1
            else:  # db verify found rows that differ from the log
                assert args == ["db", "verify"] and "`casewatch db rebuild` repairs them" in err
    assert refused >= 10  # the flips did reach what the commands read


async def test_the_board_starts_or_says_in_one_line_that_the_file_is_damaged(healthy, tmp_path, frozen_clock):
    said = []
    for copy in damaged_copies(healthy, tmp_path):
        app = CasewatchApp(resolve_target(copy), "dana", zone="UTC", clock=frozen_clock, live=False)
        started = False
        async with app.run_test(size=(160, 40)) as pilot:
            for _ in range(100):  # until the board is up, or the app is on its way out
                await pilot.pause()
                started = any(isinstance(screen, BoardScreen) for screen in app.screen_stack)
                if started or app.return_code is not None:
                    break
            message = "".join(str(renderable) for renderable in app._exit_renderables)
        if not started:
            assert app.return_code == 2 and f"database {copy} is damaged (" in message, message
            assert "\n" not in message
            said.append(copy)
    assert said  # some copies could not be opened


async def plant_unreadable_row(location: str) -> None:
    async with await Store.open(resolve_target(location)) as store, store._writer.begin() as conn:
        await conn.execute(text("UPDATE cases SET state = :row, listing = :row, facts = :row WHERE id = 'CW-1001'"),
                           {"row": '{"id": "CW-1001", "title": 7}'})


def test_a_case_row_casewatch_could_not_have_written_is_read_from_the_log_on_both_backends(db_url, capsys):
    """Members may write the case rows: one whose state, listing and facts do not decode no longer
    stops every read ("damaged" until a rebuild); the case is folded from the log, and `db verify`
    names the row."""
    assert run(capsys, "case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", db_url,
               "--as", "dana")[0] == 0
    asyncio.run(plant_unreadable_row(db_url))
    for args in (["cases"], ["case", "show", "CW-1001"], ["metrics"]):
        code, out, err = run(capsys, *args, "--db", db_url, "--as", "dana")
        assert (code, err) == (0, ""), (args, code, err)
        assert args[0] == "metrics" or "CW-1001" in out, out
    code, out, _ = run(capsys, "db", "verify", "--db", db_url, "--as", "dana")
    assert code == 1 and "cases CW-1001: differs in state, facts" in out, out
    assert run(capsys, "handoff", "show", "--db", db_url, "--as", "dana")[:3:2] == (0, "")  # it reads the log
    # a write decides from the log, never from the row, and writes the row afresh
    assert run(capsys, "case", "note", "CW-1001", "x", "--db", db_url, "--as", "dana")[0] == 0
    code, out, err = run(capsys, "case", "show", "CW-1001", "--db", db_url, "--as", "dana")
    assert code == 0 and "x" in out, err


def test_a_listing_that_is_not_one_is_no_listing(db_url, capsys):
    """From the third attack run: `UPDATE cases SET listing = '[1,2]'` (members may write the case
    rows) made `cases`, `db verify` and `db rebuild` fail for good. A stored listing is a cache: one
    that is not an object is no listing: the case is listed from its state, `db verify` names the row
    and `db rebuild` writes it again."""
    assert run(capsys, "case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", db_url,
               "--as", "dana")[0] == 0

    async def plant() -> None:
        async with await Store.open(resolve_target(db_url)) as store, store._writer.begin() as conn:
            await conn.execute(text("UPDATE cases SET listing = :row WHERE id = 'CW-1001'"), {"row": "[1, 2]"})

    asyncio.run(plant())
    code, out, err = run(capsys, "cases", "--db", db_url, "--as", "dana")
    assert code == 0 and err == "" and "CW-1001" in out
    code, out, err = run(capsys, "db", "verify", "--db", db_url, "--as", "dana")  # names the tampered row
    assert code == 1 and "CW-1001" in out and "1 projection row differs" in err
    for args in (["db", "rebuild"], ["db", "verify"]):
        code, out, err = run(capsys, *args, "--db", db_url, "--as", "dana")
        assert code == 0 and err == "", (args, err)
    assert "CW-1001" in run(capsys, "cases", "--db", db_url, "--as", "dana")[1]
