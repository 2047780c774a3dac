"""Processes forked from one that has casewatch imported already, for tests that run many of them.

A writer process started as `python -m …` spent half a second of CPU importing casewatch before its
first action; the reliability tests start 44 of them. Here a forkserver (one per test process, its
modules imported once) forks each: a real process of its own, with its own connections, pid and
exit code, that can be killed at any point, whose stdout and stderr are pipes the test reads as it
would a `subprocess.Popen`'s. It gets the test's environment and working folder as of its start.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

PRELOADED = ["tests.cli.writer"]  # imports casewatch's CLI and storage


@cache
def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    return context


def _run(target: Callable[[Sequence[str]], None], argv: Sequence[str], env: dict[str, str], cwd: str,
         out: multiprocessing.connection.Connection, err: multiprocessing.connection.Connection) -> None:
    """In the child: the pipes become fds 1 and 2, and the test's environment and folder are its own."""
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    out.close()
    err.close()
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    os.chdir(cwd)
    target(argv)


class Forked:
    """A forked process running `target(argv)`; reads as a `subprocess.Popen` with text pipes."""

    def __init__(self, target: Callable[[Sequence[str]], None], argv: Sequence[str], cwd: Path):
        context = _context()
        out_read, out_write = context.Pipe(duplex=False)
        err_read, err_write = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(target, list(argv), dict(os.environ), str(cwd),
                                                           out_write, err_write), daemon=True)
        self._process.start()
        out_write.close()  # the child holds the only write ends: its death is the pipes' end
        err_write.close()
        self.stdout = io.TextIOWrapper(io.FileIO(os.dup(out_read.fileno()), "r"), encoding="utf-8")
        self._stderr = io.FileIO(os.dup(err_read.fileno()), "r")
        out_read.close()
        err_read.close()
        self._err = bytearray()
        self._err_drained = threading.Thread(target=self._drain_err, daemon=True)
        self._err_drained.start()  # so a child that writes much to stderr never blocks on it

    def _drain_err(self) -> None:
        while chunk := self._stderr.read(1 << 16):
            self._err += chunk
        self._stderr.close()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """As Popen's: the exit code, or minus the signal that ended it (-9 for SIGKILL)."""
        return self._process.exitcode

    def communicate(self, timeout: float) -> tuple[str, str]:
        """The rest of its stdout and all of its stderr, once it ended."""
        out = self.stdout.read()
        self.stdout.close()
        self._process.join(timeout)
        if self._process.exitcode is None:
            self._process.kill()
            raise TimeoutError(f"forked process {self.pid} still running after {timeout} s")
        self._err_drained.join(timeout)
        return out, self._err.decode("utf-8", "replace")
