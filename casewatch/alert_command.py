"""The user's alert command (`[alerts] command` in the config file), run for an alert.

The program and its arguments are passed as a list, never through a shell; what the alert says
reaches it as environment variables (a title starting with `-` is data in a variable, never an
option). It gets a minimal environment, not the board's: the board may hold database passwords and
cloud keys (`PGPASSWORD`, `AWS_SECRET_ACCESS_KEY`). Beyond what a desktop notification needs, a
variable reaches the command only when the user names it (`[alerts] env`). It runs in a session of
its own, so that when it hangs the whole process group (a shell script and whatever it started) is
killed after `timeout_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence

from casewatch.core.text import visible

TIMEOUT_S = 5.0
STDERR_SHOWN = 200  # characters of the command's last stderr line quoted in a failure


PASSED = ("PATH", "HOME", "LANG", "TZ", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")
"""The board's variables every alert command gets (with `LC_*`): finding programs, the locale, the
desktop session a notification goes to."""


def command_environment(variables: Mapping[str, str], passed: Sequence[str] = (),
                        board: Mapping[str, str] | None = None) -> dict[str, str]:
    """The alert command's whole environment: `PASSED` and `LC_*` from the `board`'s (default: this
    process's), the names in `passed` (`[alerts] env`), then the alert's `variables`."""
    board = os.environ if board is None else board
    wanted = {*PASSED, *passed}
    kept = {name: value for name, value in board.items() if name in wanted or name.startswith("LC_")}
    return kept | dict(variables)


async def run_alert_command(argv: Sequence[str], variables: Mapping[str, str],
                            timeout_s: float = TIMEOUT_S, passed: Sequence[str] = ()) -> str | None:
    """Run `argv` with `variables` in a minimal environment (see `command_environment`; `passed`
    names more of ours to hand over). None when it exited 0; else what went wrong, in one line."""
    program = visible(argv[0])
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, env=command_environment(variables, passed), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        return f"{program}: {exc.strerror or exc}"
    finished = False
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
        finished = True
    except TimeoutError:
        return f"{program} did not finish within {timeout_s:g} s and was stopped"
    finally:
        if not finished:  # timed out (or something it started holds its output open), or the board is closing
            _kill_group(process.pid)
            await process.wait()
    status = process.returncode or 0  # set: communicate() waited for the process
    if status == 0:
        return None
    lines = stderr.decode(errors="replace").strip().splitlines()
    said = f": {visible(lines[-1])[:STDERR_SHOWN]}" if lines else ""
    if status < 0:
        return f"{program} was killed by signal {-status}{said}"
    return f"{program} exited with status {status}{said}"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(pid, signal.SIGKILL)
