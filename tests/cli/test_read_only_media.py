"""A database on a read-only mount (or in a directory that cannot hold its `-shm`) can be read:
opened `mode=ro`, and immutable where no `-shm` can be made, so the board has no live follow and
says so. Writing is refused in one line and the file is left as it was."""

from __future__ import annotations

import hashlib

import pytest

from casewatch.cli.main import main
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from tests.cli.mounts import remount_read_only, tmpfs

READS = [["cases"], ["case", "show", "CW-1001"], ["metrics"], ["handoff", "show"], ["db", "verify"],
         ["people", "list"], ["policy", "show"]]


@pytest.fixture
def read_only_db(tmp_path):
    """A casewatch database with one case, on a tmpfs then remounted read-only."""
    with tmpfs(tmp_path / "media", 4096) as mount_point:
        db = mount_point / "cw.db"
        assert main(["case", "new", "--title", "Read me", "--customer", "c", "--severity", "SEV2", "--db", str(db),
                     "--as", "dana"]) == 0
        remount_read_only(mount_point)
        yield db


def test_every_read_works_and_a_write_is_one_line(read_only_db, capsys):
    capsys.readouterr()
    before = hashlib.sha256(read_only_db.read_bytes()).hexdigest()
    target = resolve_target(read_only_db)
    assert target.read_only and target.immutable and target.url.query["immutable"] == "1"
    for args in READS:
        code = main([*args, "--db", str(read_only_db), "--as", "dana"])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), (args, err)
    main(["cases", "--db", str(read_only_db)])
    assert "Read me" in capsys.readouterr().out
    code = main(["case", "note", "CW-1001", "x", "--db", str(read_only_db), "--as", "dana"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (f"casewatch: database {read_only_db} is read-only (its directory cannot be written): this "
                   "command writes; ask for write access or work on a copy\n")
    assert hashlib.sha256(read_only_db.read_bytes()).hexdigest() == before
    assert sorted(path.name for path in read_only_db.parent.iterdir()) == ["cw.db"]


async def test_the_board_opens_it_and_says_there_is_no_live_follow(read_only_db, frozen_clock):
    app = CasewatchApp(resolve_target(read_only_db), "dana", zone="UTC", clock=frozen_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if app._state is not None and app._notifications:
                break
        assert app.return_code is None and "CW-1001" in app.state.cases
        said = [notification.message for notification in app._notifications]
        assert any("no live follow" in message for message in said), said
        assert app.feed is None  # nothing polls a file that is read as immutable
