"""Exits that tell the truth: database failures in one line with exit 2 or 4, closed stdout, foreign
and read-only files, reads beside a held write lock, and the first-open race on PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casewatch.cli.main import main
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.conftest import create_pg_database, drop_pg_database, pg_admin_url

ROOT = Path(__file__).resolve().parents[2]
READS = [["cases"], ["cases", "--json"], ["case", "show", "CW-1001"], ["case", "show", "CW-1001", "--json"],
         ["people", "list"], ["people", "list", "--json"], ["policy", "show"], ["--help"]]


def cli(*args: str, stdout=subprocess.PIPE, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casewatch.cli.main", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "CASEWATCH_USER": "dana", **(env or {})})


def one_line(result: subprocess.CompletedProcess | tuple, code: int) -> str:
    returncode, err = (result.returncode, result.stderr) if not isinstance(result, tuple) else result
    assert returncode == code, err
    assert err.startswith("casewatch: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "<class" not in err and "asyncpg.exceptions" not in err and "sqlite3." not in err
    return err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def floor(db_url, capsys) -> str:
    """A database with one case and a note; returns its location."""
    assert main(["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", db_url,
                 "--as", "dana"]) == 0
    assert main(["case", "note", "CW-1001", "first", "--db", db_url, "--as", "dana"]) == 0
    capsys.readouterr()
    return db_url


def test_empty_database_location_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWATCH_DB", str(tmp_path / "env.db"))  # an explicit empty --db still wins
    err = one_line(cli("cases", "--db", ""), 2)
    assert err == "casewatch: empty database location: give a file path or a URL\n"
    assert not (tmp_path / "env.db").exists()


def test_a_foreign_sqlite_file_is_left_byte_for_byte_untouched(tmp_path):
    foreign = tmp_path / "crm.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('ada')")
    conn.close()
    before = digest(foreign)
    for args in (["cases"], ["case", "note", "CW-1001", "x"], ["db", "upgrade"]):
        err = one_line(cli(*args, "--db", str(foreign)), 2)
        assert "not a casewatch one" in err
    assert digest(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db"]


@pytest.mark.slow
def test_a_read_only_database_can_be_read_and_refuses_writes_in_one_line(tmp_path, capsys):
    db = tmp_path / "ro.db"
    assert main(["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", str(db),
                 "--as", "dana"]) == 0
    db.chmod(0o444)
    try:
        before = digest(db)
        for args in READS[:-1]:
            result = cli(*args, "--db", str(db))
            assert result.returncode == 0 and result.stderr == "", (args, result.stderr)
        assert "CW-1001" in cli("cases", "--db", str(db)).stdout
        err = one_line(cli("case", "note", "CW-1001", "x", "--db", str(db)), 2)
        assert err == (f"casewatch: database {db} is read-only (no write permission): this command writes; "
                       "ask for write access or work on a copy\n")
        assert digest(db) == before
    finally:
        db.chmod(0o644)


@pytest.mark.slow
def test_a_damaged_database_is_one_line_on_every_read(tmp_path, capsys):
    db = tmp_path / "damaged.db"
    assert main(["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", str(db),
                 "--as", "dana"]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    data[page_size:] = b"\xa5" * (len(data) - page_size)  # every page but the schema page
    db.write_bytes(bytes(data))
    for args in READS[:-1]:
        err = one_line(cli(*args, "--db", str(db)), 2)
        assert err.startswith(f"casewatch: database {db} is damaged (") and "restore it from a backup" in err


def test_a_write_behind_a_held_sqlite_lock_gives_up_with_exit_4(floor, tmp_path, monkeypatch, capsys):
    if "://" in floor:
        pytest.skip("SQLite's busy timeout")
    monkeypatch.setattr("casewatch.storage.engine.BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(floor, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code = main(["case", "note", "CW-1001", "blocked", "--db", floor, "--as", "dana"])
        out, err = capsys.readouterr()
        assert out == ""
        assert one_line((code, err), 4) == (f"casewatch: database {floor} is busy: another process held its "
                                            "write lock too long; nothing was written; try again\n")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert main(["case", "show", "CW-1001", "--json", "--db", floor]) == 0
    assert "blocked" not in capsys.readouterr().out


LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE counters SET value = value")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_reads_finish_within_a_second_while_another_process_holds_the_write_lock(floor, capsys):
    if "://" in floor:
        pytest.skip("SQLite's write lock")
    """Within 1 s of what the same read takes with no lock held (measured first, so a loaded test
    machine does not count against it); a read that waited for the lock would take the 30 s busy timeout."""

    def timed(args: list[str]) -> float:
        started = time.monotonic()
        assert main([*args, "--db", floor, "--as", "dana"]) == 0, capsys.readouterr().err
        return time.monotonic() - started

    unlocked = {tuple(args): timed(args) for args in READS[:-1]}
    capsys.readouterr()
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, floor], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        for args in READS[:-1]:
            assert timed(args) < unlocked[tuple(args)] + 1.0, args
        assert "CW-1001" in capsys.readouterr().out

        async def board_loads():  # what the board reads when it opens and refreshes
            started = time.monotonic()
            async with await Store.open(resolve_target(floor)) as store:
                assert [case.id for case in await store.open_cases()] == ["CW-1001"]
                await store.roster(), await store.policy(), await store.changes_since(0)
            return time.monotonic() - started

        assert asyncio.run(board_loads()) < 1.0 + max(unlocked.values())
    finally:
        holder.communicate("\n", timeout=30)


def closed_pipe():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before we write: `| true`
    return write_end


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_into_a_closed_stdout_exit_0_without_a_traceback(floor, args):
    write_end = closed_pipe()
    try:
        result = cli(*args, "--db", floor, stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_committed_write_into_a_closed_stdout_exits_0_and_lands_once(floor, capsys):
    write_end = closed_pipe()
    try:
        result = cli("case", "note", "CW-1001", "piped note", "--db", floor, stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")
    assert main(["case", "show", "CW-1001", "--json", "--db", floor]) == 0
    notes = [e["payload"].get("text") for e in json.loads(capsys.readouterr().out)["timeline"]]
    assert notes.count("piped note") == 1


def test_a_read_behind_a_postgresql_lock_timeout_is_exit_4(floor, monkeypatch):
    if "://" not in floor:
        pytest.skip("PostgreSQL lock timeout")
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(floor)
    monkeypatch.setenv("CASEWATCH_LOCK_TIMEOUT", "0.3")  # casewatch sets each session's lock_timeout

    async def hold_and_read():
        admin = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                      database=url.database)
        async with admin.transaction():
            await admin.execute("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "casewatch.cli.main", "cases", "--db", floor, cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await process.communicate()
        await admin.close()
        return process.returncode, out.decode(), err.decode()

    code, out, err = asyncio.run(hold_and_read())
    assert out == ""
    assert one_line((code, err), 4).startswith(f"casewatch: database {floor}: waited longer than the lock timeout")
    assert "try again" in err
    assert f"held by {url.username} (table cases, AccessExclusiveLock)" in err, err


def test_a_lock_holders_hostile_name_is_shown_as_visible_text_on_one_line():
    from casewatch.storage.lock_holders import held_by

    line = held_by([("bob\n\x1b[2Jalice", "relation", "cases", "ExclusiveLock"), ("x", "advisory", None, "ExclusiveLock"),
                    ("y", "advisory", None, "ExclusiveLock"), ("z", "advisory", None, "ExclusiveLock")])
    assert line is not None and "\n" not in line and "\x1b" not in line
    assert line.startswith("held by bob") and "(table cases, ExclusiveLock), x (an advisory lock)" in line
    assert line.endswith(", and others")


@pytest.mark.skipif(pg_admin_url() is None, reason="CASEWATCH_TEST_PG_URL is not set")
@pytest.mark.slow
def test_eight_processes_opening_a_new_postgresql_database_all_succeed_with_one_default_policy():
    url = create_pg_database()
    try:
        procs = [subprocess.Popen([sys.executable, "-m", "casewatch.cli.main", "people", "list", "--json",
                                   "--db", url, "--as", f"lead{n}"], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for n in range(8)]
        results = [proc.communicate(timeout=120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 8, [err for _, err in results]

        async def counts():
            async with await Store.open(resolve_target(url)) as store:
                events = await store.all_events()
                return (len([e for e in events if e.type.value == "policy_applied"]), (await store.policy()).version,
                        [p.name for p in (await store.roster()).values()])

        applied, version, roster = asyncio.run(counts())
        assert (applied, version) == (1, 1)
        assert len(roster) == 1 and roster[0].startswith("lead")  # exactly one opener became the first lead
    finally:
        drop_pg_database(url)


def test_the_installed_command_exits_with_the_code_main_returns(tmp_path):
    """The console script (`casewatch.cli.main:run`, which also keeps the collector off what the
    imports built) ends the process with main's exit code, a refusal's included."""
    script = Path(sys.executable).with_name("casewatch")
    db = str(tmp_path / "cw.db")
    done = subprocess.run([str(script), "people", "list", "--db", db, "--as", "dana"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "dana" in done.stdout, done.stderr
    one_line(subprocess.run([str(script), "case", "show", "CW-4040", "--db", db, "--as", "dana"],
                            capture_output=True, text=True, timeout=120), 2)
