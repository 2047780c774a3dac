"""Issue 9, defect 13: `casewatch --demo` removes its temporary database however the board ends:
on `q`, and on SIGTERM or SIGHUP (a closed terminal window). A real process on a real pty."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_demo(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """Start the demo board on a new pty, with its temporary files under `tmp_path`."""
    main, child = pty.openpty()
    os.set_blocking(main, False)
    env = {**os.environ, "TMPDIR": str(tmp_path), "CASEWATCH_USER": "dana", "TERM": "xterm-256color",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "COLUMNS": "120", "LINES": "40"}
    env.pop("CASEWATCH_DB", None)
    process = subprocess.Popen([sys.executable, "-m", "casewatch.cli.main", "--demo"], stdin=child, stdout=child,
                               stderr=child, cwd=ROOT, env=env, start_new_session=True)
    os.close(child)
    return process, main


def pump(main: int, until, timeout: float = 60.0) -> str:
    """Read what the board draws (it must not block on a full pty) until `until(output)` holds."""
    output = b""
    deadline = time.monotonic() + timeout
    while not until(output.decode(errors="replace")):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the board drew: {output[-2000:]!r}")
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                output += os.read(main, 65536)
            except OSError:  # the process closed the pty
                break
    return output.decode(errors="replace")


@pytest.mark.parametrize("ending", ["q", signal.SIGTERM, signal.SIGHUP])
def test_the_demo_database_is_removed_however_the_board_ends(tmp_path, ending):
    process, main = run_demo(tmp_path)
    try:
        pump(main, lambda drawn: "SEV1" in drawn and list(tmp_path.glob("casewatch-demo-*/demo.db")))
        if ending == "q":
            os.write(main, b"q")
        else:
            process.send_signal(ending)
        pump(main, lambda _drawn: process.poll() is not None)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    assert not list(tmp_path.glob("casewatch-demo-*")), "the demo database was left behind"
