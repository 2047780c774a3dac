"""A full disk is "disk full", exit 4, never "damaged": following "restore it from a backup" would
throw a healthy file away. On a small tmpfs of the test's own (skipped where mounting is not allowed)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from casewatch.cli.main import main
from casewatch.storage.failures import translate
from tests.cli.mounts import tmpfs

SIZE_KIB = 1024


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs mounted for this test only."""
    with tmpfs(tmp_path / "disk", SIZE_KIB) as mount_point:
        yield mount_point


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill `disk` to `leave` bytes free with one padding file; returns the file."""
    pad = disk / "pad"
    with pad.open("ab") as handle:
        while True:
            free = shutil.disk_usage(disk).free
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(4096, free - leave))
                handle.flush()
            except OSError:
                break
    return pad


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_creating_a_database_on_a_full_disk_says_the_disk_is_full(small_disk, capsys):
    fill(small_disk, leave=24 * 1024)
    db = small_disk / "new.db"
    code, out, err = run(capsys, "cases", "--db", str(db), "--as", "dana")
    assert (code, out) == (4, "")
    assert err == f"casewatch: the disk holding {db} is full; nothing was written; free some space and try again\n"


def test_a_write_on_a_full_disk_exits_4_and_the_file_stays_healthy(small_disk, capsys):
    db = small_disk / "cw.db"
    assert run(capsys, "case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--db", str(db),
               "--as", "dana")[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    pad = fill(small_disk)
    code, out, err = run(capsys, "case", "note", "CW-1001", "x" * 16000, "--db", str(db), "--as", "dana")
    assert (code, out, err) == (
        4, "", f"casewatch: the disk holding {db} is full; nothing was written; free some space and try again\n")
    code, out, _ = run(capsys, "cases", "--db", str(db))
    assert code in (0, 4)  # a read may still work on a full disk; if not, it says so, never "damaged"
    pad.unlink()
    assert run(capsys, "db", "verify", "--db", str(db))[0] == 0  # the file was never damaged
    code, out, _ = run(capsys, "case", "show", "CW-1001", "--db", str(db))
    assert code == 0 and "x" * 100 not in out  # nothing of the refused note was written


def test_sqlite_full_and_enospc_are_exit_4_whatever_the_free_space():
    full = translate(sqlite3.OperationalError("database or disk is full"), "/data/cw.db", writing=True,
                     path=Path("/data/cw.db"))
    no_space = translate(OSError(28, "No space left on device"), "/data/cw.db", writing=True,
                         path=Path("/data/cw.db"))
    for error in (full, no_space):
        assert error.exit_code == 4
        assert str(error) == "the disk holding /data/cw.db is full; nothing was written; free some space and try again"
