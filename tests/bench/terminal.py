"""A driver that renders every frame to terminal bytes, as a real terminal session would, and
counts them instead of writing them anywhere; both sides of every comparison run on it."""

from __future__ import annotations

import asyncio
import time

from textual.drivers.headless_driver import HeadlessDriver

SIZE = (200, 60)


class TerminalBytes(HeadlessDriver):
    """Not headless to the app (so `App._display` renders escape sequences); the bytes are counted."""

    frames = 0
    bytes_written = 0
    last_frame_at = 0.0
    _frame: asyncio.Event | None = None

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        TerminalBytes.bytes_written += len(data.encode())

    def flush(self) -> None:
        """Called once per frame, after its bytes were written."""
        TerminalBytes.frames += 1
        TerminalBytes.last_frame_at = time.perf_counter()
        if TerminalBytes._frame is not None:
            TerminalBytes._frame.set()

    @classmethod
    async def next_frame(cls, after: int) -> None:
        """Wait until more than `after` frames were written."""
        while cls.frames <= after:
            cls._frame = asyncio.Event()
            await cls._frame.wait()
