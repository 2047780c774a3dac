"""The CLI's edges with the terminal: arguments that are not UTF-8, output that must never carry a
control character, and a stdout whose reader left."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from casewatch.core.errors import InvalidInput
from casewatch.core.text import visible


def check_arguments(argv: Sequence[str]) -> None:
    """Python hands undecodable argument bytes over as lone surrogates; refuse them, naming the argument,
    before anything could store them."""
    for index, arg in enumerate(argv):
        bad = next((n for n, ch in enumerate(arg) if "\udc80" <= ch <= "\udcff"), None)
        if bad is None:
            continue
        if arg.startswith("--") and "=" in arg[:bad]:
            name = arg.split("=", 1)[0]
        elif index > 0 and argv[index - 1].startswith("-") and "=" not in argv[index - 1]:
            name = argv[index - 1]
        else:
            name = f"argument {index + 1}"
        raise InvalidInput(f"{name}: not valid UTF-8 (byte 0x{ord(arg[bad]) - 0xDC00:02X} at position {bad + 1}); "
                           "nothing was written")


class GuardedOutput:
    """stdout or stderr as the CLI writes them.

    Every write passes through `visible` (newlines and tabs kept): whatever text a database holds,
    no control character or bidi override reaches the terminal; JSON stays valid, as the escapes
    are JSON's own. And the stream goes quiet once its reader has gone (`| head`, `| true`) instead
    of raising: output comes after the work, so a write that committed has been done whatever
    happens to its confirmation, and a closed pipe must not turn it into a failure (and a retrying
    wrapper into a duplicate)."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self._stream.write(visible(text, multiline=True))
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self.reader_gone = True
        try:  # the interpreter flushes stdout once more at exit: point the descriptor at /dev/null
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def guarded_output() -> Iterator[None]:
    """Within the block, `sys.stdout` and `sys.stderr` are `GuardedOutput`s; flushed on the way out."""
    saved = sys.stdout, sys.stderr
    guarded = GuardedOutput(saved[0]), GuardedOutput(saved[1])
    sys.stdout, sys.stderr = guarded
    try:
        yield
    finally:
        for stream in guarded:
            stream.flush()
        sys.stdout, sys.stderr = saved


@contextmanager
def signals_end_the_command() -> Iterator[None]:
    """SIGTERM and SIGHUP end the command as an exception would, so its `finally` blocks run (the
    demo's temporary database is removed). The board installs its own handlers while it runs."""
    def end(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {name: signal.signal(getattr(signal, name), end) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
