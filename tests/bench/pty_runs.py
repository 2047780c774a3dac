"""The installed `casewatch` in a real pseudo-terminal: what a user's terminal gets, not a stand-in.

A program runs in a pty of a fixed size while a thread drains it (so output never blocks) and
stamps every chunk it reads. A *burst* is output with no gap of `QUIET_S` in it: a frame, however
many reads it took. CPU is the program's own (all threads), read from /proc, so a busy machine
slows the figures' wall time but not their CPU time.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

QUIET_S = 0.015  # no output for this long: the frame was written whole
KEY_SETTLED_S = 0.25  # after a key, no output for this long: every frame it causes is written
ESCAPE_SETTLE_S = 0.3  # a lone escape is told from an escape sequence by waiting for more bytes
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: str, ticks_per_s: int = TICKS_PER_S) -> float:
    """User plus system CPU seconds of a process (every thread) from the text of /proc/PID/stat.
    The command name (field 2) is in parentheses and may hold spaces and parentheses itself, so
    the fields are counted from the last ')'."""
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / ticks_per_s


def process_cpu_s(pid: int) -> float:
    return cpu_seconds(Path(f"/proc/{pid}/stat").read_text())


class Terminal:
    """`argv` in a pty of `size` (columns, lines), its output drained and time-stamped."""

    def __init__(self, argv: list[str], size: tuple[int, int], env: dict[str, str]):
        from ptyprocess import PtyProcess

        self.output = bytearray()
        self.chunks: list[tuple[float, int]] = []  # (read at, output length after it)
        self._changed = threading.Condition()
        self.started = time.perf_counter()
        self.process = PtyProcess.spawn(argv, dimensions=(size[1], size[0]), env=env)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.process.fd, 1 << 16)
            except OSError:  # the program ended (EIO on Linux)
                data = b""
            at = time.perf_counter()
            with self._changed:
                if data:
                    self.output += data
                    self.chunks.append((at, len(self.output)))
                self._changed.notify_all()
            if not data:
                return

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid)

    def send(self, keys: bytes) -> float:
        """Write `keys` as typed; returns when (perf_counter)."""
        at = time.perf_counter()
        os.write(self.process.fd, keys)
        return at

    def _wait(self, condition, timeout: float) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                tail = bytes(self.output[-400:])
                raise TimeoutError(f"no such output within {timeout:g} s; the last bytes: {tail!r}")

    def burst_end(self, index: int) -> float:
        """When the burst holding chunk `index` ended: waits until output has been quiet for QUIET_S."""
        while True:
            with self._changed:
                last = len(self.chunks) - 1
                at = self.chunks[-1][0]
            if time.perf_counter() - at >= QUIET_S and last >= index:
                break
            time.sleep(QUIET_S / 3)
        with self._changed:
            end = self.chunks[index][0]
            for read_at, _ in self.chunks[index + 1:]:
                if read_at - end >= QUIET_S:
                    break
                end = read_at
            return end

    def until_text(self, text: bytes, timeout: float = 60) -> float:
        """The end of the burst in which `text` was first written."""
        self._wait(lambda: text in self.output, timeout)
        with self._changed:
            where = self.output.find(text) + len(text)
            index = next(i for i, (_, length) in enumerate(self.chunks) if length >= where)
        return self.burst_end(index)

    def last_output(self, after_chunks: int, quiet_s: float = KEY_SETTLED_S, timeout: float = 10) -> float:
        """When the last output after chunk number `after_chunks` was read, once none has come for
        `quiet_s`: the end of every frame a key causes, however many frames the program splits its
        answer into (the filter bar echoes a letter, then narrows the board a frame later)."""
        self._wait(lambda: len(self.chunks) > after_chunks, timeout)
        while True:
            with self._changed:
                at = self.chunks[-1][0]
            if time.perf_counter() - at >= quiet_s:
                return at
            time.sleep(quiet_s / 10)

    def quiet(self) -> int:
        """Wait until the output has been quiet for QUIET_S; returns the chunk count then."""
        while True:
            with self._changed:
                count, at = len(self.chunks), (self.chunks[-1][0] if self.chunks else 0.0)
            if time.perf_counter() - at >= QUIET_S:
                return count
            time.sleep(QUIET_S / 3)

    def between_frames(self) -> int:
        """Wait for a frame (the clock's tick makes one a second) and the quiet after it, so a key
        sent now is answered long before the next tick; returns the chunk count then."""
        count = self.quiet()
        self._wait(lambda: len(self.chunks) > count, 5)
        return self.quiet()

    def settled(self, window_s: float = 1.0, share: float = 0.1, timeout: float = 180) -> float:
        """Wait until the program used less than `share` of a core over `window_s`: its start-up
        work (a lead's first audit of the whole log, say) is done. Returns the CPU seconds it used
        from start until then, which the figures report beside what they measure after."""
        deadline = time.monotonic() + timeout
        while True:
            before = self.cpu_s()
            time.sleep(window_s)
            after = self.cpu_s()
            if after - before < share * window_s or time.monotonic() >= deadline:
                return after

    def stop(self, keys: bytes = b"q", timeout: float = 10) -> None:
        """Ask the program to leave (`q`); end it when it does not."""
        if self.process.isalive():
            self.send(keys)
            deadline = time.monotonic() + timeout
            while self.process.isalive() and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.process.isalive():
            self.process.terminate(force=True)
        self._reader.join(timeout=5)
        self.process.close(force=True)


def environment(home: Path) -> dict[str, str]:
    """A terminal as a user's: 256 colours, UTF-8, a viewer's zone; no config file but our own."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    return os.environ | {"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8",
                         "TZ": "Europe/Berlin", "XDG_CONFIG_HOME": str(home / "config"),
                         "XDG_DATA_HOME": str(home / "data")}


def first_frame(argv: list[str], ready: bytes, size: tuple[int, int], env: dict[str, str], leave: bytes) -> dict:
    """Process start to the end of the first frame that holds `ready`; the process's CPU by then."""
    terminal = Terminal(argv, size, env)
    try:
        end = terminal.until_text(ready)
        cpu = terminal.cpu_s()
    finally:
        terminal.stop(leave)
    return {"ms": (end - terminal.started) * 1000, "cpu_ms": cpu * 1000}


def idle(argv: list[str], ready: bytes, size: tuple[int, int], env: dict[str, str], seconds: float,
         settle_s: float = 3.0) -> dict:
    """Left alone for `seconds` once ready and settled (start-up work, the first poll and a lead's
    first audit of the log included, is not idle; its CPU is reported as `start_up_cpu_s`):
    its CPU as a share of one core, and the frames and bytes it wrote meanwhile."""
    terminal = Terminal(argv, size, env)
    try:
        terminal.until_text(ready)
        time.sleep(settle_s)
        start_up = terminal.settled()
        cpu, wall, chunks, written = terminal.cpu_s(), time.perf_counter(), len(terminal.chunks), len(terminal.output)
        time.sleep(seconds)
        cpu, wall = terminal.cpu_s() - cpu, time.perf_counter() - wall
        window = terminal.chunks[chunks:]
        bursts = sum(1 for (at, _), (before, _) in zip(window, terminal.chunks[chunks - 1:], strict=False)
                     if at - before >= QUIET_S)
        return {"cpu_percent": cpu / wall * 100, "frames_per_s": bursts / wall,
                "bytes_per_s": (len(terminal.output) - written) / wall, "start_up_cpu_s": start_up}
    finally:
        terminal.stop()


def keystrokes(argv: list[str], ready: bytes, size: tuple[int, int], env: dict[str, str], presses: int) -> dict:
    """Milliseconds from a key written to the pty to the end of the frame it causes, each key sent
    just after a tick's frame (so the next tick is most of a second away): `j` (the cursor one row
    down), `/` (the filter bar opens) and one letter typed into it, which narrows the board (escape clears it and closes the bar)."""
    terminal = Terminal(argv, size, env)
    timings: dict[str, list[float]] = {"j": [], "/": [], "letter": []}
    cpu: dict[str, float] = dict.fromkeys(timings, 0.0)
    try:
        terminal.until_text(ready)
        time.sleep(1.0)
        start_up = terminal.settled()

        def press(name: str, keys: bytes) -> None:
            chunks = terminal.between_frames()
            before = terminal.cpu_s()
            sent = terminal.send(keys)
            end = terminal.last_output(chunks)  # well before the next tick's frame, a second after the last
            timings[name].append((end - sent) * 1000)
            cpu[name] += terminal.cpu_s() - before

        for _ in range(presses):
            press("j", b"j")
        for n in range(presses):
            press("/", b"/")
            press("letter", bytes([ord("a") + n % 26]))
            terminal.between_frames()
            terminal.send(b"\x1b")
            time.sleep(ESCAPE_SETTLE_S)  # else the next "/" may arrive as alt+/ of a pending escape
    finally:
        terminal.stop()
    return {"timings_ms": timings, "cpu_ms_per_key": {name: total * 1000 / presses for name, total in cpu.items()},
            "start_up_cpu_s": start_up}
